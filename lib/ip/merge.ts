// Merging what the sources saw into addresses per NIC, with a confidence each, and saying why a NIC
// has none. Pure: no I/O, no clock but the one passed in, so every case is table-testable.
import { type Cidr, familyOf, inCidr, ipv4Number, parseCidr, toBigInt, unusable } from "./addresses.ts";
import {
  type DiscoveredAddress,
  EVIDENCE,
  type IgnoredSighting,
  type Nic,
  type NicAddresses,
  type Sighting,
  type SourceName,
  type SourceReport,
} from "./types.ts";

/** Confidence one kind of evidence gives on its own. */
export const BASE_CONFIDENCE: Record<string, number> = {
  agent: 0.9, // the guest's own view of its interfaces
  dhcp: 0.8, // libvirt's dnsmasq handed it out and the lease is live
  neighbour: 0.5, // the host saw traffic from that MAC with that address; may be stale
  plan: 0.4, // the automation assigned it; true only if the guest uses it
};

/**
 * Sources that are one answer on some libvirt drivers, by driver (the URI scheme before any
 * `+transport`): libvirt's test driver answers the lease, agent and ARP sources of
 * virDomainInterfaceAddresses from one invented table (the network's DHCP start plus an offset), so
 * their agreement confirms nothing.
 */
export const SHARED_ORIGINS: Readonly<Record<string, { sources: SourceName[]; reason: string }[]>> = {
  test: [{
    sources: ["lease", "agent", "arp"],
    reason: "libvirt's test driver invents one answer for all three",
  }],
};

/**
 * The groups of sources that give one answer on the driver of `uri` (see {@link SHARED_ORIGINS}).
 *
 * @param uri a libvirt connection URI
 * @returns the groups, empty for drivers whose sources are independent
 * @example
 * ```ts
 * import { sharedOriginsFor } from "./merge.ts";
 * console.log(sharedOriginsFor("test+unix:///default")[0].sources); // ["lease", "agent", "arp"]
 * ```
 */
export function sharedOriginsFor(uri: string): { sources: SourceName[]; reason: string }[] {
  const driver = /^([a-z0-9]+)[+:]/i.exec(uri)?.[1]?.toLowerCase() ?? "";
  return SHARED_ORIGINS[driver] ?? [];
}

/** Options of {@link mergeSightings}. */
export interface MergeOptions {
  /** Keep only this family; "any" keeps both and prefers IPv4. Default "any". */
  family?: "ipv4" | "ipv6" | "any";
  /** Ranges whose addresses are dropped (docker bridges, management networks). */
  exclude?: Cidr[];
  /**
   * Groups of sources known to be one answer (on the test driver: lease, agent and arp; see
   * {@link sharedOriginsFor}): their agreement counts once. Sources whose whole answers are identical
   * (every MAC, interface name, address and prefix) are counted once as well, declared or not.
   */
  sharedOrigins?: { sources: SourceName[]; reason: string }[];
}

/** The result of a merge. */
export interface Merged {
  /** The addresses of each NIC, best first. */
  nics: NicAddresses[];
  /** The sightings dropped, with why. */
  ignored: IgnoredSighting[];
}

function matchNic(sighting: Sighting, nics: Nic[]): Nic | undefined {
  if (sighting.mac) return nics.find((n) => n.mac === sighting.mac);
  if (sighting.interfaceName) return nics.find((n) => n.target === sighting.interfaceName);
  return undefined;
}

/**
 * True when a sighting's address is not an IP literal of the family it claims. The guest agent's
 * strings reach us unchecked (a guest's root can answer for qemu-ga), and the best address becomes
 * `ansible_host`, which Ansible templates: only hex digits, "." and ":" pass (a zone, `%eth0`, only
 * belongs to a link-local address, which is dropped anyway).
 */
function malformed(sighting: Sighting): boolean {
  const address = sighting.address;
  return typeof address !== "string" || !/^[0-9A-Fa-f.:]{2,45}$/.test(address) ||
    toBigInt(address) === undefined || familyOf(address) !== sighting.family;
}

