/**
 * libvirt's errors as typed exceptions.
 *
 * Every failed libvirt call becomes a {@link LibvirtError} carrying libvirt's `code`, `domain`
 * (the subsystem), `level` and message, plus the operation that failed:
 * `Cannot start domain "web1": Requested operation is not valid: domain is already running`.
 * Scripts branch on the cases they care about with `instanceof` or the predicates below, never on
 * raw numbers or message text.
 *
 * @module
 */
import { ErrorCode, ErrorDomain } from "./error_codes.ts";

export { ErrorCode, ErrorDomain };
export { LibvirtLoadError } from "./ffi/library.ts";

/** How serious libvirt considers an error (`virErrorLevel`). */
export const ErrorLevel = { NONE: 0, WARNING: 1, ERROR: 2 } as const;

/** The key of `table` whose value is `value` (a first match: error names are read once per error, at most). */
function nameIn(table: Readonly<Record<string, number>>, value: number): string | undefined {
  for (const name in table) if (table[name] === value) return name;
  return undefined;
}

/** The fields libvirt reports for a failed call. */
export interface LibvirtErrorDetails {
  /** libvirt's error code (`virErrorNumber`); compare with {@link ErrorCode}. */
  code: number;
  /** The libvirt subsystem that raised it (`virErrorDomain`); compare with {@link ErrorDomain}. */
  domain: number;
  /** {@link ErrorLevel}. */
  level: number;
  /** libvirt's own message, unchanged. */
  message: string;
}

/**
 * A failed libvirt call: the operation, and libvirt's code, subsystem, level and message.
 *
 * @example
 * ```ts
 * import { Connection, ErrorCode, LibvirtError, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * try {
 *   await lookupDomain(conn, "no-such-guest");
 * } catch (error) {
 *   if (!(error instanceof LibvirtError)) throw error;
 *   console.log(error.code === ErrorCode.NO_DOMAIN, error.operation, error.libvirtMessage);
 * }
 * ```
 */
export class LibvirtError extends Error {
  /** libvirt's error code; compare with {@link ErrorCode}. */
  readonly code: number;
  /** The libvirt subsystem ({@link ErrorDomain}). */
  readonly domain: number;
  /** {@link ErrorLevel}. */
  readonly level: number;
  /** libvirt's message, without our "Cannot ..." prefix. */
  readonly libvirtMessage: string;
  /** What the toolkit was doing, e.g. `start domain "web1"`. */
  readonly operation: string;

  /**
   * Makes the error from libvirt's error fields; the message reads "Cannot <operation>: <libvirt's message>".
   *
   * @param operation what failed, phrased to follow "Cannot ": `look up domain "web1"`
   * @param details libvirt's error fields
   */
  constructor(operation: string, details: LibvirtErrorDetails, options?: ErrorOptions) {
    super(
      `Cannot ${operation}: ${details.message || `libvirt reported no message (code ${details.code})`}`,
      options,
    );
    this.name = new.target.name;
    this.operation = operation;
    this.code = details.code;
    this.domain = details.domain;
    this.level = details.level;
    this.libvirtMessage = details.message;
  }

  /** The code's name, e.g. `"NO_DOMAIN"`. */
  get codeName(): string {
    return nameIn(ErrorCode, this.code) ?? `UNKNOWN_${this.code}`;
  }

  /** The subsystem's name, e.g. `"QEMU"`. */
  get domainName(): string {
    return nameIn(ErrorDomain, this.domain) ?? `UNKNOWN_${this.domain}`;
  }
}

/**
 * The object asked for does not exist (domain, network, storage pool or volume, snapshot, ...).
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, NotFoundError } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const found = await lookupDomain(conn, "web1").catch((e) => e instanceof NotFoundError ? undefined : Promise.reject(e));
 * console.log(found ? "exists" : "no such domain");
 * ```
 */
export class NotFoundError extends LibvirtError {}
/**
 * The operation is not valid in the object's current state (start a running domain, ...).
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, OperationInvalidError, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test"); // the test driver's domain, already running
 * await startDomain(dom).catch((e) => {
 *   if (!(e instanceof OperationInvalidError)) throw e;
 *   console.log("already running:", e.libvirtMessage);
 * });
 * ```
 */
