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
import { runOpen, runOpenSync } from "./connection/_open_errors.ts";
import { ErrorCode } from "./error_codes.ts";
import { LibvirtError, libvirtErrorFrom } from "./errors.ts";
import { eventLoopRequested } from "./event_loop.ts";
import { takeCString } from "./ffi/c.ts";
// The connection is the layer below the objects: opening (with auth callbacks), closing, its error
// handler, the pointer the event worker gets, and the local liveness checks use the FFI directly
// (tests/layering_test.ts counts them); the getters run the generated one-call methods.
import { libvirt, runBlocking } from "./ffi/library.ts";
import { decodeError, VIR_ERROR_SIZE } from "./ffi/structs.ts";
import { CONNECT_RO } from "./ffi/constants.ts";
import { ConnectionCalls } from "./objects/_generated/connection.js";
import type { CallSubject, ConnectionInternals } from "./_internals.ts";
import { callName, kAdmit, kInternals, kSettle } from "./_internals.ts";
import { reattribute } from "./_handle.ts";
import { authBridge, checkAuth } from "./connection/auth.ts";
import { ArgumentHolds } from "./connection/_holds.ts";
import { DEFAULT_KEEPALIVE, eventLoopForOpen, openArguments, openFailure } from "./connection/_open.ts";
import { LeaseGate, type LeaseState, releasedError, sharedCloseError } from "./connection/_lease.ts";
import type { CloseReport, ConnectionChild, OpenOptions } from "./connection/types.ts";
import { parseVersion, type Version } from "./connection/version.ts";

// The parts in lib/connection/ (credentials, the option and report types, versions, what an open
// decides) are re-exported here: importers name this module.
export type { AuthCallback, AuthOptions, Credential, CredentialKind } from "./connection/auth.ts";
export type { CloseReport, ConnectionChild, OpenOptions } from "./connection/types.ts";
export { parseVersion, type Version } from "./connection/version.ts";

/** @internal The gate through which lib/ modules run calls on a connection (defined in ./_internals.ts). */
export { kInternals };
export type { ConnectionInternals } from "./_internals.ts";

/** A close's report: libvirt's remaining count (-1 on failure reads as 0) and the handles freed. */
function closeReport(remaining: number, freedHandles: number): CloseReport {
  return { remainingReferences: Math.max(remaining, 0), freedHandles };
}

/**
 * The connection's URI: the one given, or for libvirt's default the one libvirt connected to
 * (virConnectGetURI formats the connection's own URI: local, no round trip).
 */
function openedUri(given: string | null, handle: Deno.PointerObject): string {
  return given ?? takeCString(libvirt().symbols.virConnectGetURI(handle)) ?? "";
}

const errorBuffer = new Uint8Array(VIR_ERROR_SIZE); // sync paths only: one call at a time on the main thread

/**
 * The state of one libvirt connection and its call gate, shared by the {@link Connection} that owns it
 * and the per-lease views a pool hands out (see {@link Connection} and lib/pool.ts).
 */
class ConnectionCore {
  readonly uri: string;
  readonly readOnly: boolean;
  /** What the connection was opened with, so that siblings (event connections) open the same way. */
  readonly options: OpenOptions;
  handle: Deno.PointerObject | null;
  busy = false;
  /** Calls run on the calling thread (OpenOptions.blocking). */
  readonly blocking: boolean;
  /** The event loop ran when the connection opened: libvirt attached it (OpenOptions.eventLoop). */
  readonly eventLoop: boolean;
  readonly #waiters: (() => void)[] = [];
  readonly children = new Set<ConnectionChild>();
  closing: Promise<CloseReport> | undefined;
  #shared: Connection | undefined;
  /** Calls on other connections that hold this one as an argument: a close waits for them. */
  readonly holds = new ArgumentHolds();

  constructor(uri: string, options: OpenOptions, handle: Deno.PointerObject, eventLoop: boolean) {
    this.uri = uri;
    this.readOnly = options.readOnly ?? false;
    this.options = options;
    this.blocking = options.blocking === true;
    this.eventLoop = eventLoop;
    this.handle = handle;
    // This connection's errors stay in its own slot, silently: no stderr, no hop to the global handler.
    libvirt().symbols.virConnSetErrorFunc(handle, null, libvirt().silentErrorHandler);
  }

  /** The view handles made in a lease belong to (made on the first); see ConnectionInternals.handleOwner. */
  sharedView(): Connection {
    return this.#shared ??= makeView(this, new LeaseGate<Connection>(this, true));
  }

