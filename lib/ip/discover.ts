// discover(): ask the sources about one domain, merge, report. Sources run concurrently (each on a
// connection of its own when a pool is given), each under its own timeout.
import { after } from "../_async.ts";
import type { Domain } from "../domain.ts";
import { lookupDomain } from "../objects/domain_lookup.ts";
import type { ConnectionPool } from "../pool.ts";
import { parseCidr } from "./addresses.ts";
import type { AddressCache } from "./cache.ts";
import { mergeSightings, sharedOriginsFor } from "./merge.ts";
import { networkSubnets } from "./sources/_network_facts.ts";
import { agentSource } from "./sources/agent.ts";
import { arpSource } from "./sources/arp.ts";
import { leaseSource } from "./sources/lease.ts";
import { networkLeaseSource } from "./sources/network_lease.ts";
import { type MacRule, planSource } from "./sources/plan.ts";
import { readTarget } from "./target.ts";
import {
  type AddressSource,
  type DiscoveryResult,
  type DiscoveryTarget,
  FAST_ORDER,
  type SourceName,
  type SourceReport,
  SourceSkipped,
} from "./types.ts";

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** Which sources to ask. Default: all five. */
  sources?: SourceName[];
  /**
   * "full" (default) asks every source at once and merges; "fast" asks them one by one in
   * {@link FAST_ORDER} (lease, agent, network-lease, arp, plan) and stops as soon as every NIC has an
   * address at `fastConfidence` or better.
   */
  mode?: "full" | "fast";
  /** The confidence that ends fast mode. Default 0.75 (one live DHCP lease or the agent). */
  fastConfidence?: number;
  /** Per-source time limit, ms. Default 5,000 (libvirt cannot cancel a call; its result is then ignored). */
  sourceTimeoutMs?: number;
  /** Keep only this family; "any" (default) keeps both and prefers IPv4. */
  family?: "ipv4" | "ipv6" | "any";
  /** Ranges to drop, e.g. ["172.17.0.0/16"] for docker bridges inside guests. */
  exclude?: string[];
  /** Derives a planned address from a NIC's MAC (see encodedMacRule). */
  macRule?: MacRule;
  /** Run each source on its own connection from this pool (true concurrency); else on the domain's. */
  pool?: ConnectionPool;
  /** Serve from, and store into, this cache. */
  cache?: AddressCache;
  /** Stops discovery; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** @internal replaces the built-in sources (tests). */
  sourceImplementations?: AddressSource[];
  /** @internal the clock (tests). */
  now?: () => number;
}

/**
 * The built-in sources, in {@link FAST_ORDER}: lease, agent, network-lease, arp, plan.
 *
 * @param options the MAC-to-address rule for the plan source; the clock lease expiry is judged by
 * @returns the sources, for `DiscoverOptions.sourceImplementations`-style composition
 * @throws nothing: building the sources asks nothing yet
 * @example
 * ```ts
 * import { defaultSources } from "@deno-libvirt/deno-libvirt/ip";
 * console.log(defaultSources().map((s) => s.name)); // ["lease", "agent", "network-lease", "arp", "plan"]
 * ```
 */
export function defaultSources(options: { macRule?: MacRule; now?: () => number } = {}): AddressSource[] {
  return [
    leaseSource,
    agentSource,
    networkLeaseSource(options.now),
    arpSource(),
    planSource(options.macRule),
  ];
}

/** Runs `fn` with a handle of the domain on some connection. */
type Session = <T>(fn: (domain: Domain) => Promise<T>) => Promise<T>;

function sessionFor(domain: Domain, pool: ConnectionPool | undefined): Session {
  if (!pool) return (fn) => fn(domain);
  const uuid = domain.uuid;
  return (fn) =>
    pool.use(async (connection) => {
      using handle = await lookupDomain(connection, uuid);
      return await fn(handle);
    }, { idempotent: true });
}

function cacheKey(uri: string, uuid: string, options: DiscoverOptions): string {
  return JSON.stringify([
    uri,
    uuid,
    options.sources ?? "all",
    options.mode ?? "full",
    options.family ?? "any",
    options.exclude ?? [],
  ]);
}

