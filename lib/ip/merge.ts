// Merging what the sources saw into addresses per NIC, with a confidence each, and saying why a NIC
// has none. Pure: no I/O, no clock but the one passed in, so every case is table-testable.
import { type Cidr, inCidr, unusable } from "./addresses.ts";
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

/** Options of {@link mergeSightings}. */
export interface MergeOptions {
  /** Keep only this family; "any" keeps both and prefers IPv4. Default "any". */
  family?: "ipv4" | "ipv6" | "any";
  /** Ranges whose addresses are dropped (docker bridges, management networks). */
  exclude?: Cidr[];
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

/** Combines independent confidences: the chance that not all of them are wrong. */
function combine(values: number[]): number {
  return 1 - values.reduce((rest, c) => rest * (1 - c), 1);
}

/**
 * Merges the sources' sightings into addresses per NIC.
 *
 * Rules: sightings are matched to NICs by MAC (case-insensitive), else by host device name; loopback,
 * link-local, multicast and excluded addresses are dropped (and listed as ignored). Evidence from
 * independent kinds (agent, DHCP, neighbour table, plan) combines; the two DHCP sources count once.
 * An expired lease counts 0.15, a lease superseded by a newer one for the same MAC 0.2; an address
 * the agent does not report although it reports others of that family on the NIC is cut to 30%
 * ("contradicted": a stale lease after MAC reuse); a planned address no live source confirms while
 * live sources see another is cut to 0.1.
 */
export function mergeSightings(nics: Nic[], reports: SourceReport[], options: MergeOptions = {}): Merged {
  const family = options.family ?? "any";
  const ignored: IgnoredSighting[] = [];
  const byNic = new Map<string, Map<string, Sighting[]>>(nics.map((n) => [n.mac, new Map()]));
  for (const report of reports) {
    if (report.status !== "ok") continue;
    for (const sighting of report.sightings) {
      const bad = unusable(sighting.address);
      if (bad) {
        ignored.push({ sighting, reason: bad });
        continue;
      }
      if (options.exclude?.some((r) => inCidr(sighting.address, r))) {
        ignored.push({ sighting, reason: "excluded" });
        continue;
      }
      if (family !== "any" && sighting.family !== family) {
        ignored.push({ sighting, reason: "family" });
        continue;
      }
      const nic = matchNic(sighting, nics);
      if (!nic) {
        ignored.push({ sighting, reason: "not-a-domain-nic" });
        continue;
      }
      const addresses = byNic.get(nic.mac)!;
      addresses.set(sighting.address, [...(addresses.get(sighting.address) ?? []), sighting]);
    }
  }

  const result: NicAddresses[] = nics.map((nic) => {
    const addresses = byNic.get(nic.mac)!;
    const live = (s: Sighting) => s.source !== "plan";
    const agentSaw = new Set(
      [...addresses.values()].flat().filter((s) => s.source === "agent").map((s) => s.address),
    );
    const liveSaw = new Set([...addresses.values()].flat().filter(live).map((s) => s.address));
    const merged: DiscoveredAddress[] = [];
    for (const [address, sightings] of addresses) {
      const sources = [...new Set(sightings.map((s) => s.source))] as SourceName[];
      const flags: string[] = [];
      const evidence = new Map<string, number>();
      for (const s of sightings) {
        const kind = EVIDENCE[s.source];
        let value = BASE_CONFIDENCE[kind];
        if (s.notes?.includes("expired")) {
          value = 0.15;
          flags.push("expired-lease");
        } else if (s.notes?.includes("older-duplicate")) {
          value = 0.2;
          flags.push("superseded-lease");
        }
        evidence.set(kind, Math.max(evidence.get(kind) ?? 0, value));
      }
      let confidence = combine([...evidence.values()]);
      const kinds = [...evidence.keys()];
      if (kinds.length === 1 && kinds[0] === "neighbour") flags.push("arp-only");
      const familyOfThis = sightings[0].family;
      const agentOthers = [...agentSaw].some((a) =>
        a !== address && addresses.get(a)![0].family === familyOfThis
      );
      if (!agentSaw.has(address) && agentOthers && !kinds.includes("agent")) {
        confidence *= 0.3;
        flags.push("contradicted-by-agent");
      }
      if (kinds.length === 1 && kinds[0] === "plan") {
        const liveOthers = [...liveSaw].some((a) =>
          a !== address && addresses.get(a)![0].family === familyOfThis
        );
        if (liveOthers) {
          confidence = 0.1;
          flags.push("contradicted-plan");
        } else {
          flags.push("unconfirmed-plan");
        }
      }
      merged.push({
        address,
        family: familyOfThis,
        ...(sightings.find((s) => s.prefix !== undefined)?.prefix !== undefined
          ? { prefix: sightings.find((s) => s.prefix !== undefined)!.prefix }
          : {}),
        confidence: Math.round(confidence * 1000) / 1000,
        sources,
        flags: [...new Set(flags)],
      });
    }
    const preferred = family === "ipv6" ? "ipv6" : "ipv4";
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
