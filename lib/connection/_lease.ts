// A pool lease's hold on a connection, as the Connection class keeps it for a lease's view (see
// leaseView in lib/connection.ts): the gate a lease's view calls through (the connection's gate, plus
// the lease check), the state a release flips, and the errors a view gives once its lease ended or when
// a shared view is asked to close. Apart from the class so its open/close/call paths read as the checks
// they make.
//
// One object per lease serves as the lease's state, its view's gate (ConnectionInternals) and what
// leaseView returns (lib/connection.ts's ConnectionInternals and LeaseView): a pool hands out a lease
// per operation, and the gate used to be 12 closures in an object literal, allocated for every lease.
// Typed against a view type `V` (lib/connection.ts's Connection) rather than importing it: this module
// stays below lib/connection.ts, outside the object layer's import cycle.
import type { ConnectionChild, OpenOptions } from "./types.ts";
import type { HeldArgument } from "../ffi/marshal.ts";
import type { ArgumentHolds } from "./_holds.ts";
import { type CallSubject, kOperation } from "../_internals.ts";
import { phrase } from "../_handle.ts";

/** A pool lease's hold on a connection: `released` turns every call through the view away. */
export interface LeaseState {
  released: boolean;
  /** The shared view handles made through any lease belong to: never released, cannot close. */
  shared?: true;
}

/** The error of a call (or close) through a lease's view after the lease was released. */
export function releasedError(operation: string): TypeError {
  return new TypeError(`Cannot ${operation}: the lease on this connection was released`);
}

/** The error of closing the shared view the handles made through any lease belong to. */
export function sharedCloseError(uri: string): TypeError {
  return new TypeError(
    `Cannot close the connection to ${
      JSON.stringify(uri)
    }: it belongs to a ConnectionPool (handles made in a lease keep using it); close the pool instead`,
  );
}

/** What a lease's gate needs of the connection's state (lib/connection.ts's ConnectionCore). */
export interface LeaseCore<V> {
  readonly uri: string;
  readonly options: OpenOptions;
  readonly eventLoop: boolean;
  readonly busy: boolean;
  readonly children: Set<ConnectionChild>;
  /** The gate: named by `operation`, or for a call on an object handle by `subject` and `verb`. */
  call<T, U = T>(
    operation: (() => string) | undefined,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (result: T) => boolean,
    wrap: ((result: T) => U) | undefined,
    lease: LeaseState | undefined,
    subject?: CallSubject,
    verb?: string,
  ): Promise<U>;
  callSync<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T,
    failed: (result: T) => boolean,
    wrap?: (result: T) => U,
  ): U;
  pointerValue(): bigint;
  /** The pointer (null once closed). */
  readonly handle: Deno.PointerObject | null;
  /** Set once close() was called. */
  readonly closing: Promise<unknown> | undefined;
  /** The connection as an argument of another connection's call (ConnectionInternals.hold). */
  readonly holds: ArgumentHolds;
  /** The view handles made through any lease belong to (made once). */
  sharedView(): V;
}

/**
 * The gate of one lease's view (or of the shared view): the connection's gate behind a check of the
 * lease, which a released lease fails with {@link releasedError}, also for calls queued before the
 * release and admitted after it.
 */
export class LeaseGate<V> implements LeaseState {
  released = false;
  readonly shared?: true;
  /** The view this gate serves (set by lib/connection.ts right after making it). */
  view!: V;
  readonly #core: LeaseCore<V>;

  constructor(core: LeaseCore<V>, shared = false) {
    this.#core = core;
    if (shared) this.shared = true;
  }

  /** The same object for every view of one libvirt connection. */
  get identity(): object {
    return this.#core;
  }

  /** Ends the holder's access (LeaseView.revoke). */
  revoke(): void {
    this.released = true;
  }

  call<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): Promise<U> {
    if (this.released) return Promise.reject(releasedError(operation()));
    // the core checks `released` again once it holds the lock: for a call queued before the release
    return this.#core.call(operation, run, failed, wrap, this);
  }

  callOn<T, U = T>(
    subject: CallSubject,
    verb: string,
    run: (handle: Deno.PointerObject) => T | Promise<T>,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): Promise<U> {
    if (this.released) return Promise.reject(releasedError(subject[kOperation](verb)));
    return this.#core.call(undefined, run, failed, wrap, this, subject, verb);
  }

  callSync<T, U = T>(
    operation: () => string,
    run: (handle: Deno.PointerObject) => T,
    failed: (r: T) => boolean,
    wrap?: (r: T) => U,
  ): U {
    if (this.released) throw releasedError(operation());
    return this.#core.callSync(operation, run, failed, wrap);
  }

  idle(): boolean {
    return !this.#core.busy;
  }

  track(child: ConnectionChild): void {
    this.#core.children.add(child);
  }

  release(child: ConnectionChild): void {
    this.#core.children.delete(child);
  }

  pointerValue(): bigint {
    if (this.released) throw releasedError(`use the connection to ${JSON.stringify(this.#core.uri)}`);
    return this.#core.pointerValue();
  }

  hold(verb: string): HeldArgument {
    if (this.released) {
      throw releasedError(phrase(verb, `the connection to ${JSON.stringify(this.#core.uri)}`));
    }
    return this.#core.holds.hold(this.#core, verb);
  }

  openOptions(): OpenOptions {
    return this.#core.options;
  }

  eventLoop(): boolean {
    return this.#core.eventLoop;
  }

  handleOwner(): V {
    return this.#core.sharedView();
  }
}
