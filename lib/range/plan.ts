/**
 * `planRange`: what `up` would do, as a diff of what exists on each host versus the description:
 * networks, the storage pool, volumes and domains, each to create, to keep, or in conflict with the
 * reason. A thing of a planned name that exists is kept only when it carries this range's ownership
 * mark (the tag in a network's or domain's metadata; for pools and volumes, an entry in the range's
 * ownership record on that host); otherwise it is a conflict and `up` creates nothing.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * import { planRange } from "@deno-libvirt/deno-libvirt";
 * await using pools = new PoolRegistry();
 * const plan = await planRange(parseRangeDescription(await Deno.readTextFile("range.yaml")), pools);
 * for (const item of plan.items) console.log(item.action, item.kind, item.name, item.reason);
 * ```
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { isNotFound, isNotSupported } from "../errors.ts";
import { listAllDomains } from "../domain.ts";
import { listAllNetworks } from "../network.ts";
import type { PoolRegistry } from "../pool.ts";
import { listVolumes, lookupStoragePool } from "../storage.ts";
import {
  domainRange,
  type OwnedEntry,
  type OwnershipRecord,
  parseRecord,
  rangeDomainUuid,
  rangeTagOf,
  recordNetworkName,
  verifiedRange,
} from "./_libvirt.ts";
import type { Range } from "./description.ts";
import { firewallFilters } from "./firewall.ts";

/** One line of a plan. */
export interface PlanItem {
  /** What kind of libvirt object the line is about. */
  kind: "network" | "pool" | "volume" | "domain" | "nwfilter";
  /** The host id and its URI. */
  host: string;
  /** The libvirt URI of that host. */
  uri: string;
  /** The object's libvirt name. */
  name: string;
  /** What `up` would do: create it, keep the one already there, or stop at a conflict. */
  action: "create" | "keep" | "conflict";
  /** Why that action, in words. */
  reason: string;
}

/** What {@link planRange} found. */
export interface RangePlan {
  /** The range's name. */
  range: string;
  /** One line per object of the range. */
  items: PlanItem[];
  /** Counts by action. */
  create: number;
  /** Items whose action is "keep". */
  keep: number;
  /** Items whose action is "conflict". */
  conflict: number;
}

/** @internal What exists on one host, as far as the range is concerned. */
export interface HostSurvey {
  /** Network name -> the range that tagged it (undefined: untagged), and whether it runs. */
  networks: Map<string, { range: string | undefined; active: boolean }>;
  /** Whether the pool exists and runs. */
  pool: { exists: boolean; active: boolean };
  /** Volume names in the pool. */
  volumes: Set<string>;
  /** Domain name -> the range that tagged it. Only names with the range's prefix are read. */
  domains: Map<string, string | undefined>;
  /** The range's ownership record on this host (pools and volumes it created), if any. */
  record?: OwnershipRecord;
  /** True when a network has the record's name but is not this range's record. */
  recordNameTaken: boolean;
  /** The names of the host's network filters (read only when the range has a firewall). */
  nwfilters?: Set<string>;
}

/** Options for {@link planRange}. */
export interface PlanOptions {
  /**
   * Stops the survey: no host's survey starts after the abort, the ones in flight stop before their
   * next call (a wait for a pooled connection at once), and `planRange` rejects with the signal's
   * reason. It only reads: nothing is left behind.
   */
  signal?: AbortSignal;
}

/**
 * @internal Reads what exists on a host: networks, pool, volumes, the range's domains; `signal` is
 * checked before each call.
 */
