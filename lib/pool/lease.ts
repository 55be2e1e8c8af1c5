// A lease is what a caller holds while one operation runs on a pooled connection: its own view of the
// connection (revoked on release), so an old holder cannot reach the connection the next holder has.
// It knows its pool only by URI (for its error message), so this module does not import the pool.
import { type Connection, type LeaseView, leaseView } from "../connection.ts";

/**
 * A connection leased from a pool to one operation. Release it (or let `using` do it) when done;
 * {@link discard} instead when the connection is known to be broken.
 *
 * The lease hands out its own view of the pooled connection: once released, every call through
 * {@link connection} (kept in a variable, or held by a handle looked up through it) throws a
 * TypeError "... the lease on this connection was released", and closing it is refused, so the old
 * holder can neither use nor break the connection the next holder has.
 *
 * @example
 * ```ts
 * import { ConnectionPool, type Lease } from "@deno-libvirt/deno-libvirt";
 * await using pool = new ConnectionPool("test:///default", { max: 2 });
 * {
 *   using lease: Lease = await pool.acquire(); // a Lease comes from the pool, never from `new`
 *   console.log(await lease.connection.hostname()); // the host's name (the test driver gives the local one)
 * } // released here: the connection goes back to the pool
 * ```
 */
export class Lease {
  readonly #pool: { readonly uri: string };
  readonly #release: (connection: Connection, broken: boolean) => void;
  #pooled: Connection | null;
  #view: LeaseView | null;

  /** @internal */
  constructor(
    pool: { readonly uri: string },
    connection: Connection,
    release: (c: Connection, broken: boolean) => void,
  ) {
    this.#pool = pool;
    this.#pooled = connection;
    this.#view = leaseView(connection);
    this.#release = release;
  }

  /**
   * The leased connection (this lease's view of it).
   *
   * @throws {TypeError} once the lease is released
   */
  get connection(): Connection {
    if (this.#view === null) {
      throw new TypeError(`Cannot use a released lease of the pool for ${JSON.stringify(this.#pool.uri)}`);
    }
    return this.#view.view;
  }

  /** Returns the connection to the pool. Idempotent. */
  release(): void {
    this.#end(false);
  }

  /** Closes the connection instead of returning it (it is broken). Idempotent. */
  discard(): void {
    this.#end(true);
  }

  #end(broken: boolean): void {
    const connection = this.#pooled;
    if (connection === null) return;
    this.#pooled = null;
    this.#view!.revoke(); // before the pool can hand the connection to anyone else
    this.#view = null;
    this.#release(connection, broken);
  }

  /** Releases the lease (`using lease = await pool.acquire()`). */
  [Symbol.dispose](): void {
    this.release();
  }
}