  /** The raw pointer as a number, or a TypeError for a closed connection. */
  pointerValue(): bigint {
    if (this.handle === null) {
      throw new TypeError(`Cannot use a closed Connection to ${JSON.stringify(this.uri)}`);
    }
    return BigInt(Deno.UnsafePointer.value(this.handle));
  }

  close(): Promise<CloseReport> {
    return this.closing ??= this.#close();
  }

  closeSync(): CloseReport {
    this.holds.refuseSyncClose(this.uri, this.busy);
    const detached = this.#detach();
    if (detached === undefined) return { remainingReferences: 0, freedHandles: 0 };
    this.closing = Promise.resolve({ remainingReferences: 0, freedHandles: 0 });
    return closeReport(libvirt().symbols.virConnectClose(detached.handle), detached.freedHandles);
  }

  async #close(): Promise<CloseReport> {
    await this.#lock();
    try {
      await this.holds.drain(); // a migration to this connection: its domain handle is freed below
      const detached = this.#detach();
      if (detached === undefined) return { remainingReferences: 0, freedHandles: 0 };
      return closeReport(
        await libvirt().symbols.virConnectCloseAsync(detached.handle),
        detached.freedHandles,
      );
    } finally {
      this.#unlock();
    }
  }

  /**
   * What both closes do before libvirt's close: the handles still open are freed and the pointer is
   * taken from the connection (undefined when it was closed already).
   */
  #detach(): { handle: Deno.PointerObject; freedHandles: number } | undefined {
    const handle = this.handle;
    if (handle === null) return undefined;
    const freedHandles = this.children.size;
    for (const child of [...this.children]) child.free();
    this.children.clear();
    this.handle = null;
    return { handle, freedHandles };
  }

  #lock(): Promise<void> | void {
    if (!this.busy) {
      this.busy = true;
      return;
    }
    return this.#queue();
  }

  /** Waits for the lock held by another call: #unlock hands it over (busy stays true). */
  #queue(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #unlock(): void {
    const next = this.#waiters.shift();
    if (next) next(); // hand the lock over directly: busy stays true
    else this.busy = false;
  }

  /**
   * The gate (ConnectionInternals.call and callOn). Once the lock is held, a lease view's call is
   * refused if its `lease` ended meanwhile. One promise of its own and one await of the call's: a free
   * lock is taken without awaiting anything (an `await` of nothing still costs a microtask turn). For
   * callOn (`subject`), `run` gets the subject's pointer, admitted in the lock, and the subject is
   * settled once the C call returned, before its error is read and the next call gets the lock.
   */
  async call<T, U = T>(
    operation: (() => string) | undefined,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (result: T) => boolean,
    wrap: ((result: T) => U) | undefined,
    lease: LeaseState | undefined,
    subject?: CallSubject,
    verb = "",
  ): Promise<U> {
    if (this.busy) await this.#queue();
    else this.busy = true;
    try {
      if (lease?.released) throw releasedError(callName(operation, subject, verb));
      const handle = this.handle;
      if (handle === null) {
        throw new TypeError(`Cannot ${callName(operation, subject, verb)}: the connection is closed`);
      }
      const pointer = subject === undefined ? handle : subject[kAdmit](verb); // freed: its TypeError, in the lock
      let result: T;
      try {
        result = await (this.blocking ? runBlocking(() => run(pointer)) : run(pointer));
      } finally {
        subject?.[kSettle]();
      }
      if (failed(result)) {
        throw this.#lastError(handle, callName(operation, subject, verb), new Uint8Array(VIR_ERROR_SIZE));
      }
      return wrap ? wrap(result) : result as unknown as U;
    } finally {
      this.#unlock();
    }
  }

  callSync<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): U {
    if (this.busy) {
      throw new TypeError(
        `Cannot ${operation()}: an asynchronous call is in flight on this connection; use the asynchronous method or another connection`,
      );
    }
    const handle = this.handle;
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

  /** The gate without lease checks: the owner's, and the fast path. */
  internals(): Omit<ConnectionInternals, "handleOwner"> {
    return {
      call: (operation, run, failed, wrap) => this.call(operation, run, failed, wrap, undefined),
      callOn: (subject, verb, run, failed, wrap) =>
        this.call(undefined, run, failed, wrap, undefined, subject, verb),
      callSync: (operation, run, failed, wrap) => this.callSync(operation, run, failed, wrap),
      idle: () => !this.busy,
      track: (child) => void this.children.add(child),
      pointerValue: () => this.pointerValue(),
      hold: (verb) => this.holds.hold(this, verb),
      openOptions: () => this.options,
      eventLoop: () => this.eventLoop,
      release: (child) => void this.children.delete(child),
      identity: this,
    };
  }
}

