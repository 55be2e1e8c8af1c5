/**
 * One libvirt connection: open, close, liveness, versions, hostname, capabilities.
 *
 * A connection runs one libvirt call at a time. libvirt keeps a failed call's error in a slot per
 * connection (and per thread), and Deno runs nonblocking calls on a pool of threads, so reading the
 * error is exact only while nothing else runs on that connection (see docs/design.md). Concurrency
 * comes from more connections: {@link ConnectionPool}.
 *
 * @module
 */
import { runOpen, runOpenSync } from "./_open_errors.ts";
import { ErrorCode, ErrorDomain } from "./error_codes.ts";
import { AuthFailedError, LibvirtError, libvirtErrorFrom } from "./errors.ts";
import { ensureEventLoop } from "./event_loop.ts";
import { cString, isNegative, isNull, mallocCString, OutSlot, readCString, takeCString } from "./ffi/c.ts";
import { formatVersion, libvirt } from "./ffi/library.ts";
import {
  decodeCredential,
  decodeError,
  encodeAuth,
  type RawError,
  storeCredentialResult,
  VIR_ERROR_SIZE,
} from "./ffi/structs.ts";
import { authCallbackDefinition, CONNECT_RO, CredentialType } from "./ffi/constants.ts";
import { ConnectionCalls } from "./objects/_generated/connection.ts";
import { kInternals } from "./_internals.ts";

/** The kinds of credential libvirt may ask for while opening a remote or authenticated URI. */
export type CredentialKind =
  | "username"
  | "authname"
  | "language"
  | "cnonce"
  | "passphrase"
  | "echoprompt"
  | "noechoprompt"
  | "realm";

const credentialKinds: Record<number, CredentialKind> = {
  [CredentialType.USERNAME]: "username",
  [CredentialType.AUTHNAME]: "authname",
  [CredentialType.LANGUAGE]: "language",
  [CredentialType.CNONCE]: "cnonce",
  [CredentialType.PASSPHRASE]: "passphrase",
  [CredentialType.ECHOPROMPT]: "echoprompt",
  [CredentialType.NOECHOPROMPT]: "noechoprompt",
  [CredentialType.REALM]: "realm",
};

/** One credential libvirt asks for. */
export interface Credential {
  kind: CredentialKind;
  /** libvirt's prompt text, e.g. "Please enter your authentication name". */
  prompt: string;
  challenge?: string;
  /** What libvirt would use if no answer is given. */
  defaultResult?: string;
}

/**
 * Answers libvirt's credential requests, synchronously (libvirt's open thread waits for it).
 * Return one answer per credential (undefined: use libvirt's default), or null to cancel the open.
 */
export type AuthCallback = (credentials: readonly Credential[]) => readonly (string | undefined)[] | null;

/** Credentials for URIs that authenticate (SASL over qemu+tcp, the test driver's `<auth>`, ...). */
export interface AuthOptions {
  /** Answers "username" and "authname" requests. */
  username?: string;
  /** Answers "passphrase" and "noechoprompt" requests. */
  password?: string;
  /** Answers anything, overriding the two fields above; see {@link AuthCallback}. */
  callback?: AuthCallback;
}

/** Options for {@link Connection.open}. */
export interface OpenOptions {
  /** Open read-only (`VIR_CONNECT_RO`): allowed to non-admin users, refuses changes and guest-agent calls. */
  readOnly?: boolean;
  /** Credentials for URIs that ask for them. */
  auth?: AuthOptions;
  /**
   * Keepalive for remote connections: a ping every `interval` seconds, the connection declared dead
   * after `count` unanswered ones. Default `{ interval: 5, count: 5 }` while the event loop runs
   * (see setEventLoopEnabled); false disables it. Ignored by drivers without keepalive (the in-process
   * test driver).
   */
  keepAlive?: { interval: number; count: number } | false;
}

/** A libvirt or hypervisor version. */
export interface Version {
  major: number;
  minor: number;
  release: number;
  /** libvirt's encoding: major * 1,000,000 + minor * 1,000 + release. */
  number: number;
  /** "9.0.0" */
  text: string;
}

