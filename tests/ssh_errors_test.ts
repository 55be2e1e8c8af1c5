// What a failed open over SSH becomes, from the messages libvirt 9.0 really gave against the lab's
// OpenSSH 9.2 sshd (tests/integration/ssh_test.ts produces them live).
import assert from "node:assert/strict";
import { sshOpenError } from "../lib/connection/_ssh_errors.ts";
import { AuthFailedError, ErrorCode, ErrorDomain, HostKeyVerificationError, isAuthFailed } from "../mod.ts";

const SSH = "qemu+ssh://root@10.77.9.2:2222/system?keyfile=/keys/id&no_tty=1";
const LIBSSH =
  "qemu+libssh://root@10.77.9.2:2222/system?keyfile=/keys/id&known_hosts=/keys/kh&sshauth=privkey";
const LIBSSH2 = "qemu+libssh2://root@10.77.9.2/system?keyfile=/keys/id&known_hosts=/keys/kh";

function rpc(message: string) {
  return { code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.RPC, level: 2, message };
}
function libssh(message: string, code: number = ErrorCode.LIBSSH) {
  return { code, domain: ErrorDomain.LIBSSH, level: 2, message };
}

Deno.test("ssh errors: OpenSSH's refused key is an AuthFailedError naming the key file and authorized_keys", () => {
  const e = sshOpenError(
    SSH,
    "open connection",
    rpc("Cannot recv data: root@10.77.9.2: Permission denied (publickey).: Connection reset by peer"),
  );
  assert.ok(e instanceof AuthFailedError && !(e instanceof HostKeyVerificationError));
  assert.equal(e.code, ErrorCode.SYSTEM_ERROR, "libvirt's code is kept");
  assert.equal(e.domain, ErrorDomain.RPC);
  assert.match(e.message, /^Cannot open connection: Cannot recv data: .*Permission denied/);
  assert.match(e.message, /refused the login of "root": check that keyfile="\/keys\/id" is the private half/);
  assert.match(e.message, /authorized_keys on 10\.77\.9\.2/);
  assert.doesNotMatch(e.message, /sshauth/, "sshauth means nothing to the ssh binary transport");
});

Deno.test("ssh errors: an unreadable key file says so", () => {
  const e = sshOpenError(
    SSH,
    "open",
    rpc(
      "Cannot recv data: Warning: Identity file /keys/nope not accessible: No such file or directory.\n" +
        "root@10.77.9.2: Permission denied (publickey).: Connection reset by peer",
    ),
  );
  assert.ok(e instanceof AuthFailedError);
  assert.match(e.message, /the key file "\/keys\/nope" cannot be read/);
  const l = sshOpenError(
    LIBSSH,
    "open",
    libssh("authentication failed: error while reading private key '/keys/id'", ErrorCode.AUTH_FAILED),
  );
  assert.match(l!.message, /the key file "\/keys\/id" cannot be read/);
});

Deno.test("ssh errors: unknown and changed host keys are HostKeyVerificationErrors with the fix for the transport", () => {
  const unknown = sshOpenError(
    SSH,
    "open",
    rpc("Cannot recv data: Host key verification failed.: Connection reset by peer"),
  );
  assert.ok(unknown instanceof HostKeyVerificationError && isAuthFailed(unknown));
  assert.equal(unknown.changed, false);
  assert.match(unknown.message, /ssh-keyscan -p 2222 10\.77\.9\.2/);
  assert.match(unknown.message, /no_verify=1/);

  const changed = sshOpenError(
    SSH,
    "open",
    rpc(
      "Cannot recv data: @@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n" +
        "Host key for [10.77.9.2]:2222 has changed and you have requested strict checking.\r\n" +
        "Host key verification failed.: Connection reset by peer",
    ),
  );
  assert.ok(changed instanceof HostKeyVerificationError && changed.changed);
  assert.match(changed.message, /ssh-keygen -R "\[10\.77\.9\.2\]:2222"/);
  assert.match(changed.message, /intercepting/);

  const libsshUnknown = sshOpenError(
    LIBSSH,
    "open",
    libssh(
      "libssh transport error: No user interaction callback provided: Can't verify the session host key",
    ),
  );
  assert.ok(libsshUnknown instanceof HostKeyVerificationError && !libsshUnknown.changed);
  assert.match(libsshUnknown.message, /not in known_hosts="\/keys\/kh"/);
  assert.match(libsshUnknown.message, /known_hosts_verify=auto/);
  assert.match(libsshUnknown.message, /no_verify does not apply to libssh/);

  const libssh2Changed = sshOpenError(LIBSSH2, "open", {
    code: ErrorCode.AUTH_FAILED,
    domain: ErrorDomain.SSH,
    level: 2,
    message: "authentication failed: !!! SSH HOST KEY VERIFICATION FAILED !!!: Identity of host " +
      "'10.77.9.2:22' differs from stored identity.",
  });
  assert.ok(libssh2Changed instanceof HostKeyVerificationError && libssh2Changed.changed);
  assert.match(libssh2Changed.message, /10\.77\.9\.2:22 differs from the one in known_hosts="\/keys\/kh"/);
});

Deno.test("ssh errors: libssh's refused key mentions sshauth=privkey", () => {
  const e = sshOpenError(
    LIBSSH,
    "open",
    libssh(
      "libssh transport error: failed to authenticate: Access denied for 'publickey'. " +
        "Authentication that can continue: publickey",
    ),
  );
  assert.ok(e instanceof AuthFailedError && !(e instanceof HostKeyVerificationError));
  assert.match(e.message, /sshauth=privkey/);
});

Deno.test("ssh errors: other transports and other failures are left alone", () => {
  const refused = rpc("Cannot recv data: ssh: connect to host 10.77.9.2 port 2223: Connection refused");
  assert.equal(sshOpenError(SSH, "open", refused), undefined, "no route or no listener: not an auth failure");
  assert.equal(
    sshOpenError("qemu+tcp://10.77.9.2/system", "open", rpc("Permission denied (publickey)")),
    undefined,
  );
  assert.equal(sshOpenError("test:///default", "open", rpc("Host key verification failed")), undefined);
  assert.equal(
    sshOpenError("qemu+ssh://[broken/system", "open", rpc("Host key verification failed")),
    undefined,
  );
});
