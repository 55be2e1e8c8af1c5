// What an open decides around libvirt's call: whether the event loop must run first (the policy of
// OpenOptions.eventLoop, by the URI's transport), the argument check, and the error a failed open
// throws (libvirt's last reported error, an SSH failure explained, or the auth callback's refusal).
// Apart from the class so Connection.open reads as the steps it takes.
import { describeValue } from "../_args.ts";
import { sshOpenError } from "./_ssh_errors.ts";
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { AuthFailedError, type LibvirtError, libvirtErrorFrom } from "../errors.ts";
import { ensureEventLoop, eventLoopRequested } from "../event_loop.ts";
import type { RawError } from "../ffi/structs.ts";
import { cString } from "../ffi/c.ts";
import type { OpenOptions } from "./types.ts";

/** The keepalive of a connection on the event loop when OpenOptions.keepAlive is not given. */
export const DEFAULT_KEEPALIVE = { interval: 5, count: 5 };

const remoteTransports = new Set(["tcp", "tls", "ssh", "libssh", "libssh2", "ext"]);

/**
 * True when a URI reaches its driver over the network: a remote transport (`qemu+ssh://...`), or a
 * host without a transport (libvirt's default transport then is TLS). `+unix`, host-less URIs and
 * in-process drivers are local.
 */
function isRemoteUri(uri: string): boolean {
  const match = /^([A-Za-z][\w.-]*?)(?:\+([\w-]+))?:\/\/([^/?#]*)/.exec(uri);
  if (!match) return true; // an alias from libvirt.conf may name any host: assume remote
  const transport = match[2]?.toLowerCase();
  if (transport !== undefined) return remoteTransports.has(transport);
  const host = match[3].replace(/^[^@]*@/, "").replace(/:\d*$/, "");
  return host !== "";
}

/**
 * Applies the start policy of OpenOptions.eventLoop before an open: starts the loop when the open
 * wants it, and tells whether a loop runs (an open that does not want the loop still uses one that
 * runs already: libvirt attaches the connection's socket watch then).
 *
 * @throws {TypeError} for keepalive together with `eventLoop: false`
 */
export async function eventLoopForOpen(uri: string | null, options: OpenOptions): Promise<boolean> {
  if (options.keepAlive && options.eventLoop === false) {
    throw new TypeError(
      `Cannot open ${uriWords(uri)} with keepalive and eventLoop: false: keepalive rides on the event loop`,
    );
  }
  // libvirt's default URI is not known before the open: it may name a remote host, like an alias
  const wanted = options.eventLoop === "auto"
    ? options.keepAlive ? true : uri === null || isRemoteUri(uri)
    : options.eventLoop ?? true;
  return !wanted && !eventLoopRequested() ? false : await ensureEventLoop();
}

/**
 * The error of an open that returned no connection: the auth bridge's reason when it refused to
 * answer, else the last error libvirt reported while the open ran.
 */
export function openFailure(uri: string | null, errors: RawError[], cancelled?: string): LibvirtError {
  const operation = `open connection to ${uriWords(uri)}`;
  if (cancelled !== undefined) {
    return new AuthFailedError(operation, {
      code: ErrorCode.AUTH_CANCELLED,
      domain: ErrorDomain.AUTH,
      level: 2,
      message: `authentication cancelled: ${cancelled}`,
    });
  }
  const last = errors.at(-1) ?? {
    code: ErrorCode.NO_CONNECT,
    domain: ErrorDomain.NONE,
    level: 2,
    message: "libvirt reported no reason",
  };
  return sshOpenError(uri ?? "", operation, last) ?? libvirtErrorFrom(operation, last);
}

/**
 * The URI to open: a string, or null for libvirt's default (`""` is libvirt's word for it too), or a
 * TypeError naming what was passed instead.
 */
export function checkUri(uri: unknown): string | null {
  if (uri === null || uri === "") return null;
  if (typeof uri !== "string") {
    throw new TypeError(
      `Cannot open a connection: uri must be a string (or null for libvirt's default URI), got ${
        describeValue(uri)
      }`,
    );
  }
  return uri;
}

/** How messages name the URI of an open: quoted, or "libvirt's default URI" for null. */
export function uriWords(uri: string | null): string {
  return uri === null ? "libvirt's default URI" : JSON.stringify(uri);
}

/** What both opens check first: the URI (null: libvirt's default) and its C string. */
export function openArguments(uri: unknown): { given: string | null; name: Uint8Array<ArrayBuffer> | null } {
  const given = checkUri(uri);
  return { given, name: given === null ? null : cString(given, "URI") };
}
