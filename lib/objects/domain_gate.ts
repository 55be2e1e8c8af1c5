// The synchronous fast path of the call gate for `blocking: true` connections (callGate), and the
// synchronous call the `...Sync` finders make (callNow), in a module of its own that imports nothing of
// the object layer: lib/objects/domain.ts (callOnce), domain_lookup.ts and domain_call.ts use it without
// adding a member to the object layer's import cycle.
import { type ConnectionInternals, kInternals } from "../_internals.ts";

/** The part of a connection's gate (ConnectionInternals, lib/_internals.ts) callGate uses. */
type Gate = Pick<ConnectionInternals, "openOptions" | "idle" | "callSync" | "call">;

/** A Connection, as far as callGate needs it. */
export interface GateOwner {
  /** The connection's gate. */
  readonly [kInternals]: Gate;
}

/**
 * @internal {@link callOnce} for a call on the connection itself (`run` gets the connection's
 * pointer). On an idle `blocking: true` connection it runs through the synchronous gate at once: no
 * lock to await, no promise chain around the call (~10 µs of CPU per call after a round trip).
 *
 * @param connection the connection
 * @param operation how errors word the call: `look up domain "web1"`
 * @param run the call, as for {@link callOnce}
 * @param failed true for libvirt's failure return
 * @param wrap turns the result into the value, while the connection is still held
 * @returns what `wrap` returns (the result when absent)
 * @throws {LibvirtError} the error of exactly this call; {TypeError} for a closed connection
 */
export function callGate<T, U = T>(
  connection: GateOwner,
  operation: () => string,
  run: (pointer: Deno.PointerObject, now?: boolean) => T | Promise<T>,
  failed: (result: T) => boolean,
  wrap?: (result: T) => U,
): Promise<U> {
  const gate = connection[kInternals];
  const now = gate.openOptions().blocking === true;
  if (now && gate.idle()) {
    try {
      return Promise.resolve(gate.callSync(operation, (h) => run(h, true) as T, failed, wrap));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  // nonblocking: `run` itself, called with the pointer alone (`now` absent: its `...Async` call)
  return gate.call(operation, now ? (h) => run(h, true) : run, failed, wrap);
}

/**
 * @internal {@link callGate}'s synchronous twin, for the `...Sync` finders (lib/objects/domain_lookup.ts):
 * the same `run` (called with `now` true: the blocking C function), on the calling thread, on any
 * connection; throws where callGate rejects.
 *
 * @param connection the connection
 * @param operation how errors word the call
 * @param run the call, as for {@link callGate}; with `now` true it returns its result, not a promise
 * @param failed true for libvirt's failure return
 * @param wrap turns the result into the value
 * @returns what `wrap` returns (the result when absent)
 * @throws {LibvirtError} the error of exactly this call; {TypeError} for a closed connection or a call in flight
 */
export function callNow<T, U = T>(
  connection: GateOwner,
  operation: () => string,
  run: (pointer: Deno.PointerObject, now?: boolean) => T | Promise<T>,
  failed: (result: T) => boolean,
  wrap?: (result: T) => U,
): U {
  return connection[kInternals].callSync(operation, (h) => run(h, true) as T, failed, wrap);
}
