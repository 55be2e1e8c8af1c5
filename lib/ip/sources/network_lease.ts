// Source "network-lease": the leases of the libvirt networks the domain's NICs are on
// (virNetworkGetDHCPLeases): with expiry time, hostname and client id. For a MAC with several leases
// (a recreated VM, a reused MAC), the newest is kept clean and the others are flagged.
import { normalizeMac } from "../addresses.ts";
import { networkLeases } from "./_network_facts.ts";
import type { AddressSource, DiscoveryTarget, Sighting } from "../types.ts";
import { requireLibvirtNetworkNic } from "./lease.ts";

/** Builds the network-lease source; `now` is injectable for tests. */
export function networkLeaseSource(now: () => number = Date.now): AddressSource {
  return {
    name: "network-lease",
    async discover(target: DiscoveryTarget): Promise<Sighting[]> {
      requireLibvirtNetworkNic(target, "network lease");
      const sightings: Sighting[] = [];
      const networks = [
        ...new Set(target.nics.filter((n) => n.type === "network" && n.network).map((n) => n.network!)),
      ];
      for (const name of networks) {
        const all = await networkLeases(target.connection, name);
        const macs = new Set(target.nics.filter((n) => n.network === name).map((n) => n.mac));
        for (const mac of macs) {
          const leases = all.filter((l) => normalizeMac(l.mac) === mac)
            .sort((a, b) => b.expiryTime.getTime() - a.expiryTime.getTime());
          leases.forEach((lease, index) => {
            const notes: string[] = [];
            // expiry 0 means a lease that never expires
            if (lease.expiryTime.getTime() !== 0 && lease.expiryTime.getTime() < now()) notes.push("expired");
            if (index > 0) notes.push("older-duplicate");
            sightings.push({
              source: "network-lease",
              mac: normalizeMac(lease.mac),
              interfaceName: lease.interface,
              address: lease.address,
              family: lease.type,
              prefix: lease.prefix,
              expiresAt: lease.expiryTime,
              ...(lease.hostname ? { hostname: lease.hostname } : {}),
              ...(notes.length ? { notes } : {}),
            });
          });
        }
      }
      return sightings;
    },
  };
}
