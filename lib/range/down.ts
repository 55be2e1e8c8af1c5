/**
 * `downRange`: remove everything a range created and nothing else, found by its ownership marks
 * rather than by names or the description's guest list, so that it also cleans up after a crash or a
 * failed `up`: domains tagged with the range (destroyed, then undefined with their managed save,
 * snapshot metadata and NVRAM), the volumes and the pool listed in the range's ownership record on
 * each host, networks tagged with the range, and last the record itself. Base images and anything not
 * in the record (a volume of a similar name, a pool the range did not make) are never touched.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * import { downRange } from "@deno-libvirt/deno-libvirt";
 * await using pools = new PoolRegistry();
 * const result = await downRange(parseRangeDescription(await Deno.readTextFile("range.yaml")), pools);
 * console.log(result.removed.length, "removed");
 * ```
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { destroyDomain, type Domain, listAllDomains, lookupDomain, undefineDomain } from "../domain.ts";
import { isNotFound, LibvirtError } from "../errors.ts";
import {
  defineNetwork,
  destroyNetwork,
  listAllNetworks,
  lookupNetwork,
  undefineNetwork,
} from "../network.ts";
import type { ConnectionPool, PoolRegistry } from "../pool.ts";
import {
  deleteStoragePool,
  destroyStoragePool,
  listVolumes,
  lookupStoragePool,
  lookupVolume,
  type StoragePool,
  type StorageVolume,
  undefineStoragePool,
} from "../storage.ts";
import {
  domainRange,
  Lanes,
  Ledger,
  type OwnedEntry,
  type OwnershipRecord,
  parseRecord,
  rangeDomainUuid,
  rangeTagOf,
  recordNetworkName,
  settleAll,
  verifiedRange,
} from "./_libvirt.ts";
import type { Range } from "./description.ts";
import type { RangeHooks, RangePhase } from "./types.ts";
import { Steps } from "./_steps.ts";

/** What {@link downRange} did. */
export interface DownResult {
  /** The range's name. */
  range: string;
  /** What was there and is now removed, e.g. `domain "demo-web-1" on local` (the ownership record not
   * counted). */
  removed: string[];
  /**
   * What the ownership record listed but down left alone, with why: a volume whose path is one of
   * the range's base images, a pool directory that is not empty or that up did not make.
   */
  kept: string[];
  /** Time per phase, ms. */
  timingsMs: Partial<Record<RangePhase, number>>;
  /** Time of the whole operation, ms. */
  tookMs: number;
}

interface Found {
  host: string;
  kind: "domain" | "volume" | "network" | "pool" | "nwfilter";
  name: string;
  /** For volumes and pools: their entry in the ownership record. */
  entry?: OwnedEntry;
}

interface HostFound {
  found: Found[];
  /** The range's ownership record on the host, if any. */
  record?: OwnershipRecord;
}

/** A connection's listing of every domain, by name (handles bound to that connection's lease). */
interface Listing {
  byName: Map<string, Domain>;
  free(): void;
}

async function listing(conn: Connection): Promise<Listing> {
  const domains = await listAllDomains(conn);
  return {
    byName: new Map(domains.map((d) => [d.name, d])),
    free: () => {
      for (const d of domains) d.free();
    },
  };
}

/** A storage pool's volumes, by name (handles bound to the lease they were listed on). */
interface VolumeListing {
  byName: Map<string, StorageVolume>;
  free(): void;
}

async function volumeListing(pool: StoragePool): Promise<VolumeListing> {
  const volumes = await listVolumes(pool);
  return {
    byName: new Map(volumes.map((v) => [v.name, v])),
    free: () => {
      for (const v of volumes) v.free();
    },
  };
}

/**
 * The range's domains on a host, in listing order: a domain with the range's prefix is the range's
 * when its UUID is the one `up` derived from the host's ownership record ({@link rangeDomainUuid}, read
 * from the listed handle without a round trip), or else when its metadata tag says so (one call per
 * such domain: made before the derived UUIDs, renamed, or no record on the host). A name alone never
 * decides. The tag reads are spread over the phase's lanes, each from its own connection's listing,
 * which the undefine phase then acts on without looking each domain up again.
 */