/** What {@link Connection.close} found. */
export interface CloseReport {
  /** libvirt's remaining reference count after the close: 0 means nothing of this connection leaked. */
  remainingReferences: number;
  /** Handles (domains, ...) still open at close, which the close freed. */
  freedHandles: number;
}

/** Something a connection frees when it closes (domain handles and the like). */
export interface ConnectionChild {
  free(): void;
}

/** @internal The gate through which lib/ modules run calls on a connection (defined in ./_internals.ts). */
export { kInternals };

/** @internal */
export interface ConnectionInternals {
  /**
   * Runs one call alone on the connection; a failure return becomes the error of exactly this call.
   * `wrap` turns the result into handles while the connection is still held, so a close cannot slip
   * in between the call and the adoption of what it returned.
   */
  call<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => Promise<T>,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): Promise<U>;
  /** The synchronous twin; throws when an asynchronous call is in flight on this connection. */
  callSync<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): U;
  /** Registers a handle to be freed if still open when the connection closes. */
  adopt(child: ConnectionChild): void;
  /** The raw connection pointer as a number, for the event worker (libvirt connections are thread-safe). */
  pointerValue(): bigint;
  /** The options the connection was opened with, so that lib/events.ts can open a sibling. */
  openOptions(): OpenOptions;
  /** Forgets a handle that freed itself. */
  release(child: ConnectionChild): void;
}

const DEFAULT_KEEPALIVE = { interval: 5, count: 5 };
const errorBuffer = new Uint8Array(VIR_ERROR_SIZE); // sync paths only: one call at a time on the main thread

/** Turns libvirt's numeric version into its parts. */
export function parseVersion(number: number): Version {
  return {
    major: Math.floor(number / 1_000_000),
    minor: Math.floor((number % 1_000_000) / 1_000),
    release: number % 1_000,
    number,
    text: formatVersion(number),
  };
}

function openFailure(uri: string, errors: RawError[]): LibvirtError {
  const last = errors.at(-1) ?? {
    code: ErrorCode.NO_CONNECT,
    domain: ErrorDomain.NONE,
    level: 2,
    message: "libvirt reported no reason",
  };
  return libvirtErrorFrom(`open connection to ${JSON.stringify(uri)}`, last);
}

/** Builds the auth struct and the thread-safe callback that answers libvirt from `auth`. */
function authBridge(auth: AuthOptions) {
  const state: { cancelled?: string } = {};
  const answer = (credentials: Credential[]): (string | undefined)[] | null => {
    if (auth.callback) return [...(auth.callback(credentials) ?? [])] as (string | undefined)[] | null;
    return credentials.map((c) => {
      if (c.kind === "username" || c.kind === "authname") return auth.username ?? c.defaultResult;
      if (c.kind === "passphrase" || c.kind === "noechoprompt") return auth.password;
      return c.defaultResult;
    });
  };
  const callback = Deno.UnsafeCallback.threadSafe(authCallbackDefinition, (array, count) => {
    if (array === null) return -1;
    try {
      const credentials: Credential[] = [];
      for (let i = 0; i < count; i++) {
        const raw = decodeCredential(array, i);
        credentials.push({
          kind: credentialKinds[raw.type] ?? "echoprompt",
          prompt: raw.prompt,
          ...(raw.challenge !== null ? { challenge: raw.challenge } : {}),
          ...(raw.defaultResult !== null ? { defaultResult: raw.defaultResult } : {}),
        });
      }
      const answers = answer(credentials);
      if (answers === null) {
        state.cancelled = "the auth callback cancelled";
        return -1;
      }
      for (let i = 0; i < count; i++) {
        const value = answers[i];
        if (value === undefined) {
          // libvirt would fail with "An error occurred, but the cause is unknown": say what is missing
          const c = credentials[i];
          state.cancelled = `no answer for the ${c.kind} credential (${JSON.stringify(c.prompt)}); ` +
            `pass auth.${
              c.kind === "passphrase" || c.kind === "noechoprompt" ? "password" : "username"
            } or an auth.callback`;
          return -1;
        }
        const copy = mallocCString(value); // libvirt frees cred->result
        storeCredentialResult(array, i, copy.pointer, copy.length);
      }
      return 0;
    } catch (error) {
      // a throwing callback cancels the open rather than crossing the FFI boundary
      state.cancelled = `the auth callback threw: ${error instanceof Error ? error.message : String(error)}`;
      return -1;
    }
  });
  const { auth: struct, keepAlive } = encodeAuth(Object.keys(credentialKinds).map(Number), callback.pointer);
  return { struct, keepAlive, callback, state };
}

