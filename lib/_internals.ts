// The key of a connection's call gate and the gate's shape, in a module of their own: the handle base and
// the generated method bases import them without importing lib/connection.ts (which extends them), so no
// import order can reach a base class before it is defined, and the import graph has no cycle.
import type { ConnectionChild, OpenOptions } from "./connection/types.ts";
import type { ObjectClasses } from "./objects/_types.ts";
import type { HeldArgument } from "./ffi/marshal.ts";

/** @internal The gate through which lib/ modules run calls on a connection. */
export const kInternals: unique symbol = Symbol("deno_libvirt.connection.internals");

/** @internal {@link CallSubject}'s admission: the object's pointer for a call the gate admits now. */
export const kAdmit: unique symbol = Symbol("deno_libvirt.handle.admit");
/** @internal {@link CallSubject}'s end of an admitted call: its C function has returned. */
export const kSettle: unique symbol = Symbol("deno_libvirt.handle.settle");
/** @internal how an operation on a handle is named in errors (lib/_handle.ts re-exports it). */
export const kOperation: unique symbol = Symbol("deno_libvirt.handle.operation");

/**
 * @internal The object handle a call acts on, as the gate sees it (lib/_handle.ts's ObjectHandle): the
 * gate admits it once it holds the lock (`kAdmit`: its pointer, or the TypeError of a freed handle;
 * from then on the handle counts the call in flight), tells it when the C call returned (`kSettle`,
 * before the next call or a close gets the lock), and names the operation from it only when an error
 * needs the words (`kOperation`). The handle itself is all the gate needs: no closure per call.
 */
export interface CallSubject {
  [kAdmit](verb: string): Deno.PointerObject;
  [kSettle](): void;
  [kOperation](verb: string): string;
}

/** @internal How a gate names a call in errors: by its `operation`, or by the handle it acts on and the verb. */
export function callName(
  operation: (() => string) | undefined,
  subject: CallSubject | undefined,
  verb = "",
): string {
  return operation !== undefined ? operation() : subject![kOperation](verb);
}

/** @internal */
export interface ConnectionInternals {
  /**
   * Runs one call alone on the connection; a failure return becomes the error of exactly this call.
   * `wrap` turns the result into handles while the connection is still held, so a close cannot slip
   * in between the call and the tracking of what it returned. `run` is called only once the call is
   * admitted (the lock held, the connection open): lib/_handle.ts counts a handle's calls in flight
   * from there.
   */
  call<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): Promise<U>;
  /**
   * {@link call} for a call on an object handle: `run` gets the object's pointer (`subject[kAdmit]`
   * once the call is admitted), the handle is settled when the C call returned, and errors are worded
   * `subject[kOperation](verb)`.
   */
  callOn<T, U = T>(
    subject: CallSubject,
    verb: string,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
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
  /** True when no call holds or waits for the gate: `callSync` runs at once (lib/objects/domain_gate.ts). */
  idle(): boolean;
  /** Registers a handle to be freed if still open when the connection closes. */
  track(child: ConnectionChild): void;
  /** The raw connection pointer as a number, for the event worker (libvirt connections are thread-safe). */
  pointerValue(): bigint;
  /**
   * The connection as an argument of a call on another connection's object (a migration's
   * destination): a libvirt reference of its own until released, so a close() meanwhile cannot free
   * it (the close then reports the reference as remaining, and libvirt closes at the release).
   */
  hold(verb: string): HeldArgument;
  /** The options the connection was opened with, so that lib/events.ts can open a sibling. */
  openOptions(): OpenOptions;
  /** True when libvirt attached the connection to the event loop at open (nonblocking streams work). */
  eventLoop(): boolean;
  /** Forgets a handle that freed itself. */
  release(child: ConnectionChild): void;
  /** The same object for every view of one libvirt connection (a key for per-connection caches). */
  readonly identity: object;
  /**
   * The Connection a handle made through this one belongs to: the connection itself, or, for a pool
   * lease's view, the pool connection's shared handle view (calls allowed after the lease, close refused).
   */
  handleOwner(): ObjectClasses["Connection"];
}
