// The acquire queue of a pool: callers waiting for a connection while all `max` are in use, each wait
// bounded by a timeout and an AbortSignal, served first come first served. Apart from ConnectionPool
// so that the timer and listener bookkeeping of a wait sits in one place, next to nothing else.
import type { Connection } from "../connection.ts";

interface Waiter {
  resolve: (connection: Connection | null) => void;
  reject: (reason: unknown) => void;
}

/** What the queue says in its errors. */
export interface WaitQueueOptions {
  /** The pool's URI. */
  uri: string;
  /** The pool's `max`. */
  max: number;
  /** How many callers may wait at once (PoolOptions.maxWaiting). */
  maxWaiting: number;
}

/** Callers waiting for a pooled connection. */
export class WaitQueue {
  readonly #options: WaitQueueOptions;
  readonly #waiters: Waiter[] = [];

  constructor(options: WaitQueueOptions) {
    this.#options = options;
  }

  /** How many callers wait now. */
  get length(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for a connection handed over with {@link handOver}: the connection, or null when a slot was
   * freed (the caller may open one). Rejects with a RangeError when too many wait already, with a
   * TimeoutError after `timeoutMs`, and with the signal's reason on abort.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<Connection | null> {
    const { uri, max, maxWaiting } = this.#options;
    if (this.#waiters.length >= maxWaiting) {
      return Promise.reject(
        new RangeError(
          `Cannot lease a connection to ${
            JSON.stringify(uri)
          }: ${this.#waiters.length} callers are already waiting (maxWaiting)`,
        ),
      );
    }
    return new Promise<Connection | null>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (connection) => {
          cleanup();
          resolve(connection);
        },
        reject: (reason) => {
          cleanup();
          reject(reason);
        },
      };
      const timer = setTimeout(() => {
        this.#remove(waiter);
        waiter.reject(
          new DOMException(
            `Timed out after ${timeoutMs} ms waiting for a connection to ${JSON.stringify(uri)} ` +
              `(all ${max} in use, ${this.#waiters.length} callers waiting); raise max or acquireTimeoutMs`,
            "TimeoutError",
          ),
        );
      }, timeoutMs);
      const abort = () => {
        this.#remove(waiter);
        waiter.reject(signal!.reason);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Hands `connection` (null: a free slot) to the first waiter; false when nobody waits. */
  handOver(connection: Connection | null): boolean {
    const waiter = this.#waiters.shift();
    waiter?.resolve(connection);
    return waiter !== undefined;
  }

  /** Rejects every waiter with `reason()`. */
  rejectAll(reason: () => unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(reason());
  }

  #remove(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index >= 0) this.#waiters.splice(index, 1);
  }
}
