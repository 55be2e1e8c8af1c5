// A TTL cache of discovery results per domain, emptied for a domain when its lifecycle says its
// addresses may have changed (started, stopped, resumed from a snapshot, crashed, rebooted, undefined).
import { type DomainEvent, domainEvents, type DomainEventStream } from "../events.ts";
import { eventLoopEnabled } from "../event_loop.ts";
import type { DiscoveryResult } from "./types.ts";

/** Options of an {@link AddressCache}. */
export interface AddressCacheOptions {
  /** How long a result stays fresh, ms. Default 30,000. */
  ttlMs?: number;
  /** Watch lifecycle events of each URI seen, and invalidate on them. Default true (needs the event loop). */
  invalidateOnEvents?: boolean;
  /** @internal the clock (tests) */
  now?: () => number;
}

/** The cache's counters. */
export interface AddressCacheStats {
  /** Lookups answered from the cache. */
  hits: number;
  /** Lookups that found no fresh entry and asked libvirt. */
  misses: number;
  /** Results held now. */
  entries: number;
  /** Entries removed by lifecycle events or invalidate(). */
  invalidations: number;
  /** Entries that were found stale (older than the TTL). */
  expirations: number;
}

interface Entry {
  uuid: string;
  storedAt: number;
  result: DiscoveryResult;
}

/**
 * Caches discovery results. Its event subscriptions do not keep a script alive; `close()` ends them.
 *
 * @example
 * ```ts
 * import { AddressCache, Connection, discover, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using domain = await lookupDomain(conn, "test");
 * await using cache = new AddressCache({ ttlMs: 60_000 });
 * const first = await discover(domain, { cache }); // asks libvirt
 * const again = await discover(domain, { cache }); // from the cache, in microseconds
 * console.log(first.best?.address, again.best?.address, cache.stats());
 * ```
 */
export class AddressCache {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #watch: boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #streams = new Map<string, DomainEventStream>();
  readonly #ready = new Map<string, Promise<void>>();
  readonly #counters = { hits: 0, misses: 0, invalidations: 0, expirations: 0 };

  /**
   * Makes an empty cache.
   *
   * @param options the time to live (default 30 s) and whether lifecycle events invalidate entries
   */
  constructor(options: AddressCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#watch = options.invalidateOnEvents ?? true;
  }

  /** @internal a fresh result for this key, or undefined (counted as hit or miss) */
  get(key: string, _uuid: string, uri: string): DiscoveryResult | undefined {
    this.#ensureWatching(uri);
    const entry = this.#entries.get(key);
    if (entry && this.#now() - entry.storedAt <= this.#ttlMs) {
      this.#counters.hits++;
      return entry.result;
    }
    if (entry) {
      this.#entries.delete(key);
      this.#counters.expirations++;
    }
    this.#counters.misses++;
    return undefined;
  }

  /**
   * Resolves once the lifecycle subscription of `uri` is registered (at once when events are off or
   * unavailable), so that a discovery run after it cannot miss a change that would invalidate it.
   */
  ready(uri: string): Promise<void> {
    this.#ensureWatching(uri);
    return this.#ready.get(uri) ?? Promise.resolve();
  }

  /** @internal */
  set(key: string, uuid: string, uri: string, result: DiscoveryResult): void {
    this.#ensureWatching(uri);
    this.#entries.set(key, { uuid, storedAt: this.#now(), result });
  }

  /** Forgets every result of one domain (by UUID); returns how many were dropped. */
  invalidate(uuid: string): number {
    let dropped = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.uuid === uuid) {
        this.#entries.delete(key);
        dropped++;
      }
    }
    this.#counters.invalidations += dropped;
    return dropped;
  }

  /** Applies one domain event: lifecycle changes that can change addresses invalidate. */
  observe(event: DomainEvent): void {
    if (event.kind === "gap") {
      // events may have been missed: nothing cached can be trusted
      this.#counters.invalidations += this.#entries.size;
      this.#entries.clear();
      return;
    }
    const changes = event.kind === "reboot" ||
      (event.kind === "lifecycle" &&
        ["started", "stopped", "crashed", "undefined", "pmsuspended"].includes(event.event!)) ||
      (event.kind === "lifecycle" && event.detail === "from-snapshot");
    if (changes && event.domain) this.invalidate(event.domain.uuid);
  }

  /** The counters. */
  stats(): AddressCacheStats {
    return { ...this.#counters, entries: this.#entries.size };
  }

  /** Empties the cache. */
  clear(): void {
    this.#entries.clear();
  }

  /** Ends the event subscriptions. */
  async close(): Promise<void> {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#ready.clear();
    await Promise.all(streams.map((s) => s.close()));
  }

  /** Closes (`await using cache = new AddressCache()`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #ensureWatching(uri: string): void {
    if (!this.#watch || this.#streams.has(uri) || !eventLoopEnabled()) return;
    const stream = domainEvents(uri, { kinds: ["lifecycle", "reboot"], keepAlive: false });
    this.#streams.set(uri, stream);
    this.#ready.set(uri, stream.ready().catch(() => {}));
    (async () => {
      try {
        for await (const event of stream) this.observe(event);
      } catch {
        // no events for this URI (driver without them): the TTL alone bounds staleness
      }
    })();
  }
}