/** Combines independent confidences: the chance that not all of them are wrong. */
function combine(values: number[]): number {
  return 1 - values.reduce((rest, c) => rest * (1 - c), 1);
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** How much an address outside its NIC's network subnet keeps of its confidence. */
const OUTSIDE_SUBNET = 0.3;

/**
 * Which evidence each source's sightings count as: its kind ({@link EVIDENCE}), except that sources
 * known to share an origin, or whose answers are identical, are one origin.
 */
function originsOf(
  reports: SourceReport[],
  shared: { sources: SourceName[]; reason: string }[],
): { origin: Map<SourceName, string>; reasons: Map<string, string> } {
  const origin = new Map<SourceName, string>(
    (Object.keys(EVIDENCE) as SourceName[]).map((s) => [s, EVIDENCE[s]]),
  );
  const reasons = new Map<string, string>();
  const join = (sources: SourceName[], reason: string) => {
    const old = new Set(sources.map((s) => origin.get(s)!));
    if (old.size < 2) return;
    const name = [...old].sort().join("+");
    for (const [s, o] of origin) if (old.has(o)) origin.set(s, name);
    for (const o of old) reasons.delete(o);
    reasons.set(name, reason);
  };
  for (const group of shared) join(group.sources, group.reason);
  const key = (r: SourceReport) =>
    r.sightings.map((s) => `${s.mac ?? ""}|${s.interfaceName ?? ""}|${s.address}|${s.prefix ?? ""}`)
      .sort().join(",");
  const live = reports.filter((r) => r.status === "ok" && r.source !== "plan" && r.sightings.length > 0);
  for (const [i, a] of live.entries()) {
    for (const b of live.slice(i + 1)) {
      if (origin.get(a.source) !== origin.get(b.source) && key(a) === key(b)) {
        join([a.source, b.source], `${a.source} and ${b.source} gave identical answers`);
      }
    }
  }
  return { origin, reasons };
}

/**
 * Merges the sources' sightings into addresses per NIC.
 *
 * Rules: sightings are matched to NICs by MAC (case-insensitive), else by host device name; addresses
 * that are not IP literals of their family ("malformed": a guest can report any text), loopback,
 * link-local, multicast and excluded addresses are dropped (and listed as ignored). Evidence from
 * independent origins combines; sources of one origin count once (the two DHCP sources; sources
 * `options.sharedOrigins` declares one answer, such as the test driver's lease, agent and arp; sources
 * whose answers are identical), with the flag "same-origin". An expired lease counts 0.15, a lease
 * superseded by a newer one for the same MAC 0.2; an address the agent does not report although it
 * reports others of that family on the NIC is cut to 30% ("contradicted": a stale lease after MAC
 * reuse); a planned address no live source confirms while live sources see another is cut to 0.1; an
 * address outside the subnets of the NIC's network (`Nic.subnets`) is cut to 30% ("outside-subnet").
 * Every address carries the reasoning in `explanation`.
 *
 * @param nics the domain's NICs (with their network's subnets when known)
 * @param reports what each source reported
 * @param options family, exclusions, sources that are one answer
 * @returns the addresses of each NIC, best first, and the sightings dropped
 * @example
 * ```ts
 * import { mergeSightings } from "./merge.ts";
 * const nic = { mac: "52:54:00:00:00:0a", type: "network", network: "lan", subnets: ["10.0.0.0/24"] };
 * const { nics } = mergeSightings([nic], [{
 *   source: "lease", status: "ok", tookMs: 0.2,
 *   sightings: [{ source: "lease", mac: nic.mac, address: "10.0.1.5", family: "ipv4" }],
 * }]);
 * console.log(nics[0].addresses[0].flags); // ["outside-subnet"]
 * ```
 */
export function mergeSightings(nics: Nic[], reports: SourceReport[], options: MergeOptions = {}): Merged {
  const family = options.family ?? "any";
  const ignored: IgnoredSighting[] = [];
  const byNic = new Map<string, Map<string, Sighting[]>>(nics.map((n) => [n.mac, new Map()]));
  for (const report of reports) {
    if (report.status !== "ok") continue;
    for (const sighting of report.sightings) {
      const nic = matchNic(sighting, nics);
      const reason = whyIgnored(sighting, nic, options.exclude, family);
      if (reason !== undefined) {
        ignored.push({ sighting, reason });
        continue;
      }
      const addresses = byNic.get(nic!.mac)!;
      addresses.set(sighting.address, [...(addresses.get(sighting.address) ?? []), sighting]);
    }
  }
  const origins = originsOf(reports, options.sharedOrigins ?? []);
  const preferred = family === "ipv6" ? "ipv6" : "ipv4";
  const result = nics.map((nic): NicAddresses => {
    const addresses = byNic.get(nic.mac)!;
    const merged = [...addresses].map(([address, sightings]) =>
      judgeAddress(address, sightings, { nic, addresses, origins })
    );
    merged.sort((a, b) =>
      (a.family === preferred ? 0 : 1) - (b.family === preferred ? 0 : 1) || b.confidence - a.confidence ||
      a.address.localeCompare(b.address)
    );
    const entry: NicAddresses = { nic, addresses: merged };
    if (merged.length === 0) entry.why = explainEmpty(nic, reports, ignored);
    return entry;
  });
  return { nics: result, ignored };
}

/**
 * @internal {@link mergeSightings}'s answer for its most common input, without its general machinery:
 * a range up's first look at each guest's lease. Applies when the sources that answered ("ok") saw
 * exactly one address between them, a lease (no notes) for the MAC of exactly one of `nics` (MACs
 * distinct), a usable IPv4 literal inside the NIC's network's IPv4 subnets (or with none known), with
 * no exclusions and a family other than "ipv6". Returns undefined for anything else: the caller then
 * runs the full merge. When it answers, the answer deep-equals mergeSightings' for the same input
 * (tests/ip_merge_test.ts runs both over a table): one origin, the lease's base confidence, no flags.
 * Declared shared origins change nothing for a single sighting (one origin, one source), so they do
 * not stop it.
 *
 * @param nics the domain's NICs (with their network's subnets when known)
 * @param reports what each source reported
 * @param options family, exclusions, sources that are one answer
 * @returns the merge, or undefined when the input is not the single-lease case
 * @example
 * ```ts
 * import { mergeSingleLease } from "./merge.ts";
 * const nic = { mac: "52:54:00:00:00:0a", type: "network", network: "lan", subnets: ["10.0.0.0/24"] };
 * const merged = mergeSingleLease([nic], [{
 *   source: "lease", status: "ok", tookMs: 0.2,
 *   sightings: [{ source: "lease", mac: nic.mac, address: "10.0.0.5", family: "ipv4" }],
 * }]);
 * console.log(merged?.nics[0].addresses[0].confidence); // 0.8
 * ```
 */
export function mergeSingleLease(
  nics: Nic[],
  reports: SourceReport[],
  options: MergeOptions = {},
): Merged | undefined {
  if (options.family === "ipv6" || (options.exclude !== undefined && options.exclude.length > 0)) {
    return undefined;
  }
  let sighting: Sighting | undefined;
  for (const report of reports) {
    if (report.status !== "ok" || report.sightings.length === 0) continue;
    if (sighting !== undefined || report.sightings.length !== 1) return undefined;
    sighting = report.sightings[0];
  }
  if (
    sighting === undefined || sighting.source !== "lease" || sighting.family !== "ipv4" ||
    (sighting.notes !== undefined && sighting.notes.length > 0)
  ) return undefined;
  const { address, mac } = sighting;
  // a usable dotted quad: what whyIgnored lets through (digits and dots pass malformed's test)
  if (typeof mac !== "string" || mac === "" || typeof address !== "string") return undefined;
  if (ipv4Number(address) === undefined || unusable(address) !== undefined) return undefined;
  const nic = nics.find((n) => n.mac === mac);
  if (nic === undefined) return undefined;
  // two NICs of one MAC share the merge's bucket (both list the address)
  if (nics.length > 1 && new Set(nics.map((n) => n.mac)).size !== nics.length) return undefined;
  // outsideSubnets without its words: any IPv4 subnet known and none holds the address
  let known = false;
  for (const text of nic.subnets ?? []) {
    for (const c of parsedSubnet(text)) {
      if (c.family !== "ipv4") continue;
      if (inCidr(address, c)) return singleLease(nics, nic, sighting, reports);
      known = true;
    }
  }
  return known ? undefined : singleLease(nics, nic, sighting, reports);
}

/** The merge of one qualifying lease sighting on `nic` (see {@link mergeSingleLease}). */
function singleLease(nics: Nic[], nic: Nic, sighting: Sighting, reports: SourceReport[]): Merged {
  const value = BASE_CONFIDENCE[EVIDENCE[sighting.source]];
  const found: DiscoveredAddress = {
    address: sighting.address,
    family: sighting.family,
    ...(sighting.prefix !== undefined ? { prefix: sighting.prefix } : {}),
    confidence: round(combine([value])),
    sources: [sighting.source],
    flags: [],
    explanation: `${sighting.source} ${value}`,
  };
  const ignored: IgnoredSighting[] = [];
  const result = nics.map((n): NicAddresses =>
    n === nic
      ? { nic: n, addresses: [found] }
      : { nic: n, addresses: [], why: explainEmpty(n, reports, ignored) }
  );
  return { nics: result, ignored };
}

/** Why a sighting cannot count for `nic` (the NIC its MAC or address matched), or undefined when it can. */
function whyIgnored(
  sighting: Sighting,
  nic: Nic | undefined,
  exclude: MergeOptions["exclude"],
  family: NonNullable<MergeOptions["family"]>,
): IgnoredSighting["reason"] | undefined {
  const bad = unusable(sighting.address);
  if (bad) return bad;
  if (malformed(sighting)) return "malformed";
  if (exclude?.some((r) => inCidr(sighting.address, r))) return "excluded";
  if (family !== "any" && sighting.family !== family) return "family";
  if (!nic) return "not-a-domain-nic";
  return undefined;
}

/** What judging one address of a NIC needs to know about the rest. */
interface AddressContext {
  nic: Nic;
  /** Every address the sources saw on this NIC, with their sightings. */
  addresses: Map<string, Sighting[]>;
  /** Which sources are one origin (count once), and why. */
  origins: { origin: Map<SourceName, string>; reasons: Map<string, string> };
}

/** One address of a NIC with its confidence: the evidence combined, then what speaks against it. */
function judgeAddress(address: string, sightings: Sighting[], context: AddressContext): DiscoveredAddress {
  const flags: string[] = [];
  const evidence = combinedEvidence(sightings, context.origins, flags);
  let confidence = evidence.confidence;
  const steps = [evidence.explanation];
  const family = sightings[0].family;
  const kinds = new Set(sightings.map((s) => EVIDENCE[s.source]));
  if (kinds.size === 1 && kinds.has("neighbour")) flags.push("arp-only");
  // the other addresses of this family some sources saw on the NIC
  const others = (keep: (s: Sighting) => boolean) =>
    [...context.addresses].filter(([a, seen]) =>
      a !== address && seen[0].family === family && seen.some(keep)
    )
      .map(([a]) => a);
  const agentOthers = others((s) => s.source === "agent");
  if (!kinds.has("agent") && agentOthers.length > 0) {
    confidence *= 0.3;
    flags.push("contradicted-by-agent");
    steps.push(`the agent reports ${agentOthers.join(", ")} instead: x0.3 = ${round(confidence)}`);
  }
  if (kinds.size === 1 && kinds.has("plan")) {
    const liveOthers = others((s) => s.source !== "plan");
    if (liveOthers.length > 0) {
      confidence = 0.1;
      flags.push("contradicted-plan");
      steps.push(`planned, but live sources see ${liveOthers.join(", ")}: 0.1`);
    } else {
      flags.push("unconfirmed-plan");
      steps.push("planned, no live source confirms it");
    }
  }
  const outside = outsideSubnets(address, family, context.nic);
  if (outside !== undefined) {
    confidence *= OUTSIDE_SUBNET;
    flags.push("outside-subnet");
    steps.push(`${outside}: x${OUTSIDE_SUBNET} = ${round(confidence)}`);
  }
  const prefix = sightings.find((s) => s.prefix !== undefined)?.prefix;
  return {
    address,
    family,
    ...(prefix !== undefined ? { prefix } : {}),
    confidence: round(confidence),
    sources: [...new Set(sightings.map((s) => s.source))] as SourceName[],
    flags: [...new Set(flags)],
    explanation: steps.join("; "),
  };
}

/**
 * The confidence of an address from its sightings: each origin counts once (its best value; an expired or
 * superseded lease counts little), independent origins combine. Flags what it finds into `flags`.
 */
function combinedEvidence(
  sightings: Sighting[],
  { origin, reasons }: AddressContext["origins"],
  flags: string[],
): { confidence: number; explanation: string } {
  // origin -> its best value, and the sources (with their own values) that make it up
  const evidence = new Map<string, { value: number; parts: Map<SourceName, number> }>();
  for (const s of sightings) {
    let value = BASE_CONFIDENCE[EVIDENCE[s.source]];
    if (s.notes?.includes("expired")) {
      value = 0.15;
      flags.push("expired-lease");
    } else if (s.notes?.includes("older-duplicate")) {
      value = 0.2;
      flags.push("superseded-lease");
    }
    const key = origin.get(s.source)!;
    const entry = evidence.get(key) ?? { value: 0, parts: new Map() };
    entry.value = Math.max(entry.value, value);
    entry.parts.set(s.source, Math.max(entry.parts.get(s.source) ?? 0, value));
    evidence.set(key, entry);
  }
  const confidence = combine([...evidence.values()].map((e) => e.value));
  const said = [...evidence].map(([key, e]) => {
    const parts = [...e.parts].map(([s, v]) => `${s} ${v}`).join(", ");
    const kinds = new Set([...e.parts.keys()].map((s) => EVIDENCE[s]));
    if (kinds.size < 2) return parts;
    flags.push("same-origin");
    return `${parts} count once (${reasons.get(key) ?? "one origin"}): ${e.value}`;
  });
  const explanation = evidence.size > 1
    ? `${said.join("; ")}; independent, combined: ${round(confidence)}`
    : said[0];
  return { confidence, explanation };
}

/**
 * When the NIC's network has subnets of the address's family and none holds the address: the words that
 * say so ("outside 10.0.0.0/24, the subnet of network lan"); otherwise undefined. A subnet that does not
 * parse cannot judge an address.
 */
function outsideSubnets(address: string, family: Sighting["family"], nic: Nic): string | undefined {
  const subnets = (nic.subnets ?? []).flatMap(parsedSubnet).filter((c) => c.family === family);
  if (subnets.length === 0 || subnets.some((c) => inCidr(address, c))) return undefined;
  return `outside ${subnets.map((c) => c.text).join(", ")}, the subnet of ${
    nic.network ? `network ${nic.network}` : "the NIC's network"
  }`;
}

/**
 * A NIC's subnet parsed, [] when it does not parse. Remembered: a range's guests share a few subnets,
 * and every address judged asks for its NIC's (the cache is cleared when it grows past 256 texts).
 */
function parsedSubnet(text: string): Cidr[] {
  let parsed = subnetCache.get(text);
  if (parsed === undefined) {
    try {
      const { family, base, bits } = parseCidr(text);
      parsed = [Object.freeze({ family, base, bits, text })];
    } catch {
      parsed = [];
    }
    if (subnetCache.size >= 256) subnetCache.clear();
    subnetCache.set(text, parsed);
  }
  return parsed;
}
const subnetCache = new Map<string, Cidr[]>();

/** Why a NIC has no address: one clause per source, in the words a user can act on. */
export function explainEmpty(nic: Nic, reports: SourceReport[], ignored: IgnoredSighting[]): string {
  const clauses = reports.map((report) => {
    if (report.status === "skipped") return `${report.source}: ${report.reason}`;
    if (report.status === "failed") return `${report.source}: failed: ${report.reason}`;
    if (report.status === "timeout") return `${report.source}: no answer within ${report.reason}`;
    if (report.status === "not-run") return `${report.source}: not asked (${report.reason})`;
    const dropped = ignored.filter((i) =>
      i.sighting.source === report.source && (i.sighting.mac === nic.mac || !i.sighting.mac)
    );
    if (dropped.length > 0) {
      return `${report.source}: only ${dropped.map((d) => `${d.sighting.address} (${d.reason})`).join(", ")}`;
    }
    const noun = {
      "lease": "lease",
      "network-lease": "network lease",
      agent: "agent address",
      arp: "neighbour entry",
      plan: "planned address",
    }[
      report.source
    ];
    return `${report.source}: no ${noun} for MAC ${nic.mac}`;
  });
  return clauses.join("; ");
}
