// What discovery reads from a network's XML: its DHCP host reservations (the "plan" source's addresses)
// and its subnets (which of a guest's addresses are on the network). Pure parsing, no libvirt calls:
// _network_facts.ts fetches and shares the XML, plan.ts and discover.ts use what is read from it.
import { asArray, attribute, parseXml } from "../../xml.ts";
import { familyOf, normalizeMac, toBigInt } from "../addresses.ts";

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
