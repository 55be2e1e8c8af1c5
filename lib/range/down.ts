/**
 * `downRange`: remove everything a range created, found by its tags rather than by the description's
 * guest list, so that it also cleans up after a crash or a failed `up`: domains tagged with the range
 * (destroyed, then undefined with their managed save, snapshot metadata and NVRAM), volumes named
 * `<range>.*` in the range's pool, networks tagged with the range, and the pool when the range made it.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "../pool.ts";
 * import { parseRangeDescription } from "./description.ts";
 * import { downRange } from "./down.ts";
 * await using pools = new PoolRegistry();
 * const result = await downRange(parseRangeDescription(await Deno.readTextFile("range.yaml")), pools);
 * console.log(result.removed.length, "removed");
 * ```
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { destroyDomain, listAllDomains, lookupDomain, undefineDomain } from "../domain.ts";
import { isNotFound, LibvirtError } from "../errors.ts";
import { destroyNetwork, listAllNetworks, lookupNetwork, undefineNetwork } from "../network.ts";
import type { PoolRegistry } from "../pool.ts";
import {
  deleteStoragePool,
  destroyStoragePool,
  listVolumes,
  lookupStoragePool,
  lookupVolume,
  undefineStoragePool,
} from "../storage.ts";
import { domainRange, rangeTagOf } from "./_libvirt.ts";
import type { Range } from "./description.ts";
import type { RangeHooks, RangePhase } from "./types.ts";
import { Steps } from "./up.ts";

/** What {@link downRange} did. */
export interface DownResult {
  range: string;
  /** e.g. `domain "demo-web-1" on local`. */
  removed: string[];
  timingsMs: Partial<Record<RangePhase, number>>;
  tookMs: number;
}

interface Found {
  host: string;
  kind: "domain" | "volume" | "network" | "pool";
  name: string;
}

async function findOnHost(range: Range, host: string, conn: Connection): Promise<Found[]> {
  const found: Found[] = [];
  const domains = await listAllDomains(conn);
  try {
    for (const d of domains) {
      if (d.name.startsWith(`${range.name}-`) && (await domainRange(d)) === range.name) {
        found.push({ host, kind: "domain", name: d.name });
      }
    }
  } finally {
    for (const d of domains) d.free();
  }
  try {
    using pool = await lookupStoragePool(conn, range.pool.name);
    if (await pool.isActive()) {
      const volumes = await listVolumes(pool);
      for (const v of volumes) {
        if (v.name.startsWith(`${range.name}.`)) found.push({ host, kind: "volume", name: v.name });
        v.free();
      }
    }
    if (range.pool.created) found.push({ host, kind: "pool", name: range.pool.name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const networks = await listAllNetworks(conn);
  try {
    for (const n of networks) {
      if (rangeTagOf(await n.xmlDesc())?.range === range.name) {
        found.push({ host, kind: "network", name: n.name });
      }
    }
  } finally {
    for (const n of networks) n.free();
  }
  return found;
}

const unsupportedFlags = (error: unknown) =>
  error instanceof LibvirtError && /unsupported flags/i.test(error.libvirtMessage);

/**
 * Removes everything the range created on its hosts. Safe to run any number of times, and after a
 * failed `up`.
 *
 * @param range the validated range
 * @param registry pools to the hosts
 * @param options concurrency, progress and test hooks
 * @returns what was removed, with the time per phase
 * @throws {RangeOperationError} when some removals failed (`done`: removed, `notDone`: still there)
 */
export async function downRange(
  range: Range,
  registry: PoolRegistry,
  options: RangeHooks = {},
): Promise<DownResult> {
  const steps = new Steps("down", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const pool = (host: string) => registry.get(uriOf.get(host)!);
  const found: Found[] = [];
  await steps.phase("plan", range.description.hosts, (h) => ({ target: h.uri, host: h.id }), async (h) => {
    found.push(...await registry.get(h.uri).use((c) => findOnHost(range, h.id, c), { idempotent: true }));
    return "ok";
  }, limit);
  const label = (f: Found) => `${f.kind} ${JSON.stringify(f.name)} on ${f.host}`;
  for (const f of found) steps.notDone.add(`remove ${label(f)}`);
  const removed: string[] = [];
  const done = (f: Found) => {
    steps.mark(`remove ${label(f)}`);
    removed.push(label(f));
    return "removed" as const;
  };
  const of = (kind: Found["kind"]) => found.filter((f) => f.kind === kind);
  const describe = (f: Found) => ({ target: f.name, host: f.host });

  await steps.phase("undefine", of("domain"), describe, async (f) => {
    await steps.act("undefine", f.name, f.host);
    await pool(f.host).use(async (conn) => {
      let domain;
      try {
        domain = await lookupDomain(conn, f.name);
      } catch (error) {
        if (isNotFound(error)) return; // gone meanwhile
        throw error;
      }
      try {
        await destroyDomain(domain, { ifNeeded: true });
        try {
          await undefineDomain(domain, { managedSave: true, snapshotsMetadata: true, nvram: true });
        } catch (error) {
          // the test driver knows no NVRAM flag; nothing of it to remove there
          if (!unsupportedFlags(error)) throw error;
          await undefineDomain(domain, { managedSave: true, snapshotsMetadata: true });
        }
      } finally {
        domain.free();
      }
    });
    return done(f);
  }, limit);

  await steps.phase("volume", of("volume"), describe, async (f) => {
    await steps.act("volume", f.name, f.host);
    await pool(f.host).use(async (conn) => {
      using p = await lookupStoragePool(conn, range.pool.name);
      try {
        using volume = await lookupVolume(p, f.name);
        await volume.delete();
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
    return done(f);
  }, limit);

  await steps.phase("network", of("network"), describe, async (f) => {
    await steps.act("network", f.name, f.host);
    await pool(f.host).use(async (conn) => {
      using network = await lookupNetwork(conn, f.name);
      if (await network.isActive()) await destroyNetwork(network);
      if (await network.isPersistent().catch(() => false)) await undefineNetwork(network);
    });
    return done(f);
  }, limit);

  await steps.phase("pool", of("pool"), describe, async (f) => {
    await steps.act("pool", f.name, f.host);
    await pool(f.host).use(async (conn) => {
      using p = await lookupStoragePool(conn, f.name);
      if (await p.isActive()) await destroyStoragePool(p);
      // the range built the pool, so its directory goes too; hosts sharing a file system (the
      // lab's two hosts) find it already removed by the other
      await deleteStoragePool(p).catch((error: Error) => {
        if (!/No such file or directory/.test(error.message)) throw error;
      });
      await undefineStoragePool(p);
    });
    return done(f);
  }, limit);

  return {
    range: range.name,
    removed,
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
  };
}
