// What a failed open over SSH means. libvirt reports a refused key or an untrusted host key in three
// different ways, none of them an auth code for the ssh binary transport:
//   qemu+ssh (OpenSSH child)  SYSTEM_ERROR/RPC "Cannot recv data: <ssh's stderr>: Connection reset by peer"
//   qemu+libssh               LIBSSH/LIBSSH or AUTH_FAILED/LIBSSH "... failed to authenticate ..."
//   qemu+libssh2              AUTH_FAILED/SSH or SSH/SSH "... Can't verify the session host key"
// (measured against OpenSSH 9.2's sshd and libvirt 9.0). This turns those into AuthFailedError /
// HostKeyVerificationError with libvirt's code, subsystem and message untouched, and a hint naming what
// to check. Anything else stays as libvirtErrorFrom makes it.
import {
  AuthFailedError,
  HostKeyVerificationError,
  type LibvirtError,
  type LibvirtErrorDetails,
} from "../errors.ts";

type SshTransport = "ssh" | "libssh" | "libssh2";

interface Target {
  transport: SshTransport;
  user: string;
  host: string;
  port: string;
  params: URLSearchParams;
}

function target(uri: string): Target | undefined {
  const transport = /^[a-z0-9]+\+(ssh|libssh|libssh2):\/\//i.exec(uri)?.[1]?.toLowerCase() as
    | SshTransport
    | undefined;
  if (!transport) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  return {
    transport,
    // libssh and libssh2 log in as root when the URI names no user; the ssh binary as the local user
    user: decodeURIComponent(url.username) || (transport === "ssh" ? "(the local user)" : "root"),
    host: url.hostname,
    port: url.port || "22",
    params: url.searchParams,
  };
}

const hostKeyPatterns = [
  /Host key verification failed/i, // OpenSSH
  /HOST KEY VERIFICATION FAILED/, // libssh, libssh2: a key that differs from known_hosts
  /Can't verify the session host key/i, // libssh, libssh2: an unknown key and no callback to ask
];
const changedPatterns = [
  /REMOTE HOST IDENTIFICATION HAS CHANGED/i,
  /has changed/i,
  /differs from stored identity/i,
];
const refusedPatterns = [
  /Permission denied \(/i, // OpenSSH: "root@host: Permission denied (publickey)."
  /failed to authenticate/i, // libssh
  /Access denied for/i, // libssh
  /has failed: Username\/PublicKey combination invalid/i, // libssh2
  /error while reading private key/i, // libssh, libssh2
  /no suitable authentication method/i,
];

/**
 * The AuthFailedError (or HostKeyVerificationError) a failed SSH open deserves, or undefined when the
 * URI is no SSH transport or the failure is not about authentication.
 */
export function sshOpenError(
  uri: string,
  operation: string,
  details: LibvirtErrorDetails,
): LibvirtError | undefined {
  const t = target(uri);
  if (!t) return undefined;
  const text = details.message ?? "";
  const where = `${t.host}:${t.port}`;
  const keyfile = t.params.get("keyfile");
  if (hostKeyPatterns.some((p) => p.test(text))) {
    const changed = changedPatterns.some((p) => p.test(text));
    const error = new HostKeyVerificationError(operation, details, { changed });
    error.message += "; " + (changed ? changedHint(t, where) : unknownHint(t, where));
    return error;
  }
  if (refusedPatterns.some((p) => p.test(text))) {
    const error = new AuthFailedError(operation, details);
    const missing = /Identity file (.*) not accessible/.exec(text)?.[1] ??
      (/error while reading private key/i.test(text) ? keyfile : undefined);
    error.message += missing
      ? `; the key file ${JSON.stringify(missing)} cannot be read: check the keyfile= path (it names the ` +
        `private key, not the .pub file) and its permissions`
      : `; the SSH server at ${where} refused the login of ${JSON.stringify(t.user)}: check that ` +
        `${
          keyfile ? `keyfile=${JSON.stringify(keyfile)}` : "a key of yours (keyfile=, ssh-agent or ~/.ssh)"
        } is the private half of a key in that user's authorized_keys on ${t.host}, that it needs no ` +
        `passphrase (or is loaded in ssh-agent), and that sshd lets the user in (for root: ` +
        `PermitRootLogin prohibit-password)${
          t.transport === "ssh" ? "" : "; sshauth=privkey makes libvirt try the key file and nothing else"
        }`;
    return error;
  }
  return undefined;
}

function knownHostsFile(t: Target): string {
  if (t.transport === "ssh") return "the known_hosts file ssh reads (~/.ssh/known_hosts by default)";
  const file = t.params.get("known_hosts");
  return file ? `known_hosts=${JSON.stringify(file)}` : "~/.ssh/known_hosts (set another with known_hosts=)";
}

function unknownHint(t: Target, where: string): string {
  const scan = `ssh-keyscan -p ${t.port} ${t.host}`;
  return t.transport === "ssh"
    ? `ssh does not know the host key of ${where} and may not ask (no_tty=1 or BatchMode): add it to ` +
      `${knownHostsFile(t)}, e.g. with ${scan} after checking its fingerprint (qemu+ssh has no known_hosts ` +
      `parameter; another file needs an ssh config given through command=), or pass no_verify=1 to ` +
      `accept any host key`
    : `the host key of ${where} is not in ${knownHostsFile(t)}: add it (${scan}, after checking its ` +
      `fingerprint), or pass known_hosts_verify=auto to accept and record an unknown key ` +
      `(no_verify does not apply to ${t.transport})`;
}

function changedHint(t: Target, where: string): string {
  return `the host key of ${where} differs from the one in ${knownHostsFile(t)}: if the host was ` +
    `reinstalled, replace the old entry (ssh-keygen -R "[${t.host}]:${t.port}", then add the new key); ` +
    `otherwise someone may be intercepting the connection`;
}
