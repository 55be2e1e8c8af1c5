/**
 * Domain statistics in bulk: `virConnectGetAllDomainStats` (every domain of a connection, or a filtered
 * set, in one call) and `virDomainListGetStats` (a chosen list of domains), decoded into typed records.
 *
 * libvirt answers with typed parameters (`cpu.time`, `net.0.rx.bytes`, `vcpu.1.state`, ...). Each record
 * keeps them all in `raw` (a name -> value map, 64-bit integers as bigint) and shapes the common groups
 * into typed fields: `state`, `cpu`, `balloon`, `vcpu`, `interfaces`, `blocks`. A group the driver does
 * not report is absent (the test driver reports only `state`; QEMU reports them all for running guests).
 * Times are nanoseconds as bigint (like `DomainInfo.cpuTimeNs`); counters and sizes are numbers (exact up
 * to 2^53: 8 PiB).
 *
 * @example
 * ```ts
 * import { allDomainStats, Connection } from "@deno-libvirt/deno-libvirt";
 *
 * await using conn = await Connection.open("test:///default");
 * for (const record of await allDomainStats(conn, { groups: ["state", "cpu", "interface"] })) {
 *   console.log(record.name, record.state?.state, record.cpu?.timeNs, record.interfaces?.length);
 * }
 * ```
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { reattribute } from "./_handle.ts";
import { type Domain, type DomainStateName, domainStateName, domainStateReason } from "./domain.ts";
import type { RawStatsRecord, TypedValue } from "./ffi/typed_params.ts";
import { listStatsOnce } from "./objects/domain_call.ts";

export type { TypedValue };

/** The statistics groups (`VIR_DOMAIN_STATS_*`). */
export type StatsGroup =
  | "state"
  | "cpu"
  | "balloon"
  | "vcpu"
  | "interface"
  | "block"
  | "perf"
  | "iothread"
  | "memory"
  | "dirtyrate";

const groupBits: Record<StatsGroup, number> = {
  state: 1,
  cpu: 2,
  balloon: 4,
  vcpu: 8,
  interface: 16,
  block: 32,
  perf: 64,
  iothread: 128,
  memory: 256,
  dirtyrate: 512,
};

/** Options for {@link domainStats} and {@link domainListStats}. */
export interface StatsOptions {
  /** The groups to collect; default: every group the driver supports. */
  groups?: StatsGroup[];
  /** Fail with NotSupportedError when the driver lacks a requested group, instead of omitting it. */
  enforce?: boolean;
  /** Report block statistics for backing chains too (`VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING`). */
  backing?: boolean;
  /** Skip domains whose statistics would need a job that is busy (`..._NOWAIT`) rather than waiting. */
  nowait?: boolean;
}

/** Options for {@link allDomainStats}: the groups plus which domains. */
export interface AllDomainStatsOptions extends StatsOptions {
  /** true: only active domains; false: only inactive ones. */
  active?: boolean;
  /** true: only persistent domains; false: only transient ones. */
  persistent?: boolean;
  /** Only domains in these states. */
  states?: ("running" | "paused" | "shutoff" | "other")[];
}

/** The `balloon` group, KiB unless stated. */
export interface BalloonStats {
  /** Memory the balloon currently gives the guest, KiB (`balloon.current`). */
  currentKiB?: number;
  /** The most memory the guest may be given, KiB (`balloon.maximum`). */
  maximumKiB?: number;
  /** Resident set size of the hypervisor process on the host, KiB (`balloon.rss`). */
  rssKiB?: number;
  /** Memory the balloon could reclaim without making the guest swap, KiB (`balloon.usable`). */
  usableKiB?: number;
  /** Memory the guest sees as installed, KiB, as the guest reports it (`balloon.available`). */
  availableKiB?: number;
  /** Memory the guest leaves completely unused, KiB (`balloon.unused`). */
  unusedKiB?: number;
  /** Guest memory holding disk caches that could be reclaimed, KiB (`balloon.disk_caches`). */
  diskCachesKiB?: number;
  /** Memory the guest has swapped in since boot, KiB (`balloon.swap_in`). */
  swapInKiB?: number;
  /** Memory the guest has swapped out since boot, KiB (`balloon.swap_out`). */
  swapOutKiB?: number;
  /** Page faults in the guest that needed disk I/O, a count since boot (`balloon.major_fault`). */
  majorFaults?: number;
  /** Page faults in the guest served without disk I/O, a count since boot (`balloon.minor_fault`). */
  minorFaults?: number;
  /** When the guest last updated the figures (seconds since the epoch). */
  lastUpdate?: number;
}

