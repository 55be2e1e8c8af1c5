// Small async helpers shared by lib/ modules.

/** Resolves after `ms`; rejects at once with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Calls `fn` once after `ms` unless the returned function cancels it first. For timeouts that rarely
 * fire (a guard raced against a libvirt call): built on `AbortSignal.timeout`, because Deno 2.9's first
 * `setTimeout` loads its Node timers layer (10-35 ms measured here), a cost a one-shot script would pay
 * for a guard it never needs. A cancelled guard's timer is left to expire unobserved.
 *
 * @param ms the delay, ms (outside 0..2^31-1: setTimeout's own handling)
 * @param fn what to call
 * @returns the function that cancels the call
 * @example
 * ```ts
 * import { after } from "./_async.ts";
 * const cancel = after(5_000, () => console.log("too late"));
 * cancel(); // never prints
 * ```
 */
export function after(ms: number, fn: () => void): () => void {
  if (!(ms >= 0 && ms <= 2 ** 31 - 1)) {
    // outside what AbortSignal.timeout takes: setTimeout's own handling, as before
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  }
  const signal = AbortSignal.timeout(Math.ceil(ms));
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}
