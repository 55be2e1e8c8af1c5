// Source "lease": libvirt's own view of its DHCP leases for this domain
// (virDomainInterfaceAddresses, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE). ~0.2 ms over libvirtd.
import { normalizeMac } from "../addresses.ts";
import { type AddressSource, type DiscoveryTarget, type Sighting, SourceSkipped } from "../types.ts";
import type { InterfaceAddresses } from "../../domain.ts";

/** Throws SourceSkipped when no NIC of the target can have a libvirt DHCP lease. */
export function requireLibvirtNetworkNic(target: DiscoveryTarget, what: string): void {
  if (!target.active) throw new SourceSkipped("the domain is not running");
  if (!target.nics.some((n) => n.type === "network")) {
    const kinds = [...new Set(target.nics.map((n) => n.type))].join(", ") || "none";
    throw new SourceSkipped(
      `no NIC on a libvirt network (NIC types: ${kinds}); bridged and macvtap NICs get no ${what}: the agent or ARP sources find them`,
    );
  }
}

/** The domain-lease source. */
export const leaseSource: AddressSource = {
  name: "lease",
  async discover(target: DiscoveryTarget): Promise<Sighting[]> {
    requireLibvirtNetworkNic(target, "libvirt lease");
    return leaseSightings(await target.domain.interfaceAddresses("lease"));
  },
};

/**
 * @internal libvirt's lease answer (`domain.interfaceAddresses("lease")`) as the merge's sightings, one
 * per address, the MAC normalized: the lease source's and range up's first look's.
 *
 * @param interfaces what `interfaceAddresses("lease")` returned
 * @returns the sightings, interfaces and addresses in libvirt's order
 */
export function leaseSightings(interfaces: readonly InterfaceAddresses[]): Sighting[] {
  // loops, not flatMap/map: up's first look runs this once per guest on the main thread
  const sightings: Sighting[] = [];
  for (const iface of interfaces) {
    const mac = normalizeMac(iface.mac);
    for (const a of iface.addresses) {
      sightings.push({
        source: "lease",
        mac,
        interfaceName: iface.name,
        address: a.address,
        family: a.family,
        prefix: a.prefix,
      });
    }
  }
  return sightings;
}