/** One vCPU of the `vcpu` group. */
export interface VcpuStats {
  /** The vCPU's number, from 0 (`vcpu.<n>`). */
  index: number;
  /** virVcpuState: "offline", "running", "blocked". */
  state?: "offline" | "running" | "blocked" | `state ${number}`;
  /** CPU time the vCPU has used, nanoseconds (`vcpu.<n>.time`). */
  timeNs?: bigint;
  /** Time the vCPU wanted to run but the host did not schedule it, nanoseconds (`vcpu.<n>.wait`). */
  waitNs?: bigint;
  /** Time the vCPU spent queued waiting for a host CPU (steal time), nanoseconds (`vcpu.<n>.delay`). */
  delayNs?: bigint;
  /** Whether the guest has halted the vCPU (idle, e.g. `HLT`) (`vcpu.<n>.halted`). */
  halted?: boolean;
}

/** One NIC of the `interface` group. */
export interface InterfaceStats {
  /** The host-side device, e.g. "vnet3". */
  name: string;
  /** Bytes received by the guest (`net.<n>.rx.bytes`). */
  rxBytes: number;
  /** Packets received by the guest (`net.<n>.rx.pkts`). */
  rxPackets: number;
  /** Receive errors (`net.<n>.rx.errs`). */
  rxErrors: number;
  /** Received packets dropped (`net.<n>.rx.drop`). */
  rxDrops: number;
  /** Bytes sent by the guest (`net.<n>.tx.bytes`). */
  txBytes: number;
  /** Packets sent by the guest (`net.<n>.tx.pkts`). */
  txPackets: number;
  /** Transmit errors (`net.<n>.tx.errs`). */
  txErrors: number;
  /** Packets to send that were dropped (`net.<n>.tx.drop`). */
  txDrops: number;
}

/** One disk (or backing image) of the `block` group. */
export interface BlockStats {
  /** The target device, e.g. "vda". */
  name: string;
  /** The image's path, when it has one. */
  path?: string;
  /** Position in the backing chain (with `backing`). */
  backingIndex?: number;
  /** Read requests completed, a count (`block.<n>.rd.reqs`). */
  readRequests: number;
  /** Bytes read (`block.<n>.rd.bytes`). */
  readBytes: number;
  /** Total time spent on reads, nanoseconds (`block.<n>.rd.times`). */
  readTimeNs: bigint;
  /** Write requests completed, a count (`block.<n>.wr.reqs`). */
  writeRequests: number;
  /** Bytes written (`block.<n>.wr.bytes`). */
  writeBytes: number;
  /** Total time spent on writes, nanoseconds (`block.<n>.wr.times`). */
  writeTimeNs: bigint;
  /** Flush requests completed, a count (`block.<n>.fl.reqs`). */
  flushRequests: number;
  /** Total time spent on flushes, nanoseconds (`block.<n>.fl.times`). */
  flushTimeNs: bigint;
  /** I/O errors seen on the device, a count; only some drivers report it (`block.<n>.errors`). */
  errors?: number;
  /** Bytes the image occupies on the host. */
  allocation?: number;
  /** The virtual disk size, bytes. */
  capacity?: number;
  /** The host file or device size, bytes. */
  physical?: number;
}

/** The statistics of one domain. */
export interface DomainStats {
  /** The domain's name. */
  name: string;
  /** The domain's UUID, in canonical text form. */
  uuid: string;
  /**
   * The `state` group: the domain's state, the numeric virDomain*Reason for it, and that reason's
   * name (e.g. "booted").
   */
  state?: { state: DomainStateName; reason: number; reasonName: string };
  /** The `cpu` group: CPU time of the whole domain, nanoseconds (total, user, system). */
  cpu?: { timeNs: bigint; userNs?: bigint; systemNs?: bigint };
  /** The `balloon` group: memory figures, KiB. */
  balloon?: BalloonStats;
  /** The `vcpu` group: vCPUs online now, the maximum, and the per-vCPU figures. */
  vcpu?: { current: number; maximum: number; vcpus: VcpuStats[] };
  /** The `interface` group: one record per NIC, in the order libvirt numbers them. */
  interfaces?: InterfaceStats[];
  /** The `block` group: one record per disk (and backing image, with `backing`). */
  blocks?: BlockStats[];
  /** Every parameter libvirt returned, by name, including groups not shaped above. */
  raw: Map<string, TypedValue>;
}

