// Source "plan": addresses the automation assigned itself, confirmed by nothing live: DHCP host
// reservations in the networks' XML, addresses recorded in the domain's metadata, and an optional
// MAC-to-address rule (the classic cyber-range scheme where the MAC encodes the address).
import { asArray, attribute, parseXml } from "../../xml.ts";
import { type Cidr, familyOf, normalizeMac, parseCidr, toBigInt } from "../addresses.ts";
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

/** Reads `<dhcp><host mac= ip=>` reservations of a network's XML, by MAC. */
export function reservationsOf(networkXml: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const network = asArray(parseXml(networkXml).network)[0];
  for (const ip of asArray(network?.ip)) {
    for (const dhcp of asArray(ip.dhcp)) {
      for (const host of asArray(dhcp.host)) {
        const mac = normalizeMac(attribute(host, "mac"));
        const address = attribute(host, "ip");
        if (mac && address) result.set(mac, [...(result.get(mac) ?? []), address]);
      }
    }
  }
  return result;
}

/**
 * The subnets of a network's XML: one per `<ip address= netmask=|prefix=>`, written with the host bits
 * cleared ("10.66.1.0/24", "fd00:66::/64"); an `<ip>` without a usable address or mask is skipped.
 */
export function subnetsOf(networkXml: string): string[] {
  const result: string[] = [];
  const network = asArray(parseXml(networkXml).network)[0];
  for (const ip of asArray(network?.ip)) {
    const address = attribute(ip, "address");
    if (!address) continue;
    const family = familyOf(address);
    const value = toBigInt(address);
    const netmask = attribute(ip, "netmask");
    const prefixText = attribute(ip, "prefix");
    let bits: number | undefined;
    if (prefixText !== undefined && /^\d{1,3}$/.test(prefixText)) bits = Number(prefixText);
    else if (netmask !== undefined && family === "ipv4") {
      const mask = toBigInt(netmask);
      const text = mask === undefined ? "" : mask.toString(2).padStart(32, "0");
      if (/^1*0*$/.test(text)) bits = text.indexOf("0") === -1 ? 32 : text.indexOf("0");
    } else if (netmask === undefined) bits = family === "ipv4" ? 24 : 64; // libvirt's defaults
    const width = family === "ipv4" ? 32 : 128;
    if (value === undefined || bits === undefined || bits > width) continue;
    const base = (value >> BigInt(width - bits)) << BigInt(width - bits);
    result.push(`${addressText(base, family)}/${bits}`);
  }
  return result;
}

function addressText(value: bigint, family: "ipv4" | "ipv6"): string {
  if (family === "ipv4") return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  const groups = Array.from(
    { length: 8 },
    (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  // the longest run of zero groups (two or more) becomes "::"
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best[1] < 2) return groups.join(":");
  return `${groups.slice(0, best[0]).join(":")}::${groups.slice(best[0] + best[1]).join(":")}`;
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