async function runSource(
  source: AddressSource,
  session: Session,
  facts: Omit<DiscoveryTarget, "domain" | "connection">,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<SourceReport> {
  const started = performance.now();
  const took = () => Math.round((performance.now() - started) * 1000) / 1000;
  let cancelTimer: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  const controller = new AbortController();
  try {
    const sightings = await Promise.race([
      session((domain) =>
        source.discover({ ...facts, domain, connection: domain.connection }, controller.signal)
      ),
      new Promise<never>((_, reject) => {
        cancelTimer = after(timeoutMs, () => reject(new SourceTimeout()));
        onAbort = () => reject(signal!.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    return { source: source.name, status: "ok", tookMs: took(), sightings };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof SourceTimeout) {
      controller.abort();
      return {
        source: source.name,
        status: "timeout",
        tookMs: took(),
        reason: `${timeoutMs} ms`,
        sightings: [],
      };
    }
    if (error instanceof SourceSkipped) {
      return { source: source.name, status: "skipped", tookMs: took(), reason: error.message, sightings: [] };
    }
    return { source: source.name, status: "failed", tookMs: took(), reason: describe(error), sightings: [] };
  } finally {
    cancelTimer?.();
    // a long wait runs many rounds on one caller's signal: leave no listener behind
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

class SourceTimeout extends Error {}

/**
 * Gives each NIC on a libvirt network that network's subnets (its XML, shared for 5 s across
 * discoveries), so that the merge can flag an address outside them. A network that cannot be read
 * leaves its NICs without subnets: nothing is judged rather than everything.
 */
async function addSubnets(target: DiscoveryTarget): Promise<void> {
  const names = [
    ...new Set(target.nics.filter((n) => n.type === "network" && n.network).map((n) => n.network!)),
  ];
  await Promise.all(names.map(async (name) => {
    const subnets = await networkSubnets(target.connection, name).catch(() => []);
    if (subnets.length === 0) return;
    for (const nic of target.nics) if (nic.network === name && nic.type === "network") nic.subnets = subnets;
  }));
}

/** libvirt's message without our "Cannot ..." prefix, which the report's context already gives. */
function describe(error: unknown): string {
  if (error && typeof error === "object" && "libvirtMessage" in error) {
    const e = error as { libvirtMessage: string; codeName?: string };
    return e.codeName === "NO_SUPPORT"
      ? `not supported by this driver (${e.libvirtMessage})`
      : e.libvirtMessage;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finds a domain's addresses: per NIC (matched by MAC), from every source, merged with a confidence,
 * with per-source timing and errors and the total time.
 *
 * @param domain the domain (its connection reads the XML; sources use `options.pool` when given)
 * @param options sources, mode, family, exclusions, timeouts, cache, pool
 * @returns the result; `best` is the most trustworthy address of the preferred family
 * @throws the signal's reason on abort; a LibvirtError when the domain's XML cannot be read
 * @example
 * ```ts
 * import { Connection, discover, lookupDomain } from "@deno-libvirt/deno-libvirt/ip";
 * await using conn = await Connection.open("test:///default");
 * using domain = await lookupDomain(conn, "test");
 * const { best } = await discover(domain, { family: "ipv4" });
 * // the test driver answers lease and arp from one invented table: counted once, and said so
 * console.log(best?.address, best?.confidence, best?.flags); // 192.168.122.3 0.8 ["same-origin"]
 * console.log(best?.explanation);
 * ```
 */
export async function discover(domain: Domain, options: DiscoverOptions = {}): Promise<DiscoveryResult> {
  options.signal?.throwIfAborted();
  const started = performance.now();
  const uri = domain.connection.uri;
  const key = options.cache ? cacheKey(uri, domain.uuid, options) : "";
  const hit = options.cache?.get(key, domain.uuid, uri);
  if (hit) return { ...hit, cached: true };
  await options.cache?.ready(uri); // subscribed before reading: no change can slip in unseen

  const target = await readTarget(domain);
  // the networks' subnets are read while the sources run: the merge needs them, the sources do not
  const subnets = addSubnets(target);
  const { domain: _d, connection: _c, ...facts } = target;
  const wanted = new Set(options.sources ?? FAST_ORDER);
  const all = options.sourceImplementations ?? defaultSources({ macRule: options.macRule, now: options.now });
  const sources = FAST_ORDER.map((name) => all.find((s) => s.name === name)).filter((s): s is AddressSource =>
    s !== undefined && wanted.has(s.name)
  );
  const session = sessionFor(domain, options.pool);
  const timeoutMs = options.sourceTimeoutMs ?? 5_000;
  const mergeOptions = {
    family: options.family ?? "any",
    exclude: (options.exclude ?? []).map(parseCidr),
    sharedOrigins: sharedOriginsFor(uri),
  } as const;

  let reports: SourceReport[];
  if (options.mode === "fast") {
    reports = [];
    const threshold = options.fastConfidence ?? 0.75;
    for (const [index, source] of sources.entries()) {
      reports.push(await runSource(source, session, facts, timeoutMs, options.signal));
      await subnets;
      const { nics } = mergeSightings(target.nics, reports, mergeOptions);
      if (nics.length > 0 && nics.every((n) => (n.addresses[0]?.confidence ?? 0) >= threshold)) {
        for (const rest of sources.slice(index + 1)) {
          reports.push({
            source: rest.name,
            status: "not-run",
            tookMs: 0,
            reason: "fast mode: already confident",
            sightings: [],
          });
        }
        break;
      }
    }
  } else {
    reports = await Promise.all(sources.map((s) => runSource(s, session, facts, timeoutMs, options.signal)));
  }

  await subnets;
  const merged = mergeSightings(target.nics, reports, mergeOptions);
  const preferred = options.family === "ipv6" ? "ipv6" : "ipv4";
  const candidates = merged.nics.flatMap((n) => n.addresses.map((a) => ({ ...a, mac: n.nic.mac })));
  candidates.sort((a, b) =>
    (a.family === preferred ? 0 : 1) - (b.family === preferred ? 0 : 1) || b.confidence - a.confidence
  );
  const result: DiscoveryResult = {
    domain: { name: target.name, uuid: target.uuid, uri },
    nics: merged.nics,
    ...(candidates[0] ? { best: candidates[0] } : {}),
    sources: reports,
    ignored: merged.ignored,
    tookMs: Math.round((performance.now() - started) * 1000) / 1000,
    cached: false,
  };
  options.cache?.set(key, domain.uuid, uri, result);
  return result;
}
