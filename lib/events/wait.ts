/**
 * Waiting for a domain to reach a state, driven by its lifecycle events instead of polling. Used by the
 * lifecycle operations above the objects (shutdownDomain) and by scripts.
 *
 * @module
 */
import { kInternals } from "../connection.ts";
import type { Domain } from "../objects/domain.ts";
import type { DomainStateName } from "../objects/domain_state.ts";
import { domainEvents } from "./subscribe.ts";

/** Options for {@link waitForState}. */
export interface WaitForStateOptions {
  /** Give up after this many ms with a `DOMException` named TimeoutError. */
  timeoutMs?: number;
  /** Stop waiting; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Waits until a domain reaches one of `states`, driven by lifecycle events (no polling): the state is
 * re-read on every event of the domain and after a gap.
 *
 * @param domain the domain (its connection is used to read the state)
 * @param states the state or states to wait for
 * @returns the state reached
 * @param options timeoutMs (a TimeoutError after it) and a signal (rejects with its reason)
 * @throws a `DOMException` TimeoutError naming the domain, the wanted and the current state; the
 *   signal's reason on abort
 *
 * @example
 * ```ts
 * import { Connection, destroyDomain, lookupDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * import { waitForState } from "@deno-libvirt/deno-libvirt/events";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const stopped = waitForState(dom, "shutoff", { timeoutMs: 10_000 });
 * await destroyDomain(dom);
 * console.log(await stopped); // "shutoff"
 * await startDomain(dom);
 * ```
 */
export async function waitForState(
  domain: Domain,
  states: DomainStateName | DomainStateName[],
  options: WaitForStateOptions = {},
): Promise<DomainStateName> {
  const wanted = Array.isArray(states) ? states : [states];
  options.signal?.throwIfAborted();
  const stop = new AbortController();
  const stream = domainEvents(domain.connection.uri, {
    kinds: ["lifecycle"],
    domain: domain.uuid,
    signal: stop.signal,
    open: domain.connection[kInternals].openOptions(),
  });
  let current: DomainStateName | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = new Promise<never>((_, reject) => {
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        reject(
          new DOMException(
            `Timed out after ${options.timeoutMs} ms waiting for domain ${
              JSON.stringify(domain.name)
            } to be ` +
              `${wanted.join(" or ")}; it is ${current ?? "in an unknown state"}`,
            "TimeoutError",
          ),
        );
      }, options.timeoutMs);
    }
    options.signal?.addEventListener("abort", () => reject(options.signal!.reason), { once: true });
  });
  outcome.catch(() => {});
  const watch = (async () => {
    await stream.ready(); // subscribed first, then read: no change can fall in between
    current = (await domain.state()).state;
    if (wanted.includes(current)) return current;
    for await (const _event of stream) {
      current = (await domain.state()).state;
      if (wanted.includes(current)) return current;
    }
    throw new Error("unreachable: the event stream ended while waiting");
  })();
  watch.catch(() => {});
  try {
    return await Promise.race([watch, outcome]);
  } finally {
    clearTimeout(timer);
    stop.abort();
    await stream.close();
  }
}
