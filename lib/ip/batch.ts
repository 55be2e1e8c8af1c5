// Discovery for many domains on several hosts, one process, bounded concurrency
// through one pool per host, with a progress hook for scripts. One domain on one host (a one-shot
// `vm_ip.ts NAME`) goes without a pool: one connection, and lib/pool/ loads only when a pool is used.
import { Connection } from "../connection.ts";
import { isConnectionLost } from "../errors.ts";
import { listAllDomains, lookupDomain } from "../objects/domain_lookup.ts";
import type { PoolRegistry } from "../pool.ts";
import { discover, type DiscoverOptions } from "./discover.ts";
import type { DiscoveryResult } from "./types.ts";
import type { AddressFound, WaitForAddressOptions } from "./wait.ts";

/** Which domains of which host. */
export interface DiscoveryHost {
  /** The host's libvirt URI, e.g. "qemu:///system". */
  uri: string;
  /** Names or UUIDs; omitted: every running domain of the host. */
  domains?: string[];
}

/** One domain's outcome. */
export interface DiscoveryEntry {
  /** The libvirt URI of the domain's host. */
  uri: string;
  /** The name (or UUID) as asked, or as listed. */
  domain: string;
  /** What discovery found (`wait: false`) or the address waited for (`wait: true`); absent on error. */
  result?: DiscoveryResult | AddressFound;
  /** Why this domain has no result (lookup, discovery or timeout failure). */
  error?: Error;
}

/** Options of {@link discoverMany}. */
export interface DiscoverManyOptions extends WaitForAddressOptions {
  /** Wait for an address (waitForAddress) instead of one discovery. Default false. */
  wait?: boolean;
  /** Operations in flight per host (the pool's size). Default 16. */
  concurrency?: number;
  /**
   * Pools to use (and leave open); default: a registry of its own, closed at the end (one domain on one
   * host, not waiting: one connection of its own instead, without a pool).
   */
  registry?: PoolRegistry;
  /** Called after each domain, in completion order. */
  onProgress?: (progress: { done: number; total: number; entry: DiscoveryEntry }) => void;
  /** Discovery options for the non-waiting case (cache, fast mode). */
  cache?: DiscoverOptions["cache"];
  /** Discovery mode for the non-waiting case, as {@link discover} takes it. */
  mode?: DiscoverOptions["mode"];
}

/**
 * Discovers (or waits for) the addresses of many domains on many hosts at once.
 *
 * @param hosts the hosts, each with its domains (or all running ones)
 * @param options wait or not, concurrency, progress hook, and discovery options; `signal` stops the
 *   whole batch: no listing, lookup or discovery starts after the abort, the waits in flight (for a
 *   pooled connection, for an address) end at once, and the batch rejects with the signal's reason once
 *   every domain's work has ended (its own pools closed)
 * @returns one entry per domain, in the order asked (listed domains: by name); failures are entries
 *   with `error`, never a rejection of the whole batch (but for an abort)
 * @throws the signal's reason on abort
 *
 * @example
 * ```ts
 * import { discoverMany } from "@deno-libvirt/deno-libvirt/ip";
 * const entries = await discoverMany([{ uri: "test:///default", domains: ["test"] }], { concurrency: 4 });
 * for (const e of entries) console.log(e.domain, e.error?.message ?? "found");
 * ```
 */
