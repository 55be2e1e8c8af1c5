// Address arithmetic for filtering: families, loopback, link-local, CIDR ranges. No DNS, no I/O.

/** "ipv4" or "ipv6" by the text's shape. */
export function familyOf(address: string): "ipv4" | "ipv6" {
  return address.includes(":") ? "ipv6" : "ipv4";
}

/**
 * @internal A dotted-quad IPv4 address as a number (0 to 2^32 - 1), or undefined when it is not four
 * decimal parts of 1-3 digits, each at most 255. One pass over the characters: the merge judges every
 * address a source reports (a range up judges each guest's lease), and this is its hot path.
 *
 * @param address the text to read
 * @returns the address as a number, or undefined
 * @example
 * ```ts
 * import { ipv4Number } from "./addresses.ts";
 * console.log(ipv4Number("10.0.0.1"), ipv4Number("10.0.0.256")); // 167772161 undefined
 * ```
 */
export function ipv4Number(address: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) { // "."
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}

/** The address as a bigint (32 bits for IPv4, 128 for IPv6), or undefined when malformed. */
export function toBigInt(address: string): bigint | undefined {
  if (familyOf(address) === "ipv4") {
    const value = ipv4Number(address);
    return value === undefined ? undefined : BigInt(value);
  }
  let text = address.toLowerCase().split("%")[0];
  // an embedded IPv4 tail (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const tail = toBigInt(v4[1]);
    if (tail === undefined) return undefined;
    text = text.slice(0, -v4[1].length) + ((tail >> 16n).toString(16)) + ":" +
      ((tail & 0xffffn).toString(16));
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** A parsed CIDR range. */
export interface Cidr {
  /** The address family of the range. */
  family: "ipv4" | "ipv6";
  /** The range's address as an integer (32 bits for IPv4, 128 for IPv6). */
  base: bigint;
  /** The prefix length: how many leading bits of an address must equal `base`'s. */
  bits: number;
  /** The range as written, e.g. "10.0.0.0/8". */
  text: string;
}

/**
 * Parses "10.0.0.0/8" or "fd00::/8".
 *
 * @throws {TypeError} naming the range when it is malformed
 * @example
 * ```ts
 * import { inCidr, parseCidr } from "@deno-libvirt/deno-libvirt";
 * const lab = parseCidr("10.77.0.0/16");
 * console.log(inCidr("10.77.1.23", lab), inCidr("192.168.1.2", lab)); // true false
 * ```
 */
export function parseCidr(text: string): Cidr {
  const [address, bitsText] = text.split("/");
  const family = familyOf(address);
  const width = family === "ipv4" ? 32 : 128;
  const base = toBigInt(address);
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > width) {
    throw new TypeError(
      `Cannot use ${JSON.stringify(text)} as an address range: write it as 10.0.0.0/8 or fd00::/8`,
    );
  }
  return { family, base, bits, text };
}

/**
 * True when `address` lies in `range`.
 *
 * @example
 * ```ts
 * import { inCidr, parseCidr } from "@deno-libvirt/deno-libvirt";
 * console.log(inCidr("fd00::1", parseCidr("fd00::/8"))); // true
 * ```
 */
export function inCidr(address: string, range: Cidr): boolean {
  if (familyOf(address) !== range.family) return false;
  if (range.family === "ipv4") {
    const value = ipv4Number(address);
    return value !== undefined && ipv4In(value, Number(range.base), range.bits);
  }
  const value = toBigInt(address);
  if (value === undefined) return false;
  const shift = BigInt(128 - range.bits);
  return (value >> shift) === (range.base >> shift);
}

/** True when the IPv4 address `value` has the first `bits` bits of `base` (numbers, not bigints). */
function ipv4In(value: number, base: number, bits: number): boolean {
  if (bits === 0) return true;
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(base / size);
}

/** The IPv6 ranges of {@link unusable}, parsed at its first IPv6 address (a module import parses none). */
let ipv6Unusable: [Cidr, "loopback" | "link-local" | "multicast" | "unspecified"][] | undefined;

/** Why an address is not a usable guest address, or undefined when it is. */
export function unusable(
  address: string,
): "loopback" | "link-local" | "multicast" | "unspecified" | undefined {
  if (familyOf(address) === "ipv4") {
    // the same four ranges as below, by the number's leading bits (one parse, not four)
    const value = ipv4Number(address);
    if (value === undefined) return undefined; // not an address at all: the caller's "malformed"
    if (ipv4In(value, 0x7f000000, 8)) return "loopback";
    if (ipv4In(value, 0xa9fe0000, 16)) return "link-local";
    if (ipv4In(value, 0xe0000000, 4)) return "multicast";
    if (value === 0) return "unspecified";
    return undefined;
  }
  ipv6Unusable ??= [
    [parseCidr("::1/128"), "loopback"],
    [parseCidr("fe80::/10"), "link-local"],
    [parseCidr("ff00::/8"), "multicast"],
    [parseCidr("::/128"), "unspecified"],
  ];
  return ipv6Unusable.find(([range]) => inCidr(address, range))?.[1];
}

/** A MAC already in normalizeMac's form. */
const normalMac = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/**
 * Normalises a MAC to lower case with colons, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import { normalizeMac } from "@deno-libvirt/deno-libvirt";
 * console.log(normalizeMac("52-54-00-AB-CD-EF")); // "52:54:00:ab:cd:ef"
 * ```
 */
export function normalizeMac(mac: string | undefined | null): string | undefined {
  if (!mac) return undefined;
  // libvirt writes MACs normalised already: one test, no copies (a lease look normalises every NIC's)
  if (normalMac.test(mac)) return mac;
  const hex = mac.toLowerCase().replace(/[-:.]/g, "");
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(":");
}