/** @internal What {@link leaseView} returns to lib/pool.ts. */
export interface LeaseView {
  /** The Connection object the lease holder sees. */
  view: Connection;
  /** Ends the holder's access: calls through `view` throw from now on (also calls queued meanwhile). */
  revoke(): void;
}

let makeView: (core: ConnectionCore, gate: LeaseGate<Connection>) => Connection;
let coreOf: (connection: Connection) => ConnectionCore;

/**
 * @internal A per-lease view of `connection` for lib/pool.ts: the same libvirt connection, but once
 * revoked every call through the view throws "the lease on this connection was released", and its
 * close() cannot close the connection under the next holder.
 */
export function leaseView(connection: Connection): LeaseView {
  const core = coreOf(connection);
  const gate = new LeaseGate<Connection>(core);
  gate.view = makeView(core, gate);
  return gate;
}

/**
 * One open libvirt connection. Create with {@link Connection.open}; close with {@link close} or
 * `await using`.
 *
 * A connection leased from a {@link ConnectionPool} is a view for that one lease: once the lease is
 * released (`pool.use()` returned, `lease.release()`, `using` ended) every call through it throws a
 * TypeError "... the lease on this connection was released", it reads as closed, and its
 * {@link close} refuses instead of closing the connection another caller holds by then.
 *
 * @example
 * ```ts
 * import { Connection } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * console.log(conn); // Connection { uri: "test:///default", read-write }
 * console.log(await conn.hostname(), (await conn.libVersion()).text, await conn.hypervisorType());
 * ```
 */
export class Connection extends ConnectionCalls {
  readonly #core: ConnectionCore;
  readonly #lease: LeaseGate<Connection> | undefined;
  readonly #internals: ConnectionInternals;

  static {
    makeView = (core, gate) => new Connection(core, gate);
    coreOf = (connection) => connection.#core;
  }

  /** The owner's connection (no `lease`), or a lease's (or the shared) view through its gate. */
  private constructor(core: ConnectionCore, lease?: LeaseGate<Connection>) {
    super();
    this.#core = core;
    this.#lease = lease;
    this.#internals = lease ?? { ...core.internals(), handleOwner: () => this };
  }

