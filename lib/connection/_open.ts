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
export async function eventLoopForOpen(uri: string, options: OpenOptions): Promise<boolean> {
  if (options.keepAlive && options.eventLoop === false) {
    throw new TypeError(
      `Cannot open ${
        JSON.stringify(uri)
      } with keepalive and eventLoop: false: keepalive rides on the event loop`,
    );
  }
  const wanted = options.eventLoop === "auto"
    ? options.keepAlive ? true : isRemoteUri(uri)
    : options.eventLoop ?? true;
  return !wanted && !eventLoopRequested() ? false : await ensureEventLoop();
}

/**
 * The error of an open that returned no connection: the auth bridge's reason when it refused to
 * answer, else the last error libvirt reported while the open ran.
 */
export function openFailure(uri: string, errors: RawError[], cancelled?: string): LibvirtError {
  const operation = `open connection to ${JSON.stringify(uri)}`;
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
  return sshOpenError(uri, operation, last) ?? libvirtErrorFrom(operation, last);
}

/** The URI, or a TypeError naming what was passed instead. */
export function checkUri(uri: unknown): string {
  if (typeof uri !== "string") {
    throw new TypeError(`Cannot open a connection: uri must be a string, got ${describeValue(uri)}`);
  }
  return uri;
}
