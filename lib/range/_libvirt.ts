// The libvirt side of range automation: the XML of range networks, volumes and domains (all tagged
// with the range's name, every value escaped), reading the tags back, the per-host ownership record
// (what `up` is about to create / has created among pools and volumes, which carry no metadata), the
// re-check of a Range before an operation trusts it, and settling parallel work. Bounded parallel work
// over a host's pool (Lanes) is in ./_lanes.ts, the domain XML of a guest (guestXml, with its per-kind
// template) in ./_guest_xml.ts, both re-exported here for the modules that import them from here.
import { getDomainMetadata } from "../domain.ts";
import type { Domain } from "../domain.ts";
import { metadataXml, parseMetadataXml } from "../domain_xml.ts";
import { parseCidr } from "../ip/addresses.ts";
import { asArray, attribute, escapeXml, type ParsedXml, parseXml } from "../xml.ts";
import { PrefixedSha256 } from "./_sha256.ts";
import { scanRecord } from "./_record_scan.ts";
import {
  type ExpandedGuest,
  type NetworkSpec,
  type Range,
  RANGE_NAMESPACE,
  RangeDescriptionError,
  validateRange,
} from "./description.ts";
import { dhcpHostXml, rangeDhcpHosts } from "./network_live.ts";

export { Lanes } from "./_lanes.ts";
export { builtGuestXml, guestTemplateCount, guestXml } from "./_guest_xml.ts";

function ipText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

/** The `<range:tags>` element of something the range created. */
function tagXml(range: string, extra: Record<string, string | number> = {}): string {
  return metadataXml({ range, ...extra }, "range", RANGE_NAMESPACE);
}

/** Reads the range name out of an XML document's `<range:tags>` metadata, if any. */
export function rangeTagOf(xml: string): Record<string, string> | undefined {
  const match = /<([A-Za-z_][\w.-]*):tags\s+xmlns:\1=["']([^"']+)["'][^>]*>[\s\S]*?<\/\1:tags>/.exec(xml);
  if (!match || match[2] !== RANGE_NAMESPACE) return undefined;
  return parseMetadataXml(match[0]);
}

/** The range a domain belongs to (its metadata tag), or undefined. */
export async function domainRange(domain: Domain): Promise<string | undefined> {
  const xml = await getDomainMetadata(domain, RANGE_NAMESPACE);
  return xml === undefined ? undefined : parseMetadataXml(xml).range;
}

/**
 * The UUID `up` gives a range domain: derived from the random UUID of the host's ownership record and
 * the domain's name (the first 128 bits of SHA-256 over both, as an RFC 9562 version 8 UUID), and
 * written in the define XML. `down` lists the host's domains once and knows a domain as the range's
 * when its UUID (read locally from the listed handle, no round trip) is the one derived from the
 * record: only a define of this range's XML carries it, by chance the odds are 2^-122. A domain whose
 * UUID does not match (made before this scheme, or renamed) still counts when its metadata tag says so
 * (one call per such domain).
 *
 * @param recordUuid the `uuid` of the host's {@link OwnershipRecord}
 * @param name the domain's name
 * @returns a lower-case UUID string
 */
export function rangeDomainUuid(recordUuid: string, name: string): string {
  const bytes = uuidHasher(recordUuid).digest(utf8.encode(name)).subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8 (custom)
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
  let text = "";
  for (let i = 0; i < 16; i++) text += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "") + HEX[bytes[i]];
  return text;
}
// up derives one per guest: one encoder, and the two hex digits of every byte value made once
const utf8 = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
/**
 * The hash of `deno-libvirt range domain\0<record uuid>\0` + a name, per record: the prefix is 63
 * bytes, so with the names' shared first byte (a range's names start with its name) the first block
 * is compressed once per record, not once per domain. A few records at a time (one per host).
 */
const uuidHashers = new Map<string, PrefixedSha256>();
function uuidHasher(recordUuid: string): PrefixedSha256 {
  let hasher = uuidHashers.get(recordUuid);
  if (hasher === undefined) {
    if (uuidHashers.size >= 16) uuidHashers.clear();
    hasher = new PrefixedSha256(utf8.encode(`deno-libvirt range domain\0${recordUuid.toLowerCase()}\0`));
    uuidHashers.set(recordUuid, hasher);
  }
  return hasher;
}