export async function surveyHost(
  range: Range,
  connection: Connection,
  signal?: AbortSignal,
): Promise<HostSurvey> {
  signal?.throwIfAborted();
  const survey: HostSurvey = {
    networks: new Map(),
    pool: { exists: false, active: false },
    volumes: new Set(),
    domains: new Map(),
    recordNameTaken: false,
  };
  const networks = await listAllNetworks(connection);
  const recordName = recordNetworkName(range.name);
  try {
    for (const network of networks) {
      signal?.throwIfAborted();
      const xml = await network.xmlDesc();
      if (network.name === recordName) {
        survey.record = parseRecord(xml, range.name);
        survey.recordNameTaken = survey.record === undefined;
        continue;
      }
      survey.networks.set(network.name, { range: rangeTagOf(xml)?.range, active: await network.isActive() });
    }
  } finally {
    for (const n of networks) n.free();
  }
  signal?.throwIfAborted();
  try {
    using pool = await lookupStoragePool(connection, range.pool.name);
    survey.pool.exists = true;
    survey.pool.active = await pool.isActive();
    if (survey.pool.active) {
      const volumes = await listVolumes(pool);
      for (const v of volumes) {
        survey.volumes.add(v.name);
        v.free();
      }
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const recordedFilters = survey.record?.entries.some((e) => e.kind === "nwfilter") ?? false;
  if ((range.description.firewall ?? []).length > 0 || recordedFilters) {
    const filters = await connection.listAllNwFilters().catch((error) => {
      if (!isNotSupported(error)) throw error;
      throw new Error(
        `Cannot plan the firewall of range ${JSON.stringify(range.name)} on ${connection.uri}: ` +
          `this libvirt driver has no network filters (remove the firewall section for this host)`,
        { cause: error },
      );
    });
    survey.nwfilters = new Set(filters.map((f) => f.name));
    for (const f of filters) f.free();
  }
  signal?.throwIfAborted();
  const domains = await listAllDomains(connection);
  try {
    const prefix = `${range.name}-`;
    for (const domain of domains) {
      if (!domain.name.startsWith(prefix)) continue;
      signal?.throwIfAborted();
      // up's derived UUID proves it without a call (as in down); any other asks the metadata tag
      const proven = survey.record !== undefined &&
        domain.uuid === rangeDomainUuid(survey.record.uuid, domain.name);
      survey.domains.set(domain.name, proven ? range.name : await domainRange(domain));
    }
  } finally {
    for (const d of domains) d.free();
  }
  return survey;
}

/** @internal The plan of one host from its survey. */
export function planHost(range: Range, hostId: string, uri: string, survey: HostSurvey): PlanItem[] {
  const guests = range.guests.filter((g) => g.hostId === hostId);
  if (guests.length === 0) return [];
  const items: PlanItem[] = [];
  const host: HostPlan = {
    range,
    hostId,
    survey,
    guests,
    item: (kind, name, action, reason) => void items.push({ kind, host: hostId, uri, name, action, reason }),
    owned: (kind, name) =>
      survey.record?.entries.find((e) =>
        e.kind === kind && e.name === name && (kind === "pool" || e.pool === range.pool.name)
      ),
  };
  planNetworks(host);
  planPool(host);
  planVolumes(host);
  planFilters(host);
  planDomains(host);
  return items;
}

/** What the planners of one host share: the range, the host's survey and guests, and how to add an item. */
interface HostPlan {
  range: Range;
  hostId: string;
  survey: HostSurvey;
  /** The range's guests on this host. */
  guests: Range["guests"];
  /** Adds an item of this host to the plan. */
  item(kind: PlanItem["kind"], name: string, action: PlanItem["action"], reason: string): void;
  /** The ownership record's entry of a pool or volume (of the range's pool), if the range made it. */
  owned(kind: "pool" | "volume", name: string): OwnedEntry | undefined;
}

/** The ownership record's network name, and every network a guest of this host uses. */
function planNetworks({ range, survey, guests, item }: HostPlan): void {
  const recordName = recordNetworkName(range.name);
  if (survey.recordNameTaken) {
    item(
      "network",
      recordName,
      "conflict",
      "the name of the range's ownership record is taken by a network that is not this range's record",
    );
  }
  for (const spec of range.description.networks ?? []) {
    const used = guests.some((g) => g.nics.some((n) => n.network === spec.name));
    if (!used) continue;
    const found = survey.networks.get(spec.name);
    if (spec.name === recordName) {
      item(
        "network",
        spec.name,
        "conflict",
        "this name is reserved for the range's ownership record: rename the network",
      );
    } else if (spec.external) {
      if (found) {
        item("network", spec.name, "keep", `external network, ${found.active ? "running" : "inactive"}`);
      } else item("network", spec.name, "conflict", "external network not found on this host");
    } else if (!found) item("network", spec.name, "create", `${spec.mode} ${spec.subnet}`);
    else if (found.range === range.name) {
      item("network", spec.name, "keep", found.active ? "exists, running" : "exists, inactive: up starts it");
    } else {
      item(
        "network",
        spec.name,
        "conflict",
        found.range === undefined
          ? "a network of this name exists that no range created"
          : `a network of this name belongs to range ${JSON.stringify(found.range)}`,
      );
    }
  }
}

/** The storage pool: created by the range (then it must be in its record), or existing and running. */
function planPool({ range, survey, item, owned }: HostPlan): void {
  if (range.pool.created) {
    if (!survey.pool.exists) item("pool", range.pool.name, "create", `dir ${range.pool.path}`);
    else if (owned("pool", range.pool.name)) {
      item("pool", range.pool.name, "keep", "exists, in this range's ownership record");
    } else {
      item(
        "pool",
        range.pool.name,
        "conflict",
        "a storage pool of this name exists that this range did not create (not in its ownership record)",
      );
    }
  } else if (!survey.pool.exists) {
    item("pool", range.pool.name, "conflict", "storage pool not found on this host");
  } else if (!survey.pool.active) item("pool", range.pool.name, "conflict", "storage pool is not running");
  else item("pool", range.pool.name, "keep", "existing pool");
}

/** Each guest's volume: created, kept when the record says the range made it, or a conflict. */
function planVolumes({ range, survey, guests, item, owned }: HostPlan): void {
  const baseImages = new Set((range.description.baseImages ?? []).map((b) => b.path));
  for (const g of guests) {
    if (survey.pool.exists && !survey.pool.active && owned("volume", g.volume)) {
      // the range's own pool, stopped: its volumes cannot be listed, the record says this one is ours
      item("volume", g.volume, "keep", "in this range's ownership record (up starts the pool first)");
      continue;
    }
    if (!survey.volumes.has(g.volume)) {
      item(
        "volume",
        g.volume,
        "create",
        g.baseImage ? `qcow2 overlay of ${g.baseImage.path}` : `empty qcow2, ${g.diskMiB} MiB`,
      );
      continue;
    }
    const entry = owned("volume", g.volume);
    if (entry && !(entry.path !== undefined && baseImages.has(entry.path))) {
      item("volume", g.volume, "keep", "exists, in this range's ownership record");
    } else {
      item(
        "volume",
        g.volume,
        "conflict",
        entry
          ? "a volume of this name is one of the range's base images"
          : "a volume of this name exists that this range did not create (not in its ownership record)",
      );
    }
  }
}

/** The firewall's network filters, and the emptied filters of guest kinds that lost their last rule. */
function planFilters({ range, hostId, survey, item }: HostPlan): void {
  for (const filter of firewallFilters(range, hostId)) {
    const recorded = survey.record?.entries.some((e) => e.kind === "nwfilter" && e.name === filter.name);
    if (!survey.nwfilters?.has(filter.name)) {
      item("nwfilter", filter.name, "create", `firewall of ${filter.guestId}`);
    } else if (recorded) {
      item("nwfilter", filter.name, "keep", "exists, in this range's ownership record (up redefines it)");
    } else {
      item(
        "nwfilter",
        filter.name,
        "conflict",
        "a network filter of this name exists that this range did not create (not in its ownership record)",
      );
    }
  }
  // a filter of the range whose guest kind lost its last rule: still referenced by the guests' NICs, so
  // up empties it (the traffic opens), down removes it
  const filtering = new Set(firewallFilters(range, hostId).map((f) => f.name));
  for (const e of survey.record?.entries ?? []) {
    if (e.kind !== "nwfilter" || filtering.has(e.name) || !survey.nwfilters?.has(e.name)) continue;
    item("nwfilter", e.name, "keep", "no rule protects its guests now: up empties it (down removes it)");
  }
}

/** Each guest's domain: created, kept when tagged with this range, or a conflict. */
function planDomains({ range, survey, guests, item }: HostPlan): void {
  for (const g of guests) {
    if (!survey.domains.has(g.name)) {
      item("domain", g.name, "create", `${g.type}, ${g.memoryMiB} MiB, ${g.nics.length} NIC(s)`);
      continue;
    }
    const owner = survey.domains.get(g.name);
    if (owner === range.name) item("domain", g.name, "keep", "exists, tagged with this range");
    else {
      item(
        "domain",
        g.name,
        "conflict",
        owner === undefined
          ? "a domain of this name exists that no range created"
          : `a domain of this name belongs to range ${JSON.stringify(owner)}`,
      );
    }
  }
}

/**
 * Compares what exists on the range's hosts with the description.
 *
 * @param range the validated range ({@link parseRangeDescription}); re-checked first
 * @param registry the pools to reach the hosts through
 * @param options a `signal` to stop the survey
 * @returns every network, pool, volume and domain with create / keep / conflict and why
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {LibvirtError} when a host cannot be reached or listed
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription, planRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: plan
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: plan-lan, mode: isolated, subnet: 10.9.1.0/24, dhcp: { start: 10.9.1.100, end: 10.9.1.200 } }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: plan-lan }] }]
 * `, "plan.yaml");
 * await using pools = new PoolRegistry({ max: 2 });
 * const plan = await planRange(range, pools);
 * console.log(plan.create, "to create,", plan.conflict, "conflicts");
 * ```
 */
export async function planRange(
  range: Range,
  registry: PoolRegistry,
  options: PlanOptions = {},
): Promise<RangePlan> {
  return (await surveyAndPlan(verifiedRange(range, "plan"), registry, options.signal)).plan;
}

/** @internal The plan and each host's survey (up needs the ownership records it read). */
export async function surveyAndPlan(
  range: Range,
  registry: PoolRegistry,
  signal?: AbortSignal,
): Promise<{ plan: RangePlan; surveys: Map<string, HostSurvey> }> {
  signal?.throwIfAborted();
  const hosts = range.description.hosts.filter((h) => range.guests.some((g) => g.hostId === h.id));
  const surveys = new Map<string, HostSurvey>();
  // allSettled, not all: on an abort every host's survey has ended (its connection back in the pool)
  // before the rejection reaches the caller
  const settled = await Promise.allSettled(hosts.map(async (host) => {
    const survey = await registry.get(host.uri).use((c) => surveyHost(range, c, signal), {
      idempotent: true,
      signal,
    });
    surveys.set(host.id, survey);
    return planHost(range, host.id, host.uri, survey);
  }));
  signal?.throwIfAborted();
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const items = settled.flatMap((r) => (r as PromiseFulfilledResult<PlanItem[]>).value);
  if (range.description.hosts.length > 1) await migratedGuests(range, registry, surveys, items, signal);
  return { surveys, plan: planOf(range, items) };
}

/**
 * A guest to create on its host that runs, tagged with this range, on another of the range's hosts
 * was migrated there (lib/range/migrate.ts): creating it again would make a second copy of it, so it
 * is a conflict. Hosts without guests of their own are surveyed only for their domains.
 */
async function migratedGuests(
  range: Range,
  registry: PoolRegistry,
  surveys: Map<string, HostSurvey>,
  items: PlanItem[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const creates = items.filter((i) => i.kind === "domain" && i.action === "create");
  if (creates.length === 0) return;
  const elsewhere = new Map<string, Map<string, string | undefined>>();
  for (const [id, survey] of surveys) elsewhere.set(id, survey.domains);
  const settled = await Promise.allSettled(
    range.description.hosts.filter((h) => !surveys.has(h.id)).map(async (host) => {
      const domains = await registry.get(host.uri).use(async (c) => {
        const found = new Map<string, string | undefined>();
        signal?.throwIfAborted();
        const listed = await listAllDomains(c);
        try {
          for (const d of listed) {
            if (!d.name.startsWith(`${range.name}-`)) continue;
            signal?.throwIfAborted();
            found.set(d.name, await domainRange(d));
          }
        } finally {
          for (const d of listed) d.free();
        }
        return found;
      }, { idempotent: true, signal });
      elsewhere.set(host.id, domains);
    }),
  );
  signal?.throwIfAborted();
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  for (const item of creates) {
    for (const [id, domains] of elsewhere) {
      if (id === item.host || domains.get(item.name) !== range.name) continue;
      item.action = "conflict";
      item.reason =
        `it runs on ${id} (migrated there): migrate it back ("range.ts migrate FILE ${item.name} ` +
        `--to ${item.host}") or change its host in the description`;
      break;
    }
  }
}

function planOf(range: Range, items: PlanItem[]): RangePlan {
  return {
    range: range.name,
    items,
    create: items.filter((i) => i.action === "create").length,
    keep: items.filter((i) => i.action === "keep").length,
    conflict: items.filter((i) => i.action === "conflict").length,
  };
}