async function rangeDomains(
  range: Range,
  pool: ConnectionPool,
  lanes: Lanes,
  record: OwnershipRecord | undefined,
): Promise<string[]> {
  const prefix = `${range.name}-`;
  const { candidates, proven } = await lanes.use(pool, async (conn, cached) => {
    const listed = await cached("domains", () => listing(conn));
    const candidates: string[] = [];
    const proven = new Set<string>();
    for (const [name, domain] of listed.byName) {
      if (!name.startsWith(prefix)) continue;
      candidates.push(name);
      if (record && domain.uuid === rangeDomainUuid(record.uuid, name)) proven.add(name);
    }
    return { candidates, proven };
  });
  const unproven = candidates.filter((name) => !proven.has(name));
  const tags = await Promise.allSettled(unproven.map((name) =>
    lanes.use(pool, async (conn, cached) => {
      const listed = await cached("domains", () => listing(conn));
      const domain = listed.byName.get(name);
      if (domain) return await domainRange(domain);
      try {
        using looked = await lookupDomain(conn, name);
        return await domainRange(looked);
      } catch (error) {
        if (isNotFound(error)) return undefined; // gone meanwhile
        throw error;
      }
    })
  ));
  const failed = tags.find((t) => t.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const tagged = new Set(
    unproven.filter((_, i) => (tags[i] as PromiseFulfilledResult<string | undefined>).value === range.name),
  );
  return candidates.filter((name) => proven.has(name) || tagged.has(name));
}

async function findOnHost(
  range: Range,
  host: string,
  pool: ConnectionPool,
  lanes: Lanes,
): Promise<HostFound> {
  // the record first: it proves the domains' ownership from their listed UUIDs
  const { found: others, record } = await lanes.use(
    pool,
    (conn) => findRecordAndNetworks(range, host, conn, []),
  );
  const found: Found[] = [];
  for (const name of await rangeDomains(range, pool, lanes, record)) {
    found.push({ host, kind: "domain", name });
  }
  found.push(...others);
  return { found, record };
}

async function findRecordAndNetworks(
  range: Range,
  host: string,
  conn: Connection,
  found: Found[],
): Promise<HostFound> {
  let record: OwnershipRecord | undefined;
  const recordName = recordNetworkName(range.name);
  const networks = await listAllNetworks(conn);
  try {
    for (const n of networks) {
      const xml = await n.xmlDesc();
      if (n.name === recordName) record = parseRecord(xml, range.name);
      else if (rangeTagOf(xml)?.range === range.name) found.push({ host, kind: "network", name: n.name });
    }
  } finally {
    for (const n of networks) n.free();
  }
  for (const entry of record?.entries ?? []) {
    found.push({ host, kind: entry.kind, name: entry.name, entry });
  }
  return { found, record };
}

const unsupportedFlags = (error: unknown) =>
  error instanceof LibvirtError && /unsupported flags/i.test(error.libvirtMessage);

/**
 * Removes everything the range created on its hosts, and only that: what carries its ownership mark
 * (domains and networks) or is listed in its ownership record (pools and volumes). Safe to run any
 * number of times, after a failed `up`, and from another process than the `up` that crashed.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param options concurrency, progress and test hooks
 * @returns what was removed, what the record listed but was kept (and why), the time per phase
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {RangeOperationError} when some removals failed (`done`: removed, `notDone`: still there);
 *   the ownership record then lists what is left, for the next `down`
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { downRange, parseRangeDescription, upRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: down
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: down-lan, mode: isolated, subnet: 10.9.3.0/24, dhcp: { start: 10.9.3.100, end: 10.9.3.200 } }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: down-lan }] }]
 * `, "down.yaml");
 * await using pools = new PoolRegistry({ max: 2 });
 * const hold = await pools.get("test:///default").acquire();
 * await upRange(range, pools, { waitForAddresses: false });
 * const down = await downRange(range, pools);
 * console.log(down.removed); // exactly what up made: the domain, its volume, the network, the record
 * hold.release();
 * ```
 */
export async function downRange(
  given: Range,
  registry: PoolRegistry,
  options: RangeHooks = {},
): Promise<DownResult> {
  const range = verifiedRange(given, "down");
  const steps = new Steps("down", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const pool = (host: string) => registry.get(uriOf.get(host)!);
  const found: Found[] = [];
  const records = new Map<string, OwnershipRecord>();
  // leases held from the plan through the volume phase (lanes): each keeps its connection's domain
  // listing and storage pool handle, so neither is asked again per domain or volume
  const lanes = new Lanes(limit);
  try {
    await steps.phase("plan", range.description.hosts, (h) => ({ target: h.uri, host: h.id }), async (h) => {
      const onHost = await findOnHost(range, h.id, registry.get(h.uri), lanes);
      found.push(...onHost.found);
      if (onHost.record) records.set(h.id, onHost.record);
      return "ok";
    }, limit);
  } catch (error) {
    await lanes.end();
    throw error;
  }
  const label = (f: Found) => `${f.kind} ${JSON.stringify(f.name)} on ${f.host}`;
  for (const f of found) steps.notDone.add(`remove ${label(f)}`);
  for (const [host] of records) steps.notDone.add(`remove ownership record on ${host}`);
  const removed: string[] = [];
  const kept: string[] = [];
  const gone = new Set<Found>();
  const done = (f: Found) => {
    steps.mark(`remove ${label(f)}`);
    removed.push(label(f));
    gone.add(f);
    return "removed" as const;
  };
  const of = (kind: Found["kind"]) => found.filter((f) => f.kind === kind);
  const describe = (f: Found) => ({ target: f.name, host: f.host });
  const baseImages = new Set((range.description.baseImages ?? []).map((b) => b.path));

  // whether a host's driver takes the NVRAM flag (the test driver refuses it): the first undefine on
  // a host finds out while the others wait for it, so it is asked once, not once per domain or lane
  const nvramTaken = new Map<string, Promise<boolean | undefined>>();
  const flags = { managedSave: true, snapshotsMetadata: true, states: false } as const;
  const undefineOwned = async (domain: Domain, host: string): Promise<void> => {
    for (;;) {
      const known = nvramTaken.get(host);
      if (known) {
        const taken = await known;
        if (taken === undefined) continue; // the probe failed otherwise: probe again
        await undefineDomain(domain, taken ? { ...flags, nvram: true } : flags);
        return;
      }
      let settle!: (taken: boolean | undefined) => void;
      nvramTaken.set(host, new Promise((resolve) => settle = resolve));
      try {
        await undefineDomain(domain, { ...flags, nvram: true });
        settle(true);
        return;
      } catch (error) {
        // the test driver knows no NVRAM flag; nothing of it to remove there
        if (!unsupportedFlags(error)) {
          nvramTaken.delete(host);
          settle(undefined);
          throw error;
        }
        settle(false);
      }
      await undefineDomain(domain, flags);
      return;
    }
  };
  try {
    await steps.phase("undefine", of("domain"), describe, async (f) => {
      await steps.act("undefine", f.name, f.host);
      await lanes.use(pool(f.host), async (conn, cached) => {
        const listed = await cached("domains", () => listing(conn));
        let domain = listed.byName.get(f.name);
        let own: Domain | undefined; // looked up here (not in this lane's listing): freed here
        if (!domain) {
          try {
            domain = own = await lookupDomain(conn, f.name);
          } catch (error) {
            if (isNotFound(error)) return; // gone meanwhile
            throw error;
          }
        }
        try {
          // one call each: the results' states are not used (ifNeeded reads the state only when
          // libvirt refused, to tell a shut-off domain from a real refusal)
          await destroyDomain(domain, { ifNeeded: true, states: false });
          await undefineOwned(domain, f.host);
        } catch (error) {
          if (isNotFound(error)) return; // gone meanwhile (a listed handle outlives its domain)
          throw error;
        } finally {
          own?.free();
        }
      });
      return done(f);
    }, limit);

    await steps.phase("volume", of("volume"), describe, async (f) => {
      const entry = f.entry!;
      if (
        entry.path !== undefined && baseImages.has(entry.path) && (entry.state === "created" || !entry.made)
      ) {
        // never: a base image is not the range's to delete, whatever a record says (one up uploaded
        // and verified is kept too: other ranges may back onto it). An "intent" one up recorded as
        // made is a half-made upload (lib/range/images.ts), the range's own and of use to no one: it
        // goes; an intent never made is not the range's volume (someone put one there since).
        kept.push(`${label(f)}: it is a base image of the range (${entry.path})`);
        gone.add(f);
        steps.mark(`remove ${label(f)}`);
        return "kept";
      }
      await steps.act("volume", f.name, f.host);
      const poolName = entry.pool ?? range.pool.name;
      const existed = await lanes.use(pool(f.host), async (conn, cached) => {
        let p;
        try {
          p = await cached(`pool\0${poolName}`, () => lookupStoragePool(conn, poolName));
        } catch (error) {
          if (isNotFound(error)) return false; // the pool is gone, and its volumes with it
          throw error;
        }
        // the pool's volumes listed once per lane, not looked up one by one; one missing from the
        // listing is looked up (it may have come since)
        const listed = await cached(`volumes\0${poolName}`, () => volumeListing(p));
        let own: StorageVolume | undefined;
        try {
          const volume = listed.byName.get(f.name) ?? (own = await lookupVolume(p, f.name));
          await volume.delete();
          return true;
        } catch (error) {
          if (!isNotFound(error)) throw error;
          return false; // an intent the crashed up never carried out, or removed meanwhile
        } finally {
          own?.free();
        }
      });
      if (existed) return done(f);
      gone.add(f);
      steps.mark(`remove ${label(f)}`);
      return "ok";
    }, limit);
    await lanes.end(); // the pool phase looks the pool up afresh, to remove it

    // the firewall's network filters (lib/range/firewall.ts): no domain of the range uses them now
    await steps.phase("firewall", of("nwfilter"), describe, async (f) => {
      await steps.act("firewall", f.name, f.host);
      const existed = await pool(f.host).use(async (conn) => {
        try {
          using filter = await conn.nwFilterLookupByName(f.name);
          await filter.undefine();
          return true;
        } catch (error) {
          if (isNotFound(error)) return false; // an intent up never carried out, or removed meanwhile
          throw error;
        }
      });
      if (existed) return done(f);
      gone.add(f);
      steps.mark(`remove ${label(f)}`);
      return "ok";
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
      const existed = await pool(f.host).use(async (conn) => {
        let p;
        try {
          p = await lookupStoragePool(conn, f.name);
        } catch (error) {
          if (isNotFound(error)) return false;
          throw error;
        }
        try {
          if (await p.isActive()) await destroyStoragePool(p);
          if (f.entry!.built) {
            // up made the directory: it goes too when empty. Hosts sharing a file system (the lab's
            // two hosts) find it already removed by the other; a file someone put there keeps it.
            await deleteStoragePool(p).catch((error: Error) => {
              if (/No such file or directory/.test(error.message)) return;
              if (/not empty|Directory not empty/i.test(error.message)) {
                kept.push(`the directory of ${label(f)}: it is not empty`);
                return;
              }
              throw error;
            });
          } else {
            kept.push(`the directory of ${label(f)}: it existed before up`);
          }
          await undefineStoragePool(p);
          return true;
        } finally {
          p.free();
        }
      });
      if (existed) return done(f);
      gone.add(f);
      steps.mark(`remove ${label(f)}`);
      return "ok";
    }, limit);

    // last, the record itself: everything it listed is gone
    await steps.phase(
      "record",
      [...records.keys()],
      (h) => ({ target: recordNetworkName(range.name), host: h }),
      async (h) => {
        await steps.act("record", recordNetworkName(range.name), h);
        await pool(h).use(async (conn) => {
          try {
            using network = await lookupNetwork(conn, recordNetworkName(range.name));
            await undefineNetwork(network);
          } catch (error) {
            if (!isNotFound(error)) throw error;
          }
        });
        records.delete(h);
        steps.mark(`remove ownership record on ${h}`);
        return "removed";
      },
      limit,
    );
  } finally {
    await lanes.end();
    // after a failure: each record left lists only what is still there (best effort; the old record
    // stays otherwise, and the next down finds the removed entries gone)
    await settleAll([...records], limit, async ([host, record]) => {
      const removedHere = found.filter((f) => f.host === host && f.entry && gone.has(f));
      if (removedHere.length === 0) return;
      const ledger = new Ledger(range.name, host, record);
      for (const f of removedHere) ledger.delete(f.entry!.kind, f.entry!.name, f.entry!.pool);
      await ledger.save((xml) =>
        pool(host).use(async (conn) => {
          (await defineNetwork(conn, xml)).free();
        })
      );
    });
  }

  return {
    range: range.name,
    removed,
    kept,
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
  };
}