/** The network XML: forward mode, gateway, DHCP pool, reservations (explicit and planned), tag. */
export function networkXml(range: Range, spec: NetworkSpec, hostId: string): string {
  const cidr = parseCidr(spec.subnet);
  const gateway = escapeXml(ipText(cidr.base + 1n));
  const mask = escapeXml(ipText(((1n << 32n) - 1n) ^ ((1n << BigInt(32 - cidr.bits)) - 1n)));
  let xml = `<network><name>${escapeXml(spec.name)}</name><metadata>${
    tagXml(range.name, { host: hostId })
  }</metadata>`;
  if (spec.mode === "nat") xml += "<forward mode='nat'/>";
  if (spec.bridge) xml += `<bridge name='${escapeXml(spec.bridge)}' stp='on' delay='0'/>`;
  xml += `<ip address='${gateway}' netmask='${mask}'>`;
  if (spec.dhcp) {
    xml += `<dhcp><range start='${escapeXml(spec.dhcp.start)}' end='${escapeXml(spec.dhcp.end)}'/>`;
    for (const h of rangeDhcpHosts(range, spec, hostId)) xml += dhcpHostXml(h);
    xml += "</dhcp>";
  }
  return xml + "</ip></network>";
}

/** A qcow2 volume: an overlay of the base image, or an empty data disk. */
export function volumeXml(guest: ExpandedGuest): string {
  const capacity = `<capacity unit='MiB'>${escapeXml(String(guest.diskMiB))}</capacity>`;
  const backing = guest.baseImage
    ? `<backingStore><path>${escapeXml(guest.baseImage.path)}</path><format type='${
      escapeXml(guest.baseImage.format ?? "qcow2")
    }'/></backingStore>`
    : "";
  return `<volume type='file'><name>${
    escapeXml(guest.volume)
  }</name>${capacity}<target><format type='qcow2'/></target>${backing}</volume>`;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; every item runs (a failure does not stop the
 * others) and the outcomes come back in order.
 */
export async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await fn(items[i]) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** An Error from anything thrown. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

// ---------------------------------------------------------------------------------------------------
// Re-checking a Range before an operation trusts it

type Comparable = unknown;

/** Where two values differ: the steps from the root, innermost first (an object key as "\0key"). */
interface Difference {
  steps: string[];
  actual: unknown;
  expected: unknown;
}

/**
 * The first place two plain values (objects, arrays, Maps, scalars) differ, as a field path. The path
 * is built only for a difference found: a Range of 1,000 guests is compared in ~100,000 steps.
 */
function firstDifference(
  actual: Comparable,
  expected: Comparable,
): { path: string; actual: unknown; expected: unknown } | undefined {
  const d = differenceOf(actual, expected);
  if (d === undefined) return undefined;
  let path = "";
  for (let i = d.steps.length - 1; i >= 0; i--) {
    const step = d.steps[i];
    if (step[0] !== "\0") path += step;
    else path = path ? `${path}.${step.slice(1)}` : step.slice(1);
  }
  return { path, actual: d.actual, expected: d.expected };
}

function differenceOf(actual: Comparable, expected: Comparable): Difference | undefined {
  if (Object.is(actual, expected)) return undefined;
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return { steps: [], actual, expected };
    for (const [key, value] of expected) {
      if (!actual.has(key)) return { steps: [], actual, expected };
      const d = differenceOf(actual.get(key), value);
      if (d) return d.steps.push(`.get(${JSON.stringify(key)})`), d;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return { steps: [], actual, expected };
    const n = Math.max(actual.length, expected.length);
    for (let i = 0; i < n; i++) {
      const d = differenceOf(actual[i], expected[i]);
      if (d) return d.steps.push(`[${i}]`), d;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual) || actual instanceof Map) {
      return { steps: [], actual, expected };
    }
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    // the keys of both, the actual's first, each once; a key undefined on both sides is no difference
    for (const key of Object.keys(a)) {
      if (a[key] === undefined && e[key] === undefined) continue;
      const d = differenceOf(a[key], e[key]);
      if (d) return d.steps.push(`\0${key}`), d;
    }
    for (const key of Object.keys(e)) {
      if (Object.prototype.propertyIsEnumerable.call(a, key)) continue; // compared above
      if (a[key] === undefined && e[key] === undefined) continue;
      const d = differenceOf(a[key], e[key]);
      if (d) return d.steps.push(`\0${key}`), d;
    }
    return undefined;
  }
  return { steps: [], actual, expected };
}

