// PoolRegistry: one ConnectionPool per URI, for scripts that talk to many hosts. Apart from the pool
// itself because it only creates, lists and closes pools.
import { ConnectionPool } from "./connection_pool.ts";
import type { PoolCloseReport, PoolOptions, PoolStats } from "./types.ts";

/**
 * One {@link ConnectionPool} per URI, for scripts that talk to many hosts.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * await using pools = new PoolRegistry({ max: 4 });
 * for (const uri of ["qemu+tcp://10.0.0.2/system", "qemu+tcp://10.0.0.3/system"]) {
 *   console.log(await pools.get(uri).use((c) => c.hostname(), { idempotent: true }));
 * }
 * ```
 */
export class PoolRegistry {
  readonly #defaults: PoolOptions;
  readonly #pools = new Map<string, ConnectionPool>();
  #closed = false;

  /**
   * Makes an empty registry; each URI's pool is created on first {@link PoolRegistry.get}.
   *
   * @param defaults options for every pool this registry creates
   */
  constructor(defaults: PoolOptions = {}) {
    this.#defaults = defaults;
  }

  /**
   * The pool for `uri`, created on first use with the defaults merged with `options` (later calls'
   * options are ignored: the pool exists).
   */
  get(uri: string, options: PoolOptions = {}): ConnectionPool {
    if (this.#closed) {
      throw new TypeError(`Cannot get a pool for ${JSON.stringify(uri)}: the registry is closed`);
    }
    let pool = this.#pools.get(uri);
    if (!pool) {
      pool = new ConnectionPool(uri, { ...this.#defaults, ...options });
      this.#pools.set(uri, pool);
    }
    return pool;
  }

  /** The URIs that have pools. */
  uris(): string[] {
    return [...this.#pools.keys()];
  }

  /** Every pool's statistics, by URI. */
  stats(): Record<string, PoolStats> {
    return Object.fromEntries([...this.#pools].map(([uri, pool]) => [uri, pool.stats()]));
  }

  /** Closes every pool; returns their reports by URI. */
  async closeAll(): Promise<Record<string, PoolCloseReport>> {
    this.#closed = true;
    const entries = await Promise.all(
      [...this.#pools].map(async ([uri, pool]) => [uri, await pool.close()] as const),
    );
    return Object.fromEntries(entries);
  }

  /** Closes every pool (`await using pools = new PoolRegistry()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAll();
  }
}