function statsBits(options: StatsOptions): number {
  let bits = 0;
  for (const group of options.groups ?? []) {
    const bit = groupBits[group];
    if (bit === undefined) {
      throw new TypeError(
        `Cannot collect statistics group ${JSON.stringify(group)}: known groups are ${
          Object.keys(groupBits).join(", ")
        }`,
      );
    }
    bits |= bit;
  }
  return bits;
}

function commonFlags(options: StatsOptions): number {
  return (options.nowait ? 0x20000000 : 0) | (options.backing ? 0x40000000 : 0) |
    (options.enforce ? 0x80000000 : 0);
}

function filterFlags(options: AllDomainStatsOptions): number {
  let flags = 0;
  if (options.active !== undefined) flags |= options.active ? 1 : 2;
  if (options.persistent !== undefined) flags |= options.persistent ? 4 : 8;
  for (const state of options.states ?? []) {
    flags |= { running: 16, paused: 32, shutoff: 64, other: 128 }[state];
  }
  return flags;
}

const vcpuStates = ["offline", "running", "blocked"] as const;

function num(value: TypedValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") return Number(value);
  return value;
}

function big(value: TypedValue | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(Math.trunc(value));
  if (typeof value === "boolean") return value ? 1n : 0n;
  return BigInt(value);
}

function set<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/**
 * @internal Shapes libvirt's statistics parameters (name -> value) into a {@link DomainStats} record.
 * Pure: the decoding from native memory happens before (lib/ffi/typed_params.ts).
 *
 * @param name the domain's name
 * @param uuid the domain's UUID
 * @param raw the parameters, e.g. `cpu.time`, `net.0.rx.bytes`
 * @returns the typed record (groups absent from `raw` are absent)
 *
 * @example
 * ```ts
 * import { shapeDomainStats, type TypedValue } from "./stats.ts";
 * const stats = shapeDomainStats("web1", "6695eb01-f6a4-8304-79aa-97f2502e193f", new Map<string, TypedValue>([
 *   ["state.state", 1], ["state.reason", 1], ["cpu.time", 42n],
 * ]));
 * console.log(stats.state?.state, stats.cpu?.timeNs); // running 42n
 * ```
 */
export function shapeDomainStats(name: string, uuid: string, raw: Map<string, TypedValue>): DomainStats {
  const stats: DomainStats = { name, uuid, raw };
  // each group is looked for by one of its fixed keys, so a driver that reports only `state` (the
  // test driver) pays a handful of map probes, not a template string per field
  if (raw.has("state.state")) stats.state = shapeState(raw);
  if (raw.has("cpu.time")) stats.cpu = shapeCpu(raw);
  const balloon = shapeBalloon(raw);
  if (balloon !== undefined) stats.balloon = balloon;
  if (raw.has("vcpu.current") || raw.has("vcpu.maximum")) stats.vcpu = shapeVcpus(raw);
  if (raw.has("net.count")) stats.interfaces = shapeInterfaces(raw);
  if (raw.has("block.count")) stats.blocks = shapeBlocks(raw);
  return stats;
}

function shapeState(raw: Map<string, TypedValue>): NonNullable<DomainStats["state"]> {
  const state = domainStateName(num(raw.get("state.state"))!);
  const reason = num(raw.get("state.reason")) ?? 0;
  return { state, reason, reasonName: domainStateReason(state, reason) };
}

function shapeCpu(raw: Map<string, TypedValue>): NonNullable<DomainStats["cpu"]> {
  const cpu: NonNullable<DomainStats["cpu"]> = { timeNs: big(raw.get("cpu.time"))! };
  set(cpu, "userNs", big(raw.get("cpu.user")));
  set(cpu, "systemNs", big(raw.get("cpu.system")));
  return cpu;
}

