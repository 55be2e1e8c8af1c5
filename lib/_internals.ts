// The key of a connection's call gate and the gate's shape, in a module of their own: the handle base and
// the generated method bases import them without importing lib/connection.ts (which extends them), so no
// import order can reach a base class before it is defined, and the import graph has no cycle.
import type { ConnectionChild, OpenOptions } from "./connection/types.ts";
import type { ObjectClasses } from "./objects/_types.ts";

/** @internal The gate through which lib/ modules run calls on a connection. */
export const kInternals: unique symbol = Symbol("deno_libvirt.connection.internals");

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
  /** True when no call holds or waits for the gate: `callSync` runs at once (lib/objects/domain_gate.ts). */
  idle(): boolean;
  /** Registers a handle to be freed if still open when the connection closes. */
  track(child: ConnectionChild): void;
  /** The raw connection pointer as a number, for the event worker (libvirt connections are thread-safe). */
  pointerValue(): bigint;
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
