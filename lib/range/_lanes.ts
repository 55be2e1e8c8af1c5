// Bounded parallel work over a host's connection pool for the steps of a range phase: leases held for
// the whole phase (lanes), so that a handle looked up once (a storage pool) serves every step on the
// same lease, and a lost connection costs only its own lane. Used by up's storage steps and by down.
import type { Connection } from "../connection.ts";
import { isConnectionLost } from "../errors.ts";
import type { ConnectionPool, Lease } from "../pool.ts";

interface Lane {
  lease: Lease;
  /** Handles looked up on this lease (a storage pool), freed when the lane ends. */
  cache: Map<string, Promise<{ free(): void }>>;
}

/**
 * Leases held for the length of a phase, so that what a step looks up once (the storage pool of a
 * thousand volumes) serves every step that lands on the same connection: a handle is bound to the
 * lease it was looked up under (a pooled connection hands out one view per lease). At most
 * `min(limit, pool.max)` leases per pool; a step finding all of them busy waits for one. A step
 * that fails on a lost connection discards its lease; {@link Lanes.end} frees the cached handles and
 * returns the leases.
 *
 * @example
 * ```ts
 * import { ConnectionPool } from "@deno-libvirt/deno-libvirt";
 * import { lookupStoragePool } from "@deno-libvirt/deno-libvirt";
 * import { Lanes } from "./_lanes.ts";
 * await using pool = new ConnectionPool("test:///default", { max: 2 });
 * const lanes = new Lanes(8);
 * try {
 *   await Promise.all(["a", "b", "c"].map(() =>
 *     lanes.use(pool, async (conn, cached) => {
 *       const p = await cached("pool", () => lookupStoragePool(conn, "default-pool"));
 *       return p.name; // the same handle for every step on this lease
 *     })
 *   ));
 * } finally {
 *   await lanes.end();
 * }
 * ```
 */
export class Lanes {
  readonly #idle = new Map<ConnectionPool, Lane[]>();
  readonly #count = new Map<ConnectionPool, number>();
  readonly #waiting = new Map<ConnectionPool, ((lane: Lane | undefined) => void)[]>();
  #ended = false;

  /** @param limit leases per pool at most (also capped by each pool's `max`) */
  constructor(readonly limit: number) {}