export async function discoverMany(
  hosts: DiscoveryHost[],
  options: DiscoverManyOptions = {},
): Promise<DiscoveryEntry[]> {
  const concurrency = options.concurrency ?? 16;
  const own = options.registry === undefined;
  const single = own && !options.wait && hosts.length === 1 && hosts[0].domains?.length === 1
    ? { uri: hosts[0].uri, domain: hosts[0].domains[0] }
    : undefined;
  if (single) {
    options.signal?.throwIfAborted();
    const entry = await discoverOne(single.uri, single.domain, options);
    options.signal?.throwIfAborted(); // an abort that came as the answer did: rejects, as on the pool's path
    if (entry) {
      options.onProgress?.({ done: 1, total: 1, entry });
      return [entry];
    }
    // the connection was lost on the way: the pool's path below retries on a new one
  }
  const registry = options.registry ??
    new (await import("../pool.ts")).PoolRegistry({
      max: concurrency,
      acquireTimeoutMs: (options.timeoutMs ?? 60_000) * 2 + 30_000,
    });
  const signal = options.signal;
  try {
    signal?.throwIfAborted();
    const work: { uri: string; domain: string }[] = [];
    const listingErrors: DiscoveryEntry[] = [];
    for (const host of hosts) {
      if (host.domains) {
        for (const domain of host.domains) work.push({ uri: host.uri, domain });
        continue;
      }
      try {
        signal?.throwIfAborted();
        const names = await registry.get(host.uri).use(async (conn) => {
          signal?.throwIfAborted();
          const domains = await listAllDomains(conn, { active: true });
          try {
            return domains.map((d) => d.name).sort();
          } finally {
            for (const d of domains) d.free();
          }
        }, { idempotent: true, signal });
        for (const domain of names) work.push({ uri: host.uri, domain });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        listingErrors.push({ uri: host.uri, domain: "*", error: error as Error });
      }
    }
    let done = 0;
    const total = work.length;
    const { wait, concurrency: _c, registry: _r, onProgress, ...discoverOptions } = options;
    // waiting listens to events: lib/events.ts and the rest load only for it (a one-shot query skips them)
    const waitForAddress = wait ? (await import("./wait.ts")).waitForAddress : undefined;
    const entries = await Promise.all(work.map(async ({ uri, domain }) => {
      const entry: DiscoveryEntry = { uri, domain };
      try {
        signal?.throwIfAborted();
        entry.result = await registry.get(uri).use(async (conn) => {
          signal?.throwIfAborted();
          using handle = await lookupDomain(conn, domain);
          return waitForAddress
            ? await waitForAddress(handle, discoverOptions)
            : await discover(handle, discoverOptions);
        }, { idempotent: true, signal });
      } catch (error) {
        entry.error = error as Error;
      }
      // an aborted batch reports no progress: the caller asked it to stop
      if (!signal?.aborted) onProgress?.({ done: ++done, total, entry });
      return entry;
    }));
    signal?.throwIfAborted();
    return [...listingErrors, ...entries];
  } finally {
    if (own) await registry.closeAll();
  }
}

/**
 * One domain on one host, on one connection of its own (what a pool of one connection would do,
 * without loading and running the pool: a one-shot query's start, lib/pool/ being ~40 KB of source).
 * The connection is opened as a pool opens its own (`eventLoop: "auto"`).
 *
 * @returns the entry; undefined when the connection was lost (the caller retries through a pool)
 */
async function discoverOne(
  uri: string,
  domain: string,
  options: DiscoverManyOptions,
): Promise<DiscoveryEntry | undefined> {
  const { wait: _w, concurrency: _c, registry: _r, onProgress: _p, ...discoverOptions } = options;
  let connection: Connection;
  try {
    connection = await Connection.open(uri, { eventLoop: "auto" });
  } catch (error) {
    options.signal?.throwIfAborted(); // an abort rejects, as on the pool's path
    return { uri, domain, error: error as Error };
  }
  try {
    using handle = await lookupDomain(connection, domain);
    return { uri, domain, result: await discover(handle, discoverOptions) };
  } catch (error) {
    options.signal?.throwIfAborted(); // an abort rejects, as on the pool's path
    if (isConnectionLost(error) || !connection.isAlive()) return undefined;
    return { uri, domain, error: error as Error };
  } finally {
    await connection.close().catch(() => {}); // a connection whose daemon is gone is gone either way
  }
}

/**
 * The names of {@link discoverMany} before it was renamed: "range" means a cyber range everywhere else
 * (lib/range/). Kept for scripts written against 0.1; not exported from `mod.ts`.
 *
 * @deprecated use {@link discoverMany}
 */
export const discoverRange: typeof discoverMany = discoverMany;
/** @deprecated use {@link DiscoveryHost} */
export type RangeHost = DiscoveryHost;
/** @deprecated use {@link DiscoveryEntry} */
export type RangeEntry = DiscoveryEntry;
/** @deprecated use {@link DiscoverManyOptions} */
export type RangeOptions = DiscoverManyOptions;