/**
 * One open libvirt connection. Create with {@link Connection.open}; close with {@link close} or
 * `await using`.
 *
 * @example
 * ```ts ignore
 * import { Connection } from "./connection.ts";
 * await using conn = await Connection.open("test:///default");
 * console.log(await conn.hostname(), (await conn.libVersion()).text);
 * ```
 */
export class Connection extends ConnectionCalls {
  readonly #uri: string;
  readonly #readOnly: boolean;
  #options: OpenOptions = {};
  #handle: Deno.PointerObject | null;
  #busy = false;
  readonly #waiters: (() => void)[] = [];
  readonly #children = new Set<ConnectionChild>();
  #closing: Promise<CloseReport> | undefined;
  readonly #internals: ConnectionInternals = {
    call: (operation, run, failed, wrap) => this.#call(operation, run, failed, wrap),
    callSync: (operation, run, failed, wrap) => this.#callSync(operation, run, failed, wrap),
    adopt: (child) => void this.#children.add(child),
    pointerValue: () => {
      if (this.#handle === null) {
        throw new TypeError(`Cannot use a closed Connection to ${JSON.stringify(this.#uri)}`);
      }
      return BigInt(Deno.UnsafePointer.value(this.#handle));
    },
    openOptions: () => this.#options,
    release: (child) => void this.#children.delete(child),
  };

  private constructor(uri: string, readOnly: boolean, handle: Deno.PointerObject) {
    super();
    this.#uri = uri;
    this.#readOnly = readOnly;
    this.#handle = handle;
    // This connection's errors stay in its own slot, silently: no stderr, no hop to the global handler.
    libvirt().symbols.virConnSetErrorFunc(handle, null, libvirt().silentErrorHandler);
  }

  /**
   * Opens a connection to a hypervisor URI.
   *
   * @param uri a libvirt URI: `test:///default`, `qemu:///system`, `qemu+ssh://user@host/system`, ...
   * @param options read-only, credentials, keepalive
   * @returns the open connection
   * @throws {LibvirtError} (often {@link AuthFailedError}) when libvirt refuses the URI, naming libvirt's reason
   * @throws {LibvirtLoadError} when libvirt.so cannot be loaded
   */
  static async open(uri: string, options: OpenOptions = {}): Promise<Connection> {
    const lib = libvirt().symbols;
    const loopRunning = await ensureEventLoop();
    if (options.keepAlive && !loopRunning) {
      throw new TypeError(
        `Cannot open ${
          JSON.stringify(uri)
        } with keepalive: the event loop is disabled (setEventLoopEnabled(false))`,
      );
    }
    const name = cString(uri, "URI");
    const flags = options.readOnly ? CONNECT_RO : 0;
    const bridge = options.auth ? authBridge(options.auth) : undefined;
    try {
      const { result: handle, errors } = await runOpen(() =>
        lib.virConnectOpenAuthAsync(name, bridge?.struct ?? null, flags)
      );
      if (handle === null) {
        const cancelled = bridge?.state.cancelled;
        if (cancelled === undefined) throw openFailure(uri, errors);
        throw new AuthFailedError(`open connection to ${JSON.stringify(uri)}`, {
          code: ErrorCode.AUTH_CANCELLED,
          domain: ErrorDomain.AUTH,
          level: 2,
          message: `authentication cancelled: ${cancelled}`,
        });
      }
      const connection = new Connection(uri, options.readOnly ?? false, handle);
      connection.#options = options;
      if (loopRunning) await connection.#startKeepAlive(options.keepAlive ?? DEFAULT_KEEPALIVE);
      return connection;
    } finally {
      void bridge?.keepAlive; // the credential type array must live until the open returned
      bridge?.callback.close();
    }
  }

  /**
   * Opens a connection without leaving the main thread: for in-process drivers (`test:///...`),
   * where a thread hop would cost more than the open. Blocks the isolate for remote URIs.
   *
   * @throws {LibvirtError} when libvirt refuses the URI
   */
  static openSync(uri: string, options: Omit<OpenOptions, "auth"> = {}): Connection {
    const lib = libvirt().symbols;
    const name = cString(uri, "URI");
    const { result: handle, errors } = runOpenSync(() =>
      lib.virConnectOpenAuth(name, null, options.readOnly ? CONNECT_RO : 0)
    );
    if (handle === null) throw openFailure(uri, errors);
    const connection = new Connection(uri, options.readOnly ?? false, handle);
    connection.#options = options; // so that siblings (event connections) open the same way
    return connection;
  }

  async #startKeepAlive(keepAlive: OpenOptions["keepAlive"]): Promise<void> {
    if (!keepAlive) return;
    try {
      await this.#call(
        () => `enable keepalive on ${JSON.stringify(this.#uri)}`,
        (h) => libvirt().symbols.virConnectSetKeepAliveAsync(h, keepAlive.interval, keepAlive.count),
        isNegative,
      );
    } catch (error) {
      // In-process drivers have no keepalive (NO_SUPPORT); anything else is worth surfacing.
      if (!(error instanceof LibvirtError && error.code === ErrorCode.NO_SUPPORT)) {
        await this.close();
        throw error;
      }
    }
  }

  /** The URI this connection was opened with. */
  get uri(): string {
    return this.#uri;
  }

  /** True when opened read-only. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** True once {@link close} has been called. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /** True while an operation runs on this connection. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * True when the connection is open and libvirt has not seen it break (local check, no RPC). A
   * remote connection whose daemon went away turns false once the event loop or a call notices.
   */
  isAlive(): boolean {
    return this.#handle !== null && libvirt().symbols.virConnectIsAlive(this.#handle) === 1;
  }

  /** A cheap round trip to the hypervisor (virConnectGetLibVersion), for health checks. */
  async ping(): Promise<void> {
    await this.libVersion();
  }

  /** The hypervisor host's name. */
  async hostname(): Promise<string> {
    const pointer = await this.#call(
      () => `get the hostname of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetHostnameAsync(h),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** The libvirt version on the other end (the daemon's, for remote URIs). */
  async libVersion(): Promise<Version> {
    const slot = new OutSlot();
    await this.#call(
      () => `get the libvirt version of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetLibVersionAsync(h, slot.buffer),
      isNegative,
    );
    return parseVersion(slot.number);
  }

  /** The hypervisor's version (QEMU's, for qemu:// URIs). */
  async hypervisorVersion(): Promise<Version> {
    const slot = new OutSlot();
    await this.#call(
      () => `get the hypervisor version of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetVersionAsync(h, slot.buffer),
      isNegative,
    );
    return parseVersion(slot.number);
  }

  /** The driver's name: "QEMU", "TEST", ... */
  async hypervisorType(): Promise<string> {
    const pointer = await this.#call(
      () => `get the hypervisor type of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetTypeAsync(h),
      isNull,
    );
    return readCString(pointer) ?? "";
  }

  /** The URI libvirt actually connected to, after defaults and aliases. */
  async canonicalUri(): Promise<string> {
    const pointer = await this.#call(
      () => `get the URI of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetURIAsync(h),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** The host's capabilities XML (CPU, guest architectures, machine types). */
  async capabilities(): Promise<string> {
    const pointer = await this.#call(
      () => `get the capabilities of ${JSON.stringify(this.#uri)}`,
      (h) => libvirt().symbols.virConnectGetCapabilitiesAsync(h),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** True when the transport is encrypted (TLS, SSH). Local check. */
  isEncrypted(): boolean {
    return this.#handle !== null && libvirt().symbols.virConnectIsEncrypted(this.#handle) === 1;
  }

  /** True when the transport is secure against eavesdropping (encrypted or a local socket). Local check. */
  isSecure(): boolean {
    return this.#handle !== null && libvirt().symbols.virConnectIsSecure(this.#handle) === 1;
  }

  /**
   * Closes the connection once the call in flight (if any) returns; frees handles still open. Safe
   * to call more than once.
   *
   * @returns libvirt's remaining reference count (0: nothing leaked) and how many handles it freed
   */
  close(): Promise<CloseReport> {
    return this.#closing ??= this.#close();
  }

  /**
   * {@link close} without leaving the main thread, for in-process drivers.
   *
   * @throws {TypeError} when a call is in flight on the connection
   */
  closeSync(): CloseReport {
    if (this.#busy) {
      throw new TypeError(
        `Cannot close the connection to ${JSON.stringify(this.#uri)} synchronously: a call is in flight`,
      );
    }
    const handle = this.#handle;
    if (handle === null) return { remainingReferences: 0, freedHandles: 0 };
    const freedHandles = this.#releaseChildren();
    this.#handle = null;
    this.#closing = Promise.resolve({ remainingReferences: 0, freedHandles: 0 });
    const remaining = libvirt().symbols.virConnectClose(handle);
    return { remainingReferences: Math.max(remaining, 0), freedHandles };
  }

  #releaseChildren(): number {
    const count = this.#children.size;
    for (const child of [...this.#children]) child.free();
    this.#children.clear();
    return count;
  }

  async #close(): Promise<CloseReport> {
    await this.#lock();
    try {
      const handle = this.#handle;
      if (handle === null) return { remainingReferences: 0, freedHandles: 0 };
      const freedHandles = this.#releaseChildren();
      this.#handle = null;
      const remaining = await libvirt().symbols.virConnectCloseAsync(handle);
      return { remainingReferences: Math.max(remaining, 0), freedHandles };
    } finally {
      this.#unlock();
    }
  }

  /** Closes the connection (`await using conn = await Connection.open(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `Connection { uri: ${JSON.stringify(this.#uri)}, ${
      this.closed ? "closed" : this.#readOnly ? "read-only" : "read-write"
    } }`;
  }

  /** @internal */
  get [kInternals](): ConnectionInternals {
    return this.#internals;
  }

  #lock(): Promise<void> | void {
    if (!this.#busy) {
      this.#busy = true;
      return;
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #unlock(): void {
    const next = this.#waiters.shift();
    if (next) next(); // hand the lock over directly: #busy stays true
    else this.#busy = false;
  }

  async #call<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => Promise<T>,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): Promise<U> {
    await this.#lock();
    try {
      const handle = this.#handle;
      if (handle === null) throw new TypeError(`Cannot ${operation()}: the connection is closed`);
      const result = await run(handle);
      if (failed(result)) throw this.#lastError(handle, operation(), new Uint8Array(VIR_ERROR_SIZE));
      return wrap ? wrap(result) : result as unknown as U;
    } finally {
      this.#unlock();
    }
  }

  #callSync<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): U {
    if (this.#busy) {
      throw new TypeError(
        `Cannot ${operation()}: an asynchronous call is in flight on this connection; use the asynchronous method or another connection`,
      );
    }
    const handle = this.#handle;
    if (handle === null) throw new TypeError(`Cannot ${operation()}: the connection is closed`);
    const result = run(handle);
    if (failed(result)) throw this.#lastError(handle, operation(), errorBuffer);
    return wrap ? wrap(result) : result as unknown as U;
  }

  /** Reads the error of the call that just failed on this connection (exact: one call at a time). */
  #lastError(handle: Deno.PointerObject, operation: string, buffer: Uint8Array<ArrayBuffer>): LibvirtError {
    const lib = libvirt().symbols;
    lib.virConnCopyLastError(handle, buffer);
    const details = decodeError(buffer);
    lib.virResetError(buffer);
    if (details.code === 0) {
      details.code = ErrorCode.INTERNAL_ERROR;
      details.message = "libvirt reported failure without an error";
    }
    const alive = lib.virConnectIsAlive(handle) === 1;
    return libvirtErrorFrom(operation, details, alive);
  }
}