  async #take(pool: ConnectionPool): Promise<Lane> {
    // after end(): a step that was still waiting runs on a lease of its own, returned when it ends
    if (this.#ended) return { lease: await pool.acquire(), cache: new Map() };
    const idle = this.#idle.get(pool);
    if (idle?.length) return idle.pop()!;
    let queue = this.#waiting.get(pool);
    if (!queue) this.#waiting.set(pool, queue = []);
    // wait for a lane of ours to come back; while under the cap, also for the pool to give another
    // (whichever comes first: the pool may be short of connections others hold)
    let handed: ((lane: Lane | undefined) => void) | undefined;
    const back = new Promise<Lane | undefined>((resolve) => queue!.push(handed = resolve));
    const count = this.#count.get(pool) ?? 0;
    if (count >= Math.max(1, Math.min(this.limit, pool.max))) {
      return (await back) ?? await this.#take(pool); // undefined: a lane was discarded, its place is free
    }
    this.#count.set(pool, count + 1);
    const controller = new AbortController();
    const fresh = pool.acquire({ signal: controller.signal }).then(
      (lease): Lane => ({ lease, cache: new Map() }),
    );
    let outcome: { lane: Lane | undefined; from: "back" | "pool" };
    try {
      outcome = await Promise.race([
        back.then((lane) => ({ lane, from: "back" as const })),
        fresh.then((lane) => ({ lane, from: "pool" as const })),
      ]);
    } catch (error) {
      // the pool refused (timeout, closed): give up the place, and the wait for a lane
      this.#count.set(pool, (this.#count.get(pool) ?? 1) - 1);
      const i = queue.indexOf(handed!);
      if (i >= 0) {
        queue.splice(i, 1);
        // the place is free: a step waiting at the cap asks the pool itself (it may hold no lane
        // that could ever come back to it)
        this.#give(pool, undefined);
      } else void back.then((lane) => this.#give(pool, lane)); // handed one meanwhile: pass it on
      throw error;
    }
    if (outcome.from === "pool") {
      const i = queue.indexOf(handed!);
      if (i >= 0) queue.splice(i, 1);
      else void back.then((lane) => this.#give(pool, lane)); // handed one meanwhile: pass it on
      return outcome.lane!;
    }
    // a lane came back first: the pool's lease is not needed (returned if it came anyway)
    controller.abort();
    this.#count.set(pool, (this.#count.get(pool) ?? 1) - 1);
    fresh.then((lane) => lane.lease.release(), () => {});
    return outcome.lane ?? await this.#take(pool);
  }

  #give(pool: ConnectionPool, lane: Lane | undefined): void {
    if (this.#ended) {
      // a step that finished after end(): its lease goes back to the pool at once
      if (lane) {
        this.#free(lane);
        lane.lease.release();
      }
      return;
    }
    const next = this.#waiting.get(pool)?.shift();
    if (next) return next(lane);
    if (lane) {
      let idle = this.#idle.get(pool);
      if (!idle) this.#idle.set(pool, idle = []);
      idle.push(lane);
    }
  }

  /**
   * Runs `fn` on a connection of `pool` held by this set of lanes.
   *
   * @param pool the host's pool
   * @param fn the step; `cached(key, lookup)` returns the handle looked up once per lease
   * @returns what `fn` returns
   * @throws what `fn` throws
   */
  async use<T>(
    pool: ConnectionPool,
    fn: (
      connection: Connection,
      cached: <H extends { free(): void }>(key: string, lookup: () => Promise<H>) => Promise<H>,
    ) => Promise<T>,
  ): Promise<T> {
    if (this.#ended) throw new TypeError("Cannot use lanes that have ended");
    // an idle lane is taken without awaiting #take (its first answer): a step per guest saves the turns
    const idle = this.#idle.get(pool);
    const lane = idle?.length ? idle.pop()! : await this.#take(pool);
    const cached = <H extends { free(): void }>(key: string, lookup: () => Promise<H>): Promise<H> => {
      let handle = lane.cache.get(key);
      if (!handle) {
        handle = lookup();
        lane.cache.set(key, handle);
        handle.catch(() => lane.cache.delete(key)); // a failed lookup is asked again next time
      }
      return handle as Promise<H>;
    };
    try {
      const result = await fn(lane.lease.connection, cached);
      this.#give(pool, lane);
      return result;
    } catch (error) {
      if (isConnectionLost(error) || !lane.lease.connection.isAlive()) {
        this.#free(lane);
        lane.lease.discard();
        this.#count.set(pool, (this.#count.get(pool) ?? 1) - 1);
        this.#give(pool, undefined);
      } else this.#give(pool, lane);
      throw error;
    }
  }

  #free(lane: Lane): void {
    for (const handle of lane.cache.values()) handle.then((h) => h.free(), () => {});
    lane.cache.clear();
  }

  /**
   * Frees the cached handles and returns every lease to its pool; a step still running returns its
   * lease when it ends. Idempotent.
   *
   * @returns once the idle leases are back in their pools
   */
  async end(): Promise<void> {
    this.#ended = true;
    // steps still waiting for a lane take a lease of their own (see #take)
    for (const queue of this.#waiting.values()) for (const next of queue.splice(0)) next(undefined);
    for (const [pool, lanes] of this.#idle) {
      for (const lane of lanes) {
        for (const handle of lane.cache.values()) await handle.then((h) => h.free(), () => {});
        lane.lease.release();
      }
      this.#count.delete(pool);
    }
    this.#idle.clear();
  }
}