  /** True when this is a pool lease's view and that lease has ended. */
  get #released(): boolean {
    return this.#lease?.released === true;
  }

  /**
   * Opens a connection to a hypervisor URI.
   *
   * @param uri a libvirt URI: `test:///default`, `qemu:///system`, `qemu+ssh://user@host/system`, ...;
   *   or null (or `""`) for libvirt's default, chosen the way virsh without `-c` chooses it: the
   *   `LIBVIRT_DEFAULT_URI` environment variable, else `uri_default` in libvirt.conf, else the first
   *   hypervisor that answers. libvirt reads the variable itself (no `--allow-env` needed); the
   *   connection's `uri` is then the one libvirt connected to. With `eventLoop: "auto"` such an open
   *   starts the loop (the default might name a remote host).
   * @param options read-only, credentials, keepalive
   * @returns the open connection
   * @throws {TypeError} for a URI, username or password that contains a NUL character or is not a string
   * @throws {LibvirtError} (often {@link AuthFailedError}) when libvirt refuses the URI, naming libvirt's reason;
   *   over SSH a refused key is an {@link AuthFailedError} and a host key that cannot be verified a
   *   `HostKeyVerificationError`, each saying what to check (docs/design.md, "Remote hosts over SSH")
   * @throws {LibvirtLoadError} when libvirt.so cannot be loaded
   *
   * @example
   * ```ts
   * import { Connection } from "@deno-libvirt/deno-libvirt";
   * // remote hosts: "qemu+ssh://root@host/system?keyfile=/etc/range/id_ed25519&no_tty=1"
   * await using conn = await Connection.open("test:///default", { readOnly: true });
   * console.log(conn.readOnly, conn.isAlive()); // true true
   * // libvirt's own default, as `virsh` without -c (here LIBVIRT_DEFAULT_URI=test:///default):
   * // await using local = await Connection.open(null); console.log(local.uri);
   * ```
   */
  static async open(uri: string | null, options: OpenOptions = {}): Promise<Connection> {
    const { given, name } = openArguments(uri);
    checkAuth(given, options.auth);
    const lib = libvirt().symbols;
    const loopRunning = await eventLoopForOpen(given, options); // OpenOptions.eventLoop's start policy
    const flags = options.readOnly ? CONNECT_RO : 0;
    const bridge = options.auth ? authBridge(options.auth) : undefined;
    try {
      const { result: handle, errors } = await runOpen(() =>
        lib.virConnectOpenAuthAsync(name, bridge?.struct ?? null, flags)
      );
      if (handle === null) throw openFailure(given, errors, bridge?.state.cancelled);
      const connection = new Connection(
        new ConnectionCore(openedUri(given, handle), options, handle, loopRunning),
      );
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
   * @param uri a libvirt URI, typically `test:///default` or `test:///path/to/node.xml`; null for
   *   libvirt's default (as {@link Connection.open})
   * @param options read-only, blocking, event loop
   * @returns the open connection
   * @throws {TypeError} for a URI that contains a NUL character or is not a string
   * @throws {LibvirtError} when libvirt refuses the URI
   *
   * @example
   * ```ts
   * import { Connection, listAllDomainsSync } from "@deno-libvirt/deno-libvirt";
   * const conn = Connection.openSync("test:///default");
   * for (using dom of listAllDomainsSync(conn)) console.log(dom.name); // "test"
   * console.log(conn.closeSync()); // { remainingReferences: 0, freedHandles: 0 }
   * ```
   */
  static openSync(uri: string | null, options: Omit<OpenOptions, "auth"> = {}): Connection {
    const { given, name } = openArguments(uri);
    const lib = libvirt().symbols;
    const { result: handle, errors } = runOpenSync(() =>
      lib.virConnectOpenAuth(name, null, options.readOnly ? CONNECT_RO : 0)
    );
    if (handle === null) throw openFailure(given, errors);
    // a loop asked for before this open attaches it
    return new Connection(
      new ConnectionCore(openedUri(given, handle), options, handle, eventLoopRequested()),
    );
  }

  async #startKeepAlive(keepAlive: OpenOptions["keepAlive"]): Promise<void> {
    if (!keepAlive) return;
    try {
      await this.#as(
        `enable keepalive on ${JSON.stringify(this.uri)}`,
        () => this.setKeepAlive(keepAlive.interval, keepAlive.count),
      );
    } catch (error) {
      // In-process drivers have no keepalive (NO_SUPPORT); anything else is worth surfacing.
      if (!(error instanceof LibvirtError && error.code === ErrorCode.NO_SUPPORT)) {
        await this.close();
        throw error;
      }
    }
  }

  /**
   * True when libvirt attached this connection to the event loop at open (see
   * {@link OpenOptions.eventLoop}): keepalive (remote URIs), nonblocking streams and consoles work on it.
   *
   * @example
   * ```ts
   * import { Connection } from "@deno-libvirt/deno-libvirt";
   * await using conn = await Connection.open("test:///default", { eventLoop: "auto" });
   * console.log(conn.eventLoop); // false for a local URI, unless something started the loop before
   * ```
   */
  get eventLoop(): boolean {
    return this.#core.eventLoop;
  }

  /** The URI this connection was opened with. */
  get uri(): string {
    return this.#core.uri;
  }

  /** True when opened read-only. */
  get readOnly(): boolean {
    return this.#core.readOnly;
  }

  /** True once {@link close} has been called, or (a pool lease's view) once the lease was released. */
  get closed(): boolean {
    return this.#core.handle === null || this.#released;
  }

  /** True while an operation runs on this connection. */
  get busy(): boolean {
    return this.#core.busy;
  }

  /**
   * True when the connection is open, not closing and libvirt has not seen it break (local check, no
   * RPC). A remote connection whose daemon went away turns false once the event loop or a call
   * notices; a pool lease's view turns false when its lease is released.
   */
  isAlive(): boolean {
    const core = this.#core;
    return core.handle !== null && core.closing === undefined && !this.#released &&
      libvirt().symbols.virConnectIsAlive(core.handle) === 1;
  }

  /** A cheap round trip to the hypervisor (virConnectGetLibVersion), for health checks. */
  async ping(): Promise<void> {
    await this.libVersion();
  }

  /** The hypervisor host's name. */
  async hostname(): Promise<string> {
    return await this.#as(`get the hostname of ${JSON.stringify(this.uri)}`, () => this.getHostname());
  }

  /** The libvirt version on the other end (the daemon's, for remote URIs). */
  async libVersion(): Promise<Version> {
    const version = await this.#as(
      `get the libvirt version of ${JSON.stringify(this.uri)}`,
      () => this.getLibVersion(),
    );
    return parseVersion(Number(version));
  }

  /** The hypervisor's version (QEMU's, for qemu:// URIs). */
  async hypervisorVersion(): Promise<Version> {
    const version = await this.#as(
      `get the hypervisor version of ${JSON.stringify(this.uri)}`,
      () => this.getVersion(),
    );
    return parseVersion(Number(version));
  }

  /**
   * The driver's name: "QEMU", "TEST", ... ("remote", libvirt's answer once the connection is gone, is a
   * ConnectionLostError: the generated getType's return convention).
   */
  async hypervisorType(): Promise<string> {
    return await this.#as(`get the hypervisor type of ${JSON.stringify(this.uri)}`, () => this.getType());
  }

  /** The URI libvirt actually connected to, after defaults and aliases. */
  async canonicalUri(): Promise<string> {
    return await this.#as(`get the URI of ${JSON.stringify(this.uri)}`, () => this.getUri());
  }

  /** The host's capabilities XML (CPU, guest architectures, machine types). */
  async capabilities(): Promise<string> {
    return await this.#as(
      `get the capabilities of ${JSON.stringify(this.uri)}`,
      () => this.getCapabilities(),
    );
  }

  /** True when the transport is encrypted (TLS, SSH). Local check. */
  isEncrypted(): boolean {
    const handle = this.#core.handle;
    return handle !== null && !this.#released && libvirt().symbols.virConnectIsEncrypted(handle) === 1;
  }

  /** True when the transport is secure against eavesdropping (encrypted or a local socket). Local check. */
  isSecure(): boolean {
    const handle = this.#core.handle;
    return handle !== null && !this.#released && libvirt().symbols.virConnectIsSecure(handle) === 1;
  }

  /**
   * Closes the connection once the call in flight (if any) returns; frees handles still open. Safe
   * to call more than once. From the moment it is called the connection reads as not alive, so a
   * pool does not hand it to anyone else. A call on another connection that holds this one as an
   * argument (a migration's destination) is waited for too, without a limit (a hung one: abort it).
   *
   * @returns libvirt's remaining reference count (0: nothing leaked) and how many handles it freed
   * @throws {TypeError} (as a rejection) on a pool lease's view whose lease was released: the
   *   connection belongs to someone else by then
   *
   * @example
   * ```ts
   * import { Connection, lookupDomain } from "@deno-libvirt/deno-libvirt";
   * const conn = await Connection.open("test:///default");
   * await lookupDomain(conn, "test"); // never freed by the caller
   * console.log(await conn.close()); // { remainingReferences: 0, freedHandles: 1 }
   * ```
   */
  close(): Promise<CloseReport> {
    if (this.#released) {
      return Promise.reject(releasedError(`close the connection to ${JSON.stringify(this.uri)}`));
    }
    if (this.#lease?.shared) return Promise.reject(sharedCloseError(this.uri));
    return this.#core.close();
  }

  /**
   * {@link close} without leaving the main thread, for in-process drivers.
   *
   * @throws {TypeError} when a call is in flight on it or holds it (a migration), or on a released lease's view
   */
  closeSync(): CloseReport {
    if (this.#released) throw releasedError(`close the connection to ${JSON.stringify(this.uri)}`);
    if (this.#lease?.shared) throw sharedCloseError(this.uri);
    return this.#core.closeSync();
  }

  /** Closes the connection (`await using conn = await Connection.open(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * How `console.log` and `Deno.inspect` show the connection: its URI and whether it is read-write,
   * read-only, closed or a released lease.
   */
  [Symbol.for("Deno.customInspect")](): string {
    const state = this.#released
      ? "lease released"
      : this.#core.handle === null
      ? "closed"
      : this.readOnly
      ? "read-only"
      : "read-write";
    return `Connection { uri: ${JSON.stringify(this.uri)}, ${state} }`;
  }

  /** @internal */
  get [kInternals](): ConnectionInternals {
    return this.#internals;
  }

  /** Runs one-call methods as one operation, reported in its own words ("get the hostname of ..."). */
  async #as<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw reattribute(error, operation);
    }
  }
}

// The registry entry through which the layers below name Connection (lib/objects/_types.ts).
declare module "./objects/_types.ts" {
  interface ObjectClasses {
    Connection: Connection;
  }
}
