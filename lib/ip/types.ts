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
  /** The host bridge the NIC is on: the type-bridge source, or the live XML's bridge of a network NIC. */
  bridge?: string;
  /** The host-side device ("vnet3") of a running domain. */
  target?: string;
  /** The emulated device model, e.g. "virtio", "e1000". */
  model?: string;
  /**
   * The subnets of the libvirt network the NIC is on (from the network's `<ip>` elements, e.g.
   * "10.66.1.0/24"): an address of a family these cover but outside all of them is implausible and is
   * flagged "outside-subnet". Absent when unknown (bridged NICs, a network that cannot be read).
   */
  subnets?: string[];
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
  /** The source that reported it. */
  source: SourceName;
  /** The NIC's MAC as the source reports it (lower case); absent when the source does not say. */
  mac?: string;
  /** The interface name the source uses (guest "eth0" for the agent, host "vnet3" for leases). */
  interfaceName?: string;
  /** The address, without prefix. */
  address: string;
  /** The address family. */
  family: "ipv4" | "ipv6";
  /** The prefix length, when the source reports one. */
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
  /** The domain asked about. */
  domain: Domain;
  /** The connection the domain belongs to. */
  connection: Connection;
  /** The domain's name. */
  name: string;
  /** The domain's UUID. */
  uuid: string;
  /** The connection's URI. */
  uri: string;
  /** The domain's NICs, from its XML. */
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
  /** Which source this is, as reports name it. */
  readonly name: SourceName;
  /**
   * Returns what the source sees, or throws a {@link SourceSkipped} when it does not apply (with the
   * reason reported to the user) or any error when it failed.
   */
  discover(target: DiscoveryTarget, signal: AbortSignal): Promise<Sighting[]>;
}

/**
 * Thrown by a source that does not apply to this target: not an error, a reason ("agent not connected").
 *
 * @example
 * ```ts
 * import { type AddressSource, SourceSkipped } from "@deno-libvirt/deno-libvirt";
 * // a source of our own: addresses from a CMDB, skipped for guests it does not know
 * const cmdb: AddressSource = {
 *   name: "plan",
 *   discover(target) {
 *     if (!target.domain.name.startsWith("lab-")) throw new SourceSkipped("not a lab guest");
 *     return Promise.resolve([]);
 *   },
 * };
 * void cmdb;
 * ```
 */
export class SourceSkipped extends Error {
  /**
   * Makes the signal.
   *
   * @param reason why the source does not apply, shown to the user
   */
  constructor(reason: string) {
    super(reason);
    this.name = "SourceSkipped";
  }
}

/** How one source fared. */
export interface SourceReport {
  /** The source reported on. */
  source: SourceName;
  /** How it ended; "not-run" when fast mode stopped before asking it. */
  status: "ok" | "skipped" | "failed" | "timeout" | "not-run";
  /** How long it took, ms. */
  tookMs: number;
  /** The reason for skipped/failed/timeout, in words. */
  reason?: string;
  /** What it reported (empty unless "ok"). */
  sightings: Sighting[];
}

/** One merged address of a NIC. */
export interface DiscoveredAddress {
  /** The address, without prefix. */
  address: string;
  /** The address family. */
  family: "ipv4" | "ipv6";
  /** The prefix length, when a source reported one. */
  prefix?: number;
  /** 0..1: rises when independent sources agree, falls for expired leases, ARP-only, unconfirmed plans. */
  confidence: number;
  /** The sources that saw it. */
  sources: SourceName[];
  /**
   * Why the confidence is what it is: "expired-lease", "superseded-lease", "arp-only",
   * "unconfirmed-plan", "contradicted-plan", "contradicted-by-agent", "outside-subnet" (not in the NIC's
   * network's subnet), "same-origin" (sources that are one answer were counted once).
   */
  flags: string[];
  /** The reasoning in words: each source's evidence, what was counted once, and each demotion. */
  explanation: string;
}

/** The addresses of one NIC, best first. */
export interface NicAddresses {
  /** The NIC. */
  nic: Nic;
  /** Its addresses, highest confidence first. */
  addresses: DiscoveredAddress[];
  /** When `addresses` is empty: why, per source. */
  why?: string;
}

/** A sighting that was dropped, and why. */
export interface IgnoredSighting {
  /** The sighting dropped. */
  sighting: Sighting;
  /**
   * Why: an address no guest is reached by, an excluded range, a MAC the domain lacks, the wrong family,
   * or text that is not an IP address of its family ("malformed").
   */
  reason:
    | "loopback"
    | "link-local"
    | "excluded"
    | "not-a-domain-nic"
    | "multicast"
    | "unspecified"
    | "family"
    | "malformed";
}

/** What {@link discover} found. */
export interface DiscoveryResult {
  /** The domain asked about: its name, UUID and its connection's URI. */
  domain: { name: string; uuid: string; uri: string };
  /** The addresses of each NIC. */
  nics: NicAddresses[];
  /** The best address over all NICs (preferred family first), if any. */
  best?: DiscoveredAddress & { mac: string };
  /** How each source fared. */
  sources: SourceReport[];
  /** The sightings dropped, with why. */
  ignored: IgnoredSighting[];
  /** How long the discovery took, ms. */
  tookMs: number;
  /** True when served from the cache. */
  cached: boolean;
}