/** The `balloon` group's fields and their full parameter names (same order), made once. */
const balloonFields: readonly (keyof BalloonStats)[] = [
  "currentKiB",
  "maximumKiB",
  "rssKiB",
  "usableKiB",
  "availableKiB",
  "unusedKiB",
  "diskCachesKiB",
  "swapInKiB",
  "swapOutKiB",
  "majorFaults",
  "minorFaults",
  "lastUpdate",
];
const balloonParams: readonly string[] = [
  "current",
  "maximum",
  "rss",
  "usable",
  "available",
  "unused",
  "disk_caches",
  "swap_in",
  "swap_out",
  "major_fault",
  "minor_fault",
  "last-update",
].map((key) => `balloon.${key}`);

function shapeBalloon(raw: Map<string, TypedValue>): BalloonStats | undefined {
  // an indexed loop: a destructuring for-of over [field, key] pairs ran per record in V8's interpreter
  // (a short script never leaves it) and took 0.6 ms of background compilation in a 400-call process
  let balloon: BalloonStats | undefined;
  for (let i = 0; i < balloonParams.length; i++) {
    const value = raw.get(balloonParams[i]);
    if (value !== undefined) (balloon ??= {})[balloonFields[i]] = num(value);
  }
  return balloon;
}

const vcpuFields = ["state", "time", "wait", "delay", "halted"] as const;

function shapeVcpus(raw: Map<string, TypedValue>): NonNullable<DomainStats["vcpu"]> {
  const maximum = num(raw.get("vcpu.maximum")) ?? 0;
  const vcpus: VcpuStats[] = [];
  for (let index = 0; index < maximum; index++) {
    const prefix = `vcpu.${index}.`;
    if (!vcpuFields.some((k) => raw.has(prefix + k))) continue;
    const vcpu: VcpuStats = { index };
    const state = num(raw.get(prefix + "state"));
    if (state !== undefined) vcpu.state = vcpuStates[state] ?? `state ${state}`;
    set(vcpu, "timeNs", big(raw.get(prefix + "time")));
    set(vcpu, "waitNs", big(raw.get(prefix + "wait")));
    set(vcpu, "delayNs", big(raw.get(prefix + "delay")));
    const halted = raw.get(prefix + "halted");
    if (halted !== undefined) vcpu.halted = halted === true || halted === "yes" || halted === 1;
    vcpus.push(vcpu);
  }
  return { current: num(raw.get("vcpu.current")) ?? 0, maximum, vcpus };
}

function shapeInterfaces(raw: Map<string, TypedValue>): InterfaceStats[] {
  const count = num(raw.get("net.count")) ?? 0;
  return Array.from({ length: count }, (_, i) => {
    const p = `net.${i}.`;
    const n = (key: string) => num(raw.get(p + key)) ?? 0;
    return {
      name: String(raw.get(p + "name") ?? ""),
      rxBytes: n("rx.bytes"),
      rxPackets: n("rx.pkts"),
      rxErrors: n("rx.errs"),
      rxDrops: n("rx.drop"),
      txBytes: n("tx.bytes"),
      txPackets: n("tx.pkts"),
      txErrors: n("tx.errs"),
      txDrops: n("tx.drop"),
    };
  });
}

function shapeBlocks(raw: Map<string, TypedValue>): BlockStats[] {
  const count = num(raw.get("block.count")) ?? 0;
  return Array.from({ length: count }, (_, i) => {
    const p = `block.${i}.`;
    const get = (key: string) => raw.get(p + key);
    const n = (key: string) => num(get(key)) ?? 0;
    const t = (key: string) => big(get(key)) ?? 0n;
    const block: BlockStats = {
      name: String(get("name") ?? ""),
      readRequests: n("rd.reqs"),
      readBytes: n("rd.bytes"),
      readTimeNs: t("rd.times"),
      writeRequests: n("wr.reqs"),
      writeBytes: n("wr.bytes"),
      writeTimeNs: t("wr.times"),
      flushRequests: n("fl.reqs"),
      flushTimeNs: t("fl.times"),
    };
    const path = get("path");
    if (path !== undefined) block.path = String(path);
    set(block, "backingIndex", num(get("backingIndex")));
    set(block, "errors", num(get("errors")));
    set(block, "allocation", num(get("allocation")));
    set(block, "capacity", num(get("capacity")));
    set(block, "physical", num(get("physical")));
    return block;
  });
}

