/**
 * @internal The field checks every section validator uses: each records a located problem and returns
 * undefined on bad input, so one pass reports every problem. Also the strict address parsers (a plain
 * dotted quad, a plain decimal prefix) and the MAC arithmetic.
 *
 * @module
 */
import type { Locate } from "../_yaml.ts";
import { type DescriptionIssue, type DescriptionLimits, quote } from "./types.ts";

/** A field's place: mapping keys and list indexes from the root. */
export type Path = (string | number)[];
/** A mapping of the description. */
export type Obj = Record<string, unknown>;

/** Letters, digits, "_", "-", "."; starting with a letter or digit (libvirt refuses host names that
 * start with "-" or "_", and a leading "-" reads as an option to virsh). */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** An RFC 1123 host name: labels of letters, digits and inner "-". */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
/** C0 and C1 controls, DEL, the two non-characters XML refuses, and lone surrogates. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\uFFFE\uFFFF]|\p{Cs}/u;
/** The largest MAC, ff:ff:ff:ff:ff:ff. */
export const MAC_MAX = (1n << 48n) - 1n;

/** An IPv4 subnet read strictly. */
export interface Cidr {
  /** The network address. */
  base: bigint;
  /** The prefix length. */
  bits: number;
  /** Canonical text, "10.1.0.0/24". */
  text: string;
}

/** "guests[2].nics[0].mac" */
export function pathText(path: Path): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");
}

/** IPv4 bigint -> dotted text. */
export function ipText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

/** A plain dotted quad (no leading zeros, no shorthand) -> bigint. */
export function parseIpv4(text: string): bigint | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  return m.slice(1, 5).reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

/** The subnet's broadcast address. */
export function broadcast(cidr: Cidr): bigint {
  return cidr.base + (1n << BigInt(32 - cidr.bits)) - 1n;
}

/** Whether `value` is inside the subnet. */
export function contains(cidr: Cidr, value: bigint): boolean {
  return value >= cidr.base && value <= broadcast(cidr);
}

/** A MAC -> its 48-bit value. */
export function macValue(mac: string): bigint {
  return BigInt("0x" + mac.replaceAll(":", ""));
}

/** A 48-bit value -> "52:54:00:12:34:56". */
export function macText(value: bigint): string {
  return value.toString(16).padStart(12, "0").match(/../g)!.join(":");
}

/** Whether the first byte of a 48-bit MAC value has its group (multicast) bit set. */
export function isMulticast(value: bigint): boolean {
  return ((value >> 40n) & 1n) === 1n;
}

/** Levenshtein distance <= 2, or equal but for case: "did you mean". */
export function near(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 2) return false;
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length] <= 2;
}

/** Collects located problems; each check returns undefined for a bad value. */
export class Checker {
  /** The recorded problems (at most `limits.maxIssues`). */
  readonly issues: DescriptionIssue[] = [];
  /** Problems found past `limits.maxIssues`. */
  omitted = 0;

  /**
   * @param locate finds a field's line and column
   * @param limits the bounds in force
   */
  constructor(readonly locate: Locate, readonly limits: DescriptionLimits) {}

  /** True when any problem was found. */
  get failed(): boolean {
    return this.issues.length > 0;
  }

  /** A value quoted for a message, elided past `limits.maxQuotedLength`. */
  q(value: unknown): string {
    return quote(value, this.limits.maxQuotedLength);
  }

  /** A list of known names for a message ("a, b, c and 40 more"). */
  known(names: Iterable<string>): string {
    const all = [...names];
    if (all.length === 0) return "none";
    const shown = all.slice(0, 8).map((n) => this.q(n)).join(", ");
    return all.length > 8 ? `${shown} and ${all.length - 8} more` : shown;
  }

  /** Records a problem at a field (its key with `key`). */
  add(path: Path, message: string, key = false): void {
    if (this.issues.length >= this.limits.maxIssues) {
      this.omitted++;
      return;
    }
    const text = pathText(path);
    if (this.issues.some((i) => i.path === text && i.message === message)) return;
    let at = this.locate(path, key);
    for (let up = path.length - 1; at === undefined && up >= 0; up--) {
      at = this.locate(path.slice(0, up), false);
    }
    this.issues.push({ path: text, ...(at ?? {}), message });
  }

