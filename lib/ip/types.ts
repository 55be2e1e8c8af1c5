// The vocabulary of IP discovery: NICs, sources, sightings, results.
import type { Connection } from "../connection.ts";
import type { Domain } from "../domain.ts";

/** One NIC of a domain, from its XML. */
export interface Nic {
  /** MAC address, lower case. */
  mac: string;
  /** `<interface type=...>`: "network", "bridge", "direct" (macvtap), "user", ... */
  type: string;
  /** The libvirt network (type network) or host bridge (type bridge) it is attached to. */
  network?: string;
  bridge?: string;
  /** The host-side device ("vnet3") of a running domain. */
  target?: string;
  model?: string;
}

/** The names of the sources, in the order fast mode asks them. */
export type SourceName = "lease" | "agent" | "network-lease" | "arp" | "plan";

/** The sources fast mode tries, in order: cheapest and most reliable first. */
export const FAST_ORDER: readonly SourceName[] = ["lease", "agent", "network-lease", "arp", "plan"];

/**
 * Which sources see the same evidence: the domain's lease and the network's lease list both read
 * libvirt's dnsmasq, so their agreement is one confirmation, not two.
 */
export const EVIDENCE: Record<SourceName, string> = {
  "lease": "dhcp",
  "network-lease": "dhcp",
  "agent": "agent",
  "arp": "neighbour",
  "plan": "plan",
};

/** One address one source reports. */
export interface Sighting {
  source: SourceName;
  /** The NIC's MAC as the source reports it (lower case); absent when the source does not say. */
  mac?: string;
  /** The interface name the source uses (guest "eth0" for the agent, host "vnet3" for leases). */
  interfaceName?: string;
  address: string;
  family: "ipv4" | "ipv6";
  prefix?: number;
  /** Lease expiry, when the source knows it. */
  expiresAt?: Date;
  /** The hostname a DHCP client sent. */
  hostname?: string;
  /** Set by the source: "expired", "older-duplicate", "from-metadata", "from-reservation", "from-mac-rule", "kernel-table". */
  notes?: string[];
}

/** What a source is asked about. */
export interface DiscoveryTarget {
  domain: Domain;
  connection: Connection;
  name: string;
  uuid: string;
  uri: string;
  nics: Nic[];
  /** The guest agent channel: absent, configured but disconnected, or connected (live XML's state). */
  agent: "absent" | "disconnected" | "connected" | "unknown";
  /** Planned addresses recorded in the domain's metadata, by MAC. */
  plannedByMac: Map<string, string[]>;
  /** Whether the domain runs (a shut-off domain has no live addresses). */
  active: boolean;
}

/** A source of addresses: one small module each, so that new ones plug in and tests inject fakes. */
export interface AddressSource {
  readonly name: SourceName;
  /**
   * Returns what the source sees, or throws a {@link SourceSkipped} when it does not apply (with the
   * reason reported to the user) or any error when it failed.
   */
  discover(target: DiscoveryTarget, signal: AbortSignal): Promise<Sighting[]>;
}

/** Thrown by a source that does not apply to this target: not an error, a reason ("agent not connected"). */
export class SourceSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "SourceSkipped";
  }
}

/** How one source fared. */
export interface SourceReport {
  source: SourceName;
  status: "ok" | "skipped" | "failed" | "timeout" | "not-run";
  tookMs: number;
  /** The reason for skipped/failed/timeout, in words. */
  reason?: string;
  sightings: Sighting[];
}

/** One merged address of a NIC. */
export interface DiscoveredAddress {
  address: string;
  family: "ipv4" | "ipv6";
  prefix?: number;
  /** 0..1: rises when independent sources agree, falls for expired leases, ARP-only, unconfirmed plans. */
  confidence: number;
  /** The sources that saw it. */
  sources: SourceName[];
  /** Why the confidence is what it is: "expired-lease", "arp-only", "unconfirmed-plan", "contradicted", ... */
  flags: string[];
}

/** The addresses of one NIC, best first. */
export interface NicAddresses {
  nic: Nic;
  addresses: DiscoveredAddress[];
  /** When `addresses` is empty: why, per source. */
  why?: string;
}

/** A sighting that was dropped, and why. */
export interface IgnoredSighting {
  sighting: Sighting;
  reason:
    | "loopback"
    | "link-local"
    | "excluded"
    | "not-a-domain-nic"
    | "multicast"
    | "unspecified"
    | "family";
}

/** What {@link discover} found. */
export interface DiscoveryResult {
  domain: { name: string; uuid: string; uri: string };
  nics: NicAddresses[];
  /** The best address over all NICs (preferred family first), if any. */
  best?: DiscoveredAddress & { mac: string };
  sources: SourceReport[];
  ignored: IgnoredSighting[];
  tookMs: number;
  /** True when served from the cache. */
  cached: boolean;
}
