// Source "arp": the host's neighbour table. libvirt's own ARP source first; when it fails and the
// hypervisor is on this machine, the kernel's table is read directly (/proc/net/arp of the network
// namespace this process runs in): libvirt 9.0 answers "internal error: wrong nlmsg len" on newer
// kernels although the entry is there. Only complete entries count, matched to the domain's MACs.
import { readKernelFile } from "../../ffi/c.ts";
import { normalizeMac } from "../addresses.ts";
import { type AddressSource, type DiscoveryTarget, type Sighting, SourceSkipped } from "../types.ts";

/** True for URIs whose hypervisor runs on this machine (no host part): qemu:///system, test:///default. */
export function isLocalUri(uri: string): boolean {
  return /^[a-z0-9+]+:\/\/\//i.test(uri);
}

/** Parses /proc/net/arp: complete entries (flag 0x2) as MAC -> addresses. */
export function parseNeighbourTable(text: string): Map<string, string[]> {
  const byMac = new Map<string, string[]>();
  for (const line of text.trim().split("\n").slice(1)) {
    const [address, , flags, macText] = line.trim().split(/\s+/);
    if (!address || (Number(flags) & 0x2) === 0) continue;
    const mac = normalizeMac(macText);
    if (!mac || mac === "00:00:00:00:00:00") continue;
    byMac.set(mac, [...(byMac.get(mac) ?? []), address]);
  }
  return byMac;
}

/** Builds the ARP source; `readTable` is injectable for tests. */
export function arpSource(readTable: () => string = () => readKernelFile("/proc/net/arp")): AddressSource {
  return {
    name: "arp",
    async discover(target: DiscoveryTarget): Promise<Sighting[]> {
      if (!target.active) throw new SourceSkipped("the domain is not running");
      let libvirtError: unknown;
      try {
        const interfaces = await target.domain.interfaceAddresses("arp");
        return interfaces.flatMap((iface) =>
          iface.addresses.map((a) => ({
            source: "arp" as const,
            mac: normalizeMac(iface.mac),
            interfaceName: iface.name,
            address: a.address,
            family: a.family,
            prefix: a.prefix,
          }))
        );
      } catch (error) {
        libvirtError = error;
      }
      if (!isLocalUri(target.uri)) throw libvirtError;
      const table = parseNeighbourTable(readTable());
      return target.nics.flatMap((nic) =>
        (table.get(nic.mac) ?? []).map((address) => ({
          source: "arp" as const,
          mac: nic.mac,
          address,
          family: "ipv4" as const,
          notes: ["kernel-table"],
        }))
      );
    },
  };
}