  /** A mapping with only `known` fields, the `required` ones present, and no field set to null. */
  object(value: unknown, path: Path, known: string[], required: string[]): Obj | undefined {
    if (
      value === null || typeof value !== "object" || Array.isArray(value) ||
      (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    ) {
      this.add(
        path,
        `must be a mapping with ${required.length ? required.join(", ") : "fields"}, got ${this.q(value)}`,
      );
      return undefined;
    }
    const obj = value as Obj;
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        const close = known.find((k) => near(k, key));
        this.add(
          [...path, key],
          `unknown field${
            close ? `: did you mean ${JSON.stringify(close)}?` : ` (known: ${known.join(", ")})`
          }`,
          true,
        );
      } else if (obj[key] === null) {
        this.add(
          [...path, key],
          'is null (written as "~", "null" or nothing): give a value, or remove the field for its default',
        );
      }
    }
    for (const key of required) {
      if (!Object.hasOwn(obj, key) || obj[key] === undefined) {
        this.add([...path, key], "is required (missing)");
      }
    }
    return obj;
  }

  /** A list (possibly empty unless `nonEmpty` names what it must hold). */
  list(value: unknown, path: Path, required: boolean, nonEmpty?: string): unknown[] {
    if (value === undefined || value === null) {
      if (required) this.add(path, "is required (missing)");
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(path, `must be a list, got ${this.q(value)}`);
      return [];
    }
    if (nonEmpty !== undefined && value.length === 0) {
      this.add(path, `is empty: list at least one ${nonEmpty}`);
    }
    return value;
  }

  /**
   * A string within `limits.maxStringLength`, without control characters (NUL, newline, escape, ...,
   * which no name, path, URI or command line of a range may carry); non-empty unless `allowEmpty`.
   */
  string(value: unknown, path: Path, allowEmpty = false): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || (value === "" && !allowEmpty)) {
      this.add(path, `must be a non-empty string, got ${this.q(value)}`);
      return undefined;
    }
    if (value.length > this.limits.maxStringLength) {
      this.add(
        path,
        `is ${value.length} characters long; the limit is ${this.limits.maxStringLength} (limits.maxStringLength)`,
      );
      return undefined;
    }
    const bad = CONTROL.exec(value);
    if (bad) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      this.add(
        path,
        `${this.q(value)} contains the control character U+${code} at position ${bad.index}: remove it`,
      );
      return undefined;
    }
    return value;
  }

  /** A name of something the range makes or refers to (1-63 safe characters, letter or digit first). */
  name(value: unknown, path: Path, what: string): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!SAFE_NAME.test(text) || text.length > 63) {
      this.add(
        path,
        `${what} ${
          this.q(text)
        } is not a safe name: use 1-63 letters, digits, "_", "-" or ".", the first a letter or digit (not starting with ".", "-" or "_")`,
      );
      return undefined;
    }
    return text;
  }

  /** A DHCP host name (RFC 1123: letters, digits and inner "-" per label). */
  hostName(value: unknown, path: Path): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!HOST_NAME.test(text)) {
      this.add(
        path,
        `${this.q(text)} is not a host name: use labels of letters, digits and inner "-", ` +
          'separated by ".", starting with a letter or digit (e.g. "web-1")',
      );
      return undefined;
    }
    return text;
  }

  /** An absolute path. */
  absolutePath(value: unknown, path: Path): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!text.startsWith("/")) {
      this.add(path, `${this.q(text)} must be an absolute path (starting with "/")`);
      return undefined;
    }
    return text;
  }

  /** A whole number from `min` to `max`. */
  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
      this.add(path, `must be a whole number from ${min} to ${max}, got ${this.q(value)}`);
      return undefined;
    }
    return value;
  }

  /** true or false. */
  boolean(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") {
      this.add(path, `must be true or false, got ${this.q(value)}`);
      return undefined;
    }
    return value;
  }

  /** One of a few words. */
  oneOf<T extends string>(value: unknown, path: Path, words: readonly T[]): T | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || !(words as readonly string[]).includes(value)) {
      this.add(path, `must be ${words.map((w) => JSON.stringify(w)).join(" or ")}, got ${this.q(value)}`);
      return undefined;
    }
    return value as T;
  }

  /** A unicast, non-zero MAC, in lower case. */
  mac(value: unknown, path: Path): string | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    if (!MAC.test(text)) {
      this.add(path, `${this.q(text)} is not a MAC address: write six hex bytes, e.g. "52:54:00:12:34:56"`);
      return undefined;
    }
    const v = macValue(text);
    if (isMulticast(v)) {
      this.add(
        path,
        `${this.q(text)} is a multicast${
          v === MAC_MAX ? " (broadcast)" : ""
        } MAC (odd first byte): use e.g. "52:54:00:12:34:56"`,
      );
      return undefined;
    }
    if (v === 0n) {
      this.add(
        path,
        `${this.q(text)} is the all-zero MAC, which no NIC may have: use e.g. "52:54:00:12:34:56"`,
      );
      return undefined;
    }
    return text.toLowerCase();
  }

  /** A plain dotted-quad IPv4 address. */
  ipv4(value: unknown, path: Path): bigint | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    const v = parseIpv4(text);
    if (v === undefined) {
      this.add(path, `${this.q(text)} is not an IPv4 address: write four decimal numbers, e.g. "10.1.0.10"`);
    }
    return v;
  }

  /** An IPv4 subnet `a.b.c.d/N`, N a plain decimal from 8 to 30, host bits clear. */
  cidr(value: unknown, path: Path): Cidr | undefined {
    const text = this.string(value, path);
    if (text === undefined) return undefined;
    const m = /^([0-9.]+)\/([1-9][0-9]?)$/.exec(text);
    const base = m ? parseIpv4(m[1]) : undefined;
    if (!m || base === undefined) {
      this.add(
        path,
        `${
          this.q(text)
        } is not a subnet: write an IPv4 network address, "/" and a decimal prefix, e.g. "10.10.1.0/24"`,
      );
      return undefined;
    }
    const bits = Number(m[2]);
    if (bits < 8 || bits > 30) {
      this.add(path, `${this.q(text)} must be an IPv4 subnet from /8 to /30`);
      return undefined;
    }
    if ((base & ((1n << BigInt(32 - bits)) - 1n)) !== 0n) {
      this.add(path, `${this.q(text)} has host bits set: write the network address`);
      return undefined;
    }
    return { base, bits, text: `${ipText(base)}/${bits}` };
  }
}
