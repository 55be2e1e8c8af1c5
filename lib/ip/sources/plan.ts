// Source "plan": addresses the automation assigned itself, confirmed by nothing live: DHCP host
// reservations in the networks' XML, addresses recorded in the domain's metadata, and an optional
// MAC-to-address rule (the classic cyber-range scheme where the MAC encodes the address).
import { type Cidr, familyOf, parseCidr } from "../addresses.ts";
import { type AddressSource, type DiscoveryTarget, type Sighting, SourceSkipped } from "../types.ts";
import { networkReservations } from "./_network_facts.ts";

/** Derives a planned address from a NIC's MAC, or undefined. */
export type MacRule = (mac: string) => string | undefined;

/**
 * The cyber-range rule: the MAC's last bytes are the host part of an IPv4 network. With
 * `10.77.0.0/16`, `52:54:00:00:05:0b` is 10.77.5.11. Only MACs starting with `prefix` (default
 * "52:54:") follow the rule.
 *
 * @throws {TypeError} for a range that is not IPv4 or leaves no host bits
 * @example
 * ```ts
 * import { encodedMacRule } from "@deno-libvirt/deno-libvirt";
 * const rule = encodedMacRule("10.77.0.0/16");
 * console.log(rule("52:54:00:00:05:0b")); // "10.77.5.11"
 * ```
 */
export function encodedMacRule(network: string, prefix = "52:54:"): MacRule {
  const range: Cidr = parseCidr(network);
  if (range.family !== "ipv4" || range.bits > 24 || range.bits < 8) {
    throw new TypeError(
      `Cannot use ${JSON.stringify(network)} for MAC-encoded addresses: give an IPv4 range from /8 to /24`,
    );
  }
  const hostBytes = Math.ceil((32 - range.bits) / 8);
  return (mac) => {
    if (!mac.startsWith(prefix.toLowerCase())) return undefined;
    const bytes = mac.split(":").slice(6 - hostBytes).map((b) => BigInt(parseInt(b, 16)));
    let host = 0n;
    for (const b of bytes) host = (host << 8n) | b;
    const mask = (1n << BigInt(32 - range.bits)) - 1n;
    const value = (range.base & ~mask & 0xffffffffn) | (host & mask);
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  };
}

/** Builds the plan source, with an optional MAC rule. */
export function planSource(macRule?: MacRule): AddressSource {
  return {
    name: "plan",
    async discover(target: DiscoveryTarget): Promise<Sighting[]> {
      const sightings: Sighting[] = [];
      const add = (mac: string, address: string, note: string) =>
        sightings.push({ source: "plan", mac, address, family: familyOf(address), notes: [note] });
      for (const [mac, addresses] of target.plannedByMac) {
        for (const a of addresses) add(mac, a, "from-metadata");
      }
      const networks = [
        ...new Set(target.nics.filter((n) => n.type === "network" && n.network).map((n) => n.network!)),
      ];
      for (const name of networks) {
        const reservations = await networkReservations(target.connection, name);
        for (const nic of target.nics.filter((n) => n.network === name)) {
          for (const a of reservations.get(nic.mac) ?? []) add(nic.mac, a, "from-reservation");
        }
      }
      if (macRule) {
        for (const nic of target.nics) {
          const address = macRule(nic.mac);
          if (address) add(nic.mac, address, "from-mac-rule");
        }
      }
      if (sightings.length === 0) {
        throw new SourceSkipped("no planned address: no metadata plan, no DHCP reservation, no MAC rule");
      }
      return sightings;
    },
  };
}