export class OperationInvalidError extends LibvirtError {}
/**
 * The driver or this libvirt build does not support the call or argument.
 *
 * @example
 * ```ts
 * import { Connection, NotSupportedError } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * try {
 *   console.log(await conn.getSysinfo(0));
 * } catch (e) {
 *   if (!(e instanceof NotSupportedError)) throw e;
 *   console.log("this driver has no sysinfo");
 * }
 * ```
 */
export class NotSupportedError extends LibvirtError {}
/**
 * The guest agent did not answer (not running, not installed, or hung).
 *
 * @example
 * ```ts
 * import { AgentUnresponsiveError, type Domain } from "@deno-libvirt/deno-libvirt";
 * async function guestTime(dom: Domain): Promise<bigint | undefined> {
 *   try {
 *     return (await dom.getTime(0)).seconds;
 *   } catch (e) {
 *     if (e instanceof AgentUnresponsiveError) return undefined; // no qemu-ga in this guest
 *     throw e;
 *   }
 * }
 * void guestTime;
 * ```
 */
export class AgentUnresponsiveError extends LibvirtError {}
/**
 * libvirt gave up waiting (`OPERATION_TIMEOUT`). Our own waits reject with their signal's reason.
 *
 * @example
 * ```ts
 * import { type Domain, OperationTimeoutError } from "@deno-libvirt/deno-libvirt";
 * async function tryShutdown(dom: Domain): Promise<boolean> {
 *   try {
 *     await dom.shutdown();
 *     return true;
 *   } catch (e) {
 *     if (e instanceof OperationTimeoutError) return false; // libvirt gave up; try again later
 *     throw e;
 *   }
 * }
 * void tryShutdown;
 * ```
 */
export class OperationTimeoutError extends LibvirtError {}
/**
 * Authentication failed, was cancelled, or no usable mechanism was available.
 *
 * @example
 * ```ts
 * import { AuthFailedError, Connection } from "@deno-libvirt/deno-libvirt";
 * async function open(uri: string): Promise<Connection | undefined> {
 *   try {
 *     return await Connection.open(uri);
 *   } catch (e) {
 *     if (!(e instanceof AuthFailedError)) throw e;
 *     console.error(`check the key or credentials for ${uri}: ${e.message}`);
 *     return undefined;
 *   }
 * }
 * void open;
 * ```
 */
export class AuthFailedError extends LibvirtError {}
/**
 * The connection to the hypervisor broke (daemon restarted, socket or SSH session closed).
 *
 * `outcomeUnknown` is true when the failing call may have reached the hypervisor before the
 * connection broke: a non-idempotent call (start, destroy, define) may or may not have happened,
 * so re-read the state before retrying.
 *
 * @example
 * ```ts
 * import { ConnectionLostError, type Domain, startDomain } from "@deno-libvirt/deno-libvirt";
 * async function start(dom: Domain): Promise<void> {
 *   try {
 *     await startDomain(dom);
 *   } catch (e) {
 *     // the daemon went away: the start may or may not have happened, so look before retrying
 *     if (e instanceof ConnectionLostError && e.outcomeUnknown) console.error("re-read the state");
 *     throw e;
 *   }
 * }
 * void start;
 * ```
 */
export class ConnectionLostError extends LibvirtError {
  /** True when the call may or may not have taken effect. */
  readonly outcomeUnknown: boolean;

  /**
   * Makes the error; with `outcomeUnknown` the message also says to re-read the state before retrying.
   *
   * @param operation what failed, phrased to follow "Cannot "
   * @param details libvirt's error fields
   * @param options `outcomeUnknown` adds the warning to re-read state before retrying
   */
  constructor(
    operation: string,
    details: LibvirtErrorDetails,
    options: ErrorOptions & { outcomeUnknown?: boolean } = {},
  ) {
    super(operation, details, options);
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    if (this.outcomeUnknown) {
      this.message += "; the connection broke while the call was in flight, so it may or may not have " +
        "taken effect: re-read the state before retrying";
    }
  }
}

