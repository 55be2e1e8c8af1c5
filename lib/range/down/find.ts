/**
 * `downRange`'s survey of a host: the ownership record, the range's networks and its domains (proved
 * the range's from one listing), and the per-lane listings the removal phases act on.
 *
 * @module
 */
import type { Connection } from "../../connection.ts";
import { type Domain, listAllDomains, lookupDomain } from "../../domain.ts";
import { isNotFound } from "../../errors.ts";
import { listAllNetworks } from "../../network.ts";
import type { ConnectionPool } from "../../pool.ts";
import { listVolumes, type StoragePool, type StorageVolume } from "../../storage.ts";
import {
  domainRange,
  type Lanes,
  type OwnedEntry,
  type OwnershipRecord,
  parseRecord,
  rangeDomainUuid,
  rangeTagOf,
  recordNetworkName,
} from "../_libvirt.ts";
import type { Range } from "../description.ts";

/** @internal Something down found to remove: its kind, name and host, and how messages name it. */
export interface Found {
  host: string;
  kind: "domain" | "volume" | "network" | "pool" | "nwfilter";
  name: string;
  /** For volumes and pools: their entry in the ownership record. */
  entry?: OwnedEntry;
  /** `domain "demo-web-1" on local`, made once. */
  label: string;
}

/** @internal Makes a {@link Found} with its label. */
export function found(host: string, kind: Found["kind"], name: string, entry?: OwnedEntry): Found {
  return {
    host,
    kind,
    name,
    label: `${kind} ${JSON.stringify(name)} on ${host}`,
    ...(entry ? { entry } : {}),
  };
}

/** @internal What down found on one host. */
export interface HostFound {
  found: Found[];
  /** The range's ownership record on the host, if any. */
  record?: OwnershipRecord;
}

/** @internal A connection's listing of every domain, by name (handles bound to that connection's lease). */
export interface Listing {
  byName: Map<string, Domain>;
  free(): void;
}

/** @internal Lists every domain on `conn` once (a lane caches it). */
export async function listing(conn: Connection): Promise<Listing> {
  const domains = await listAllDomains(conn);
  return {
    byName: new Map(domains.map((d) => [d.name, d])),
    free: () => {
      for (const d of domains) d.free();
    },
  };
}

/** @internal A storage pool's volumes, by name (handles bound to the lease they were listed on). */
export interface VolumeListing {
  byName: Map<string, StorageVolume>;
  free(): void;
}

/** @internal Lists a storage pool's volumes once (a lane caches it). */
export async function volumeListing(pool: StoragePool): Promise<VolumeListing> {
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
  recordRead: Promise<HostFound>,
): Promise<string[]> {
  const prefix = `${range.name}-`;
  const listedUuids = await lanes.use(pool, async (conn, cached) => {
    const listed = await cached("domains", () => listing(conn));
    const uuids = new Map<string, string>();
    for (const [name, domain] of listed.byName) if (name.startsWith(prefix)) uuids.set(name, domain.uuid);
    return uuids;
  });
  // the record, read meanwhile on another lane, awaited only once this lane is back: a lost connection
  // there is that lane's to report, not this one's (whose lease would be discarded with it)
  const { record } = await recordRead;
  const candidates = [...listedUuids.keys()];
  const proven = new Set<string>();
  if (record) {
    for (const [name, uuid] of listedUuids) if (uuid === rangeDomainUuid(record.uuid, name)) proven.add(name);
  }
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

/** @internal The range's record, networks and domains on one host (the record proves the domains). */
export async function findOnHost(
  range: Range,
  host: string,
  pool: ConnectionPool,
  lanes: Lanes,
): Promise<HostFound> {
  // the record proves the domains' ownership from their listed UUIDs: it is read on one lane while
  // another lists the domains, and the proof waits for both
  const recordRead = lanes.use(pool, (conn) => findRecordAndNetworks(range, host, conn, []));
  recordRead.catch(() => {}); // awaited below, after the domains (whose failure would leave it unheard)
  const result: Found[] = [];
  let domains: string[];
  try {
    domains = await rangeDomains(range, pool, lanes, recordRead);
  } catch (error) {
    // the record's read ends before down says it failed: no work of its goes on behind the error
    await recordRead.catch(() => {});
    throw error;
  }
  for (const name of domains) result.push(found(host, "domain", name));
  const { found: others, record } = await recordRead;
  result.push(...others);
  return { found: result, record };
}

async function findRecordAndNetworks(
  range: Range,
  host: string,
  conn: Connection,
  into: Found[],
): Promise<HostFound> {
  let record: OwnershipRecord | undefined;
  const recordName = recordNetworkName(range.name);
  const networks = await listAllNetworks(conn);
  try {
    for (const n of networks) {
      const xml = await n.xmlDesc();
      if (n.name === recordName) record = parseRecord(xml, range.name);
      else if (rangeTagOf(xml)?.range === range.name) into.push(found(host, "network", n.name));
    }
  } finally {
    for (const n of networks) n.free();
  }
  for (const entry of record?.entries ?? []) into.push(found(host, entry.kind, entry.name, entry));
  return { found: into, record };
}