function shown(value: unknown): string {
  const text = value instanceof Map ? `Map(${value.size})` : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Re-validates a Range before an operation acts on it: its description is validated again (from a
 * copy) and the expansion compared with the one given, field by field. A Range built by hand or
 * changed after `parseRangeDescription` / `validateRange` is refused before anything is created.
 *
 * @param range what the caller passed
 * @param operation "up", "down", ... for the message
 * @returns the freshly validated Range (from a private copy: later changes by the caller do not reach
 *   the operation)
 * @throws {RangeDescriptionError} naming the field that is invalid or was changed after validation
 */
export function verifiedRange(range: Range, operation: string): Range {
  const source = `range given to ${operation}`;
  if (
    range === null || typeof range !== "object" || range.description === null ||
    typeof range.description !== "object"
  ) {
    throw new RangeDescriptionError(source, [{
      path: "",
      message: `expected a Range from parseRangeDescription or validateRange, got ${shown(range)}`,
    }]);
  }
  let copy: unknown;
  try {
    copy = structuredClone(range.description);
  } catch (error) {
    throw new RangeDescriptionError(source, [{
      path: "description",
      message: `cannot be copied (${error instanceof Error ? error.message : String(error)}): ` +
        "a description holds only plain data",
    }]);
  }
  // The bounds the Range was validated within: a caller who raised maxGuests at parse is not refused here.
  const fresh = validateRange(copy, {
    source: `${source} (its description, re-checked)`,
    ...(range.limits === undefined ? {} : { limits: range.limits }),
  });
  const given = {
    name: range.name,
    snapshot: range.snapshot,
    pool: range.pool,
    guests: range.guests,
    networksByHost: range.networksByHost,
  };
  const expected = {
    name: fresh.name,
    snapshot: fresh.snapshot,
    pool: fresh.pool,
    guests: fresh.guests,
    networksByHost: fresh.networksByHost,
  };
  const d = firstDifference(given, expected);
  if (d) {
    throw new RangeDescriptionError(source, [{
      path: d.path,
      message:
        `is ${shown(d.actual)} but the range's description gives ${
          shown(d.expected)
        }: the Range was changed after it was validated; change its description and validate it again ` +
        "(validateRange) instead",
    }]);
  }
  return fresh;
}

// ---------------------------------------------------------------------------------------------------
// The ownership record: what up is about to create / has created among pools and volumes

/** The namespace of the ownership record's metadata. */
export const RECORD_NAMESPACE = "urn:deno-libvirt:range-record:1";

/** The name of the inactive network that carries a range's ownership record on a host. */
export function recordNetworkName(range: string): string {
  return `${range}.ownership`;
}

/** One pool, volume or network filter (lib/range/firewall.ts) in the ownership record. */
export interface OwnedEntry {
  kind: "pool" | "volume" | "nwfilter";
  name: string;
  /** For volumes: the pool they are in. */
  pool?: string;
  /** "intent": about to be created (written before the create call); "created": confirmed. */
  state: "intent" | "created";
  /** Volumes: the path libvirt gave it. */
  path?: string;
  /** Pools: true when up built (made) the pool's directory, so down may remove it. */
  built?: boolean;
  /**
   * Base image uploads in state "intent": true once the volume was created (so it is the range's,
   * half-made); without it the intent never got that far and a volume of that name is someone's.
   */
  made?: boolean;
}

/** A range's ownership record on one host. */
export interface OwnershipRecord {
  range: string;
  host: string;
  /** The record network's UUID (a redefinition must carry it). */
  uuid: string;
  entries: OwnedEntry[];
}

/** Key of an entry: kind, pool and name. */
export function entryKey(kind: OwnedEntry["kind"], name: string, pool?: string): string {
  return kind === "volume" ? `volume\0${pool ?? ""}\0${name}` : `${kind}\0${name}`;
}

/** The XML of the record network: never started, no addresses, the record in its metadata. */
export function recordXml(record: OwnershipRecord): string {
  const items = record.entries.map((e) => {
    let attrs = ` name='${escapeXml(e.name)}' state='${escapeXml(e.state)}'`;
    if (e.pool !== undefined) attrs += ` pool='${escapeXml(e.pool)}'`;
    if (e.path !== undefined) attrs += ` path='${escapeXml(e.path)}'`;
    if (e.built !== undefined) attrs += ` built='${e.built ? "yes" : "no"}'`;
    if (e.made !== undefined) attrs += ` made='${e.made ? "yes" : "no"}'`;
    return `<rec:${e.kind}${attrs}/>`;
  }).join("");
  return `<network><name>${escapeXml(recordNetworkName(record.range))}</name><uuid>${
    escapeXml(record.uuid)
  }</uuid><metadata><rec:record xmlns:rec='${RECORD_NAMESPACE}' version='1' range='${
    escapeXml(record.range)
  }' host='${escapeXml(record.host)}'>${items}</rec:record></metadata></network>`;
}

/**
 * Reads the ownership record out of a network's XML; undefined when the network is not a record of
 * this range (wrong namespace, another range's name, unknown version): such a network is never
 * touched.
 */
export function parseRecord(xml: string, range: string): OwnershipRecord | undefined {
  const scanned = scanRecord(xml, range, RECORD_NAMESPACE); // the shape libvirt writes, without a parse
  return scanned !== null ? scanned : parseRecordDocument(xml, range);
}

/** @internal {@link parseRecord} by a full parse of the document (any shape). */
export function parseRecordDocument(xml: string, range: string): OwnershipRecord | undefined {
  let doc: ParsedXml;
  try {
    doc = parseXml(xml);
  } catch {
    return undefined;
  }
  const network = doc.network as ParsedXml | undefined;
  if (!network || typeof network !== "object") return undefined;
  const metadata = network.metadata;
  if (!metadata || typeof metadata !== "object") return undefined;
  for (const [key, value] of Object.entries(metadata as ParsedXml)) {
    const colon = key.indexOf(":");
    const prefix = colon < 0 ? "" : key.slice(0, colon);
    if (key.slice(colon + 1) !== "record") continue;
    for (const element of asArray(value)) {
      if (attribute(element, prefix ? `xmlns:${prefix}` : "xmlns") !== RECORD_NAMESPACE) continue;
      if (attribute(element, "version") !== "1" || attribute(element, "range") !== range) return undefined;
      const entries: OwnedEntry[] = [];
      for (const kind of ["pool", "volume", "nwfilter"] as const) {
        for (const item of asArray(element[prefix ? `${prefix}:${kind}` : kind])) {
          const name = attribute(item, "name");
          const state = attribute(item, "state");
          if (name === undefined || (state !== "intent" && state !== "created")) continue;
          const entry: OwnedEntry = { kind, name, state };
          const pool = attribute(item, "pool");
          const path = attribute(item, "path");
          const built = attribute(item, "built");
          if (pool !== undefined) entry.pool = pool;
          if (path !== undefined) entry.path = path;
          if (built !== undefined) entry.built = built === "yes";
          const made = attribute(item, "made");
          if (made !== undefined) entry.made = made === "yes";
          entries.push(entry);
        }
      }
      const uuid = typeof network.uuid === "string" ? network.uuid.trim() : "";
      return { range, host: attribute(element, "host") ?? "", uuid, entries };
    }
  }
  return undefined;
}

/**
 * The ownership record of one host as `up` keeps it: entries change in memory, `save` writes the
 * record network (defining it the first time). Concurrent saves coalesce: one define in flight, the
 * next one carries every change made meanwhile, and each caller returns once a write containing its
 * change has been accepted.
 */
export class Ledger {
  readonly record: OwnershipRecord;
  #entries: Map<string, OwnedEntry>;
  #writing: Promise<void> | undefined;
  #dirty = false;

  constructor(range: string, host: string, existing?: OwnershipRecord) {
    this.record = existing
      ? { ...existing, host, entries: [] }
      : { range, host, uuid: crypto.randomUUID(), entries: [] };
    this.#entries = new Map((existing?.entries ?? []).map((e) => [entryKey(e.kind, e.name, e.pool), e]));
  }

  get(kind: OwnedEntry["kind"], name: string, pool?: string): OwnedEntry | undefined {
    return this.#entries.get(entryKey(kind, name, pool));
  }

  set(entry: OwnedEntry): void {
    this.#entries.set(entryKey(entry.kind, entry.name, entry.pool), entry);
  }

  delete(kind: OwnedEntry["kind"], name: string, pool?: string): void {
    this.#entries.delete(entryKey(kind, name, pool));
  }

  get size(): number {
    return this.#entries.size;
  }

  xml(): string {
    return recordXml({ ...this.record, entries: [...this.#entries.values()] });
  }

  /** Writes the record through `write` (which defines the network from the XML). */
  async save(write: (xml: string) => Promise<void>): Promise<void> {
    this.#dirty = true;
    while (this.#dirty) {
      if (this.#writing) {
        await this.#writing.catch(() => {});
        continue;
      }
      this.#dirty = false;
      const xml = this.xml();
      const attempt = write(xml);
      this.#writing = attempt.then(() => {}, () => {}).finally(() => {
        this.#writing = undefined;
      });
      await attempt;
    }
  }
}