const notFoundCodes = new Set<number>([
  ErrorCode.NO_DOMAIN,
  ErrorCode.NO_NETWORK,
  ErrorCode.NO_STORAGE_POOL,
  ErrorCode.NO_STORAGE_VOL,
  ErrorCode.NO_NODE_DEVICE,
  ErrorCode.NO_INTERFACE,
  ErrorCode.NO_NWFILTER,
  ErrorCode.NO_SECRET,
  ErrorCode.NO_DOMAIN_SNAPSHOT,
  ErrorCode.NO_DOMAIN_METADATA,
  ErrorCode.NO_DOMAIN_CHECKPOINT,
  ErrorCode.NO_DOMAIN_BACKUP,
  ErrorCode.NO_NETWORK_PORT,
  ErrorCode.NO_HOSTNAME,
  ErrorCode.NO_NWFILTER_BINDING,
]);
const notSupportedCodes = new Set<number>([
  ErrorCode.NO_SUPPORT,
  ErrorCode.OPERATION_UNSUPPORTED,
  ErrorCode.ARGUMENT_UNSUPPORTED,
  ErrorCode.CONFIG_UNSUPPORTED,
]);
const authCodes = new Set<number>([
  ErrorCode.AUTH_FAILED,
  ErrorCode.AUTH_CANCELLED,
  ErrorCode.AUTH_UNAVAILABLE,
]);

/** @internal The error codes a dead connection produces, before we confirm with virConnectIsAlive. */
export const connectionFailureCodes: ReadonlySet<number> = new Set<number>([
  ErrorCode.SYSTEM_ERROR,
  ErrorCode.RPC,
  ErrorCode.INTERNAL_ERROR,
  ErrorCode.NO_CONNECT,
  ErrorCode.INVALID_CONN,
]);

/**
 * Builds the most specific error class for libvirt's details.
 *
 * @param operation what failed, phrased to follow "Cannot "
 * @param details libvirt's error fields
 * @param connectionAlive false when the call's connection is known to be dead
 * @example
 * ```ts
 * import { ErrorCode, ErrorDomain, libvirtErrorFrom, NotFoundError } from "@deno-libvirt/deno-libvirt";
 * const error = libvirtErrorFrom("look up domain \"web1\"", {
 *   code: ErrorCode.NO_DOMAIN,
 *   domain: ErrorDomain.QEMU,
 *   level: 2,
 *   message: "Domain not found",
 * });
 * console.log(error instanceof NotFoundError, error.message);
 * ```
 */
export function libvirtErrorFrom(
  operation: string,
  details: LibvirtErrorDetails,
  connectionAlive = true,
): LibvirtError {
  const { code } = details;
  if (!connectionAlive && connectionFailureCodes.has(code)) {
    return new ConnectionLostError(operation, details);
  }
  if (notFoundCodes.has(code)) return new NotFoundError(operation, details);
  if (code === ErrorCode.OPERATION_INVALID) return new OperationInvalidError(operation, details);
  if (notSupportedCodes.has(code)) return new NotSupportedError(operation, details);
  if (code === ErrorCode.AGENT_UNRESPONSIVE) return new AgentUnresponsiveError(operation, details);
  if (code === ErrorCode.OPERATION_TIMEOUT) return new OperationTimeoutError(operation, details);
  if (authCodes.has(code)) return new AuthFailedError(operation, details);
  return new LibvirtError(operation, details);
}

/**
 * True when `error` is a {@link LibvirtError}, and, when codes are given, has one of them.
 *
 * @example
 * ```ts
 * import { ErrorCode, isLibvirtError } from "@deno-libvirt/deno-libvirt";
 * console.log(isLibvirtError(new Error("x"), ErrorCode.NO_DOMAIN)); // false
 * ```
 */
