// Synthetic source reports for the IP merge's table-driven tests (ip_merge_test.ts and
// ip_merge_single_lease_test.ts): one builder per report status, the family read off the address.
import type { Nic, Sighting, SourceName, SourceReport } from "../lib/ip/types.ts";

/** A NIC on the libvirt network "lab". */
export const NIC_A: Nic = { mac: "52:54:00:00:00:0a", type: "network", network: "lab", target: "vnet0" };

/** A source that answered with these sightings (family from the address: ":" is IPv6). */
export const ok = (source: SourceName, sightings: Omit<Sighting, "source" | "family">[]): SourceReport => ({
  source,
  status: "ok",
  tookMs: 0.2,
  sightings: sightings.map((s) => ({ source, family: s.address.includes(":") ? "ipv6" : "ipv4", ...s })),
});

/** A source that did not apply. */
export const skipped = (source: SourceName, reason: string): SourceReport => ({
  source,
  status: "skipped",
  tookMs: 0,
  reason,
  sightings: [],
});

/** A source that failed. */
export const failed = (source: SourceName, reason: string): SourceReport => ({
  source,
  status: "failed",
  tookMs: 1,
  reason,
  sightings: [],
});