/**
 * Statistics of every domain of a connection (or those the filters select), in one call
 * (virConnectGetAllDomainStats).
 *
 * @param connection the connection
 * @param options groups, domain filters, enforce/backing/nowait
 * @returns one record per domain, in libvirt's order
 * @throws {TypeError} for an unknown group
 * @throws {NotSupportedError} with `enforce` when the driver lacks a requested group
 *
 * @example
 * ```ts
 * import { allDomainStats, Connection } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const records = await allDomainStats(conn, { groups: ["state", "cpu", "balloon"], active: true });
 * for (const { name, state, cpu, balloon } of records) console.log(name, state?.state, cpu?.timeNs, balloon);
 * // "test" "running" undefined undefined: the test driver reports only the state group
 * ```
 */
export async function allDomainStats(
  connection: Connection,
  options: AllDomainStatsOptions = {},
): Promise<DomainStats[]> {
  const bits = statsBits(options);
  const flags = (filterFlags(options) | commonFlags(options)) >>> 0;
  const operation = `get the domain statistics of ${JSON.stringify(connection.uri)}`;
  try {
    const records = await connection.getAllDomainStats(bits, flags);
    return records.map((r) => shapeDomainStats(r.name, r.uuid, r.params));
  } catch (error) {
    throw reattribute(error, operation);
  }
}

/**
 * Statistics of a list of domains of one connection, in one call (virDomainListGetStats).
 *
 * @param domains the domains (all of the same connection; at least one)
 * @param options groups, enforce/backing/nowait
 * @returns one record per domain libvirt could report on
 * @throws {TypeError} for an empty list, domains of different connections, a freed domain, or an
 *   unknown group
 * @throws {LibvirtError} when libvirt fails (e.g. {@link NotFoundError} for a vanished domain)
 *
 * @example
 * ```ts
 * import { Connection, domainListStats, listAllDomains } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const domains = await listAllDomains(conn, { active: true });
 * for (const record of await domainListStats(domains, { groups: ["state"] })) {
 *   console.log(record.name, record.state, record.raw); // "test" { state: "running", ... } Map { "state.state" => 1, ... }
 * }
 * for (const dom of domains) dom.free();
 * ```
 */
export function domainListStats(domains: Domain[], options: StatsOptions = {}): Promise<DomainStats[]> {
  // not async: one promise per call, the gate's own (see lib/objects/domain_call.ts)
  try {
    if (domains.length === 0) throw new TypeError("Cannot get statistics of no domains: pass at least one");
    const connection = domains[0].connection;
    for (const d of domains) {
      if (d.connection !== connection) {
        throw new TypeError("Cannot get statistics of domains of different connections in one call");
      }
    }
    const bits = statsBits(options);
    const flags = commonFlags(options) >>> 0;
    return listStatsOnce(domains, bits, flags, () => statsOperation(domains), shapeRecords);
  } catch (error) {
    return Promise.reject(error);
  }
}

function statsOperation(domains: readonly Domain[]): string {
  return domains.length === 1
    ? `get the statistics of domain ${JSON.stringify(domains[0].name)}`
    : `get the statistics of ${domains.length} domains`;
}

function shapeRecords(records: RawStatsRecord[]): DomainStats[] {
  return records.map((r) => shapeDomainStats(r.name, r.uuid, r.params));
}

/**
 * Statistics of one domain (virDomainListGetStats with one domain).
 *
 * @param domain the domain
 * @param groups the groups to collect; default: every group the driver supports
 * @param options enforce/backing/nowait
 * @returns its record
 * @throws {LibvirtError} when libvirt fails
 *
 * @example
 * ```ts
 * import { Connection, domainStats, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const { state, vcpu, interfaces } = await domainStats(dom, ["state", "vcpu", "interface"]);
 * console.log(state?.state, vcpu, interfaces); // "running" undefined undefined on the test driver; QEMU fills all three
 * ```
 */
export function domainStats(
  domain: Domain,
  groups?: StatsGroup[],
  options: Omit<StatsOptions, "groups"> = {},
): Promise<DomainStats> {
  try {
    const bits = statsBits(groups ? { groups } : options);
    const flags = commonFlags(options) >>> 0;
    const domains = [domain];
    return listStatsOnce(domains, bits, flags, () => statsOperation(domains), ([record]) =>
      // libvirt skips domains it cannot report on with nowait
      record === undefined
        ? { name: domain.name, uuid: domain.uuid, raw: new Map() }
        : shapeDomainStats(record.name, record.uuid, record.params));
  } catch (error) {
    return Promise.reject(error);
  }
}