export function isLibvirtError(error: unknown, ...codes: number[]): error is LibvirtError {
  return error instanceof LibvirtError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * True when the object asked for does not exist.
 *
 * @example
 * ```ts
 * import { Connection, isNotFound, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const net = await lookupNetwork(conn, "lab-net").catch((e) => isNotFound(e) ? undefined : Promise.reject(e));
 * console.log(net ? "exists" : "missing");
 * net?.free();
 * ```
 */
export function isNotFound(error: unknown): error is NotFoundError {
  return error instanceof NotFoundError;
}

/**
 * True when the operation is invalid in the current state.
 *
 * @example
 * ```ts
 * import { Connection, isOperationInvalid, lookupDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await startDomain(dom).catch((e) => isOperationInvalid(e) ? undefined : Promise.reject(e));
 * ```
 */
export function isOperationInvalid(error: unknown): error is OperationInvalidError {
  return error instanceof OperationInvalidError;
}

/**
 * True when the driver does not support the call.
 *
 * @example
 * ```ts
 * import { Connection, isNotSupported } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const sysinfo = await conn.getSysinfo(0).catch((e) => isNotSupported(e) ? undefined : Promise.reject(e));
 * console.log(sysinfo ?? "not supported here");
 * ```
 */
export function isNotSupported(error: unknown): error is NotSupportedError {
  return error instanceof NotSupportedError;
}

/**
 * True when the guest agent did not answer.
 *
 * @example
 * ```ts
 * import { type Domain, isAgentUnresponsive } from "@deno-libvirt/deno-libvirt";
 * const hostname = (dom: Domain) => dom.getHostname(0).catch((e) => isAgentUnresponsive(e) ? undefined : Promise.reject(e));
 * void hostname;
 * ```
 */
export function isAgentUnresponsive(error: unknown): error is AgentUnresponsiveError {
  return error instanceof AgentUnresponsiveError;
}

/**
 * True for a libvirt timeout, or an error named TimeoutError from one of our waits (a `DOMException`
 * from the pool or waitForState, an AddressTimeoutError from waitForAddress).
 *
 * @example
 * ```ts
 * import { Connection, isTimeout, lookupDomain, waitForAddress } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const found = await waitForAddress(dom, { timeoutMs: 5_000 }).catch((e) => isTimeout(e) ? undefined : Promise.reject(e));
 * console.log(found?.address.address ?? "no address in time");
 * ```
 */
export function isTimeout(error: unknown): boolean {
  return error instanceof OperationTimeoutError ||
    ((error instanceof DOMException || error instanceof Error) && error.name === "TimeoutError");
}

/**
 * True when authentication failed or was cancelled.
 *
 * @example
 * ```ts
 * import { Connection, isAuthFailed } from "@deno-libvirt/deno-libvirt";
 * const conn = await Connection.open("test:///default").catch((e) => isAuthFailed(e) ? undefined : Promise.reject(e));
 * await conn?.close();
 * ```
 */
export function isAuthFailed(error: unknown): error is AuthFailedError {
  return error instanceof AuthFailedError;
}

/**
 * True when the connection broke under the call.
 *
 * @example
 * ```ts
 * import { ConnectionPool, isConnectionLost } from "@deno-libvirt/deno-libvirt";
 * await using pool = new ConnectionPool("test:///default");
 * const name = await pool.use((conn) => conn.hostname()).catch((e) => isConnectionLost(e) ? undefined : Promise.reject(e));
 * console.log(name);
 * ```
 */
export function isConnectionLost(error: unknown): error is ConnectionLostError {
  return error instanceof ConnectionLostError;
}

/**
 * The SSH host key of the remote host could not be verified: unknown (not in known_hosts) or,
 * worse, different from the one recorded there. A kind of {@link AuthFailedError} (the client could
 * not authenticate the server), so `isAuthFailed` is true for it too.
 *
 * `changed` tells the two apart: an unknown key is fixed by adding it to known_hosts (or accepting
 * it: `no_verify=1` for `qemu+ssh`, `known_hosts_verify=auto` for `qemu+libssh`); a changed key means
 * the host was reinstalled or someone sits in the middle.
 *
 * @example
 * ```ts
 * import { HostKeyVerificationError } from "@deno-libvirt/deno-libvirt";
 * function advice(e: unknown): string {
 *   if (e instanceof HostKeyVerificationError) return e.changed ? "check the host!" : "add its key";
 *   return String(e);
 * }
 * ```
 */
export class HostKeyVerificationError extends AuthFailedError {
  /** True when known_hosts holds a different key for the host (not merely none). */
  readonly changed: boolean;

  /**
   * Makes the error from libvirt's error fields.
   *
   * @param operation what failed, phrased to follow "Cannot "
   * @param details libvirt's error fields
   * @param options `changed` when the recorded host key differs from the one the host showed
   */
  constructor(
    operation: string,
    details: LibvirtErrorDetails,
    options: ErrorOptions & { changed?: boolean } = {},
  ) {
    super(operation, details, options);
    this.changed = options.changed ?? false;
  }
}
