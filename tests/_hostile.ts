// What the two hostile-input suites share (issue 9): the corpus of hostile names and values, the
// bookkeeping of how each case ended, `show` for labels, and the store-and-read-back step. The suites:
//   - tests/hostile_domain_test.ts: every field of the domain spec, and setDomainMetadata's namespaces,
//     prefixes and bodies;
//   - tests/hostile_range_test.ts: range descriptions (every field, MACs, addresses, subnets, counts, YAML
//     bombs, deep nesting, huge inputs).
// Both run against the in-process test:///default driver. Every case ends one of three ways:
//   - accepted: libvirt stores it, the stored XML has exactly the elements and attributes of a benign
//     value in the same field (0 injected) with the value asked for, and libvirt reads its own XML back;
//   - refused by us: a TypeError / RangeDescriptionError that names the field;
//   - refused by libvirt: a LibvirtError (counted and listed; never for a value we escaped wrongly).
// Anything else (a raw TypeError, a RangeError, a document libvirt cannot read back) fails the suite.
import { type Connection, defineDomain, undefineDomain } from "../mod.ts";
import { type ParsedXml, parseXml } from "../lib/xml.ts";

// deno-lint-ignore no-explicit-any
export type Any = any;

/**
 * How the cases of one suite ended: a count per outcome, in the order given (the order the summary
 * prints), and the first problems found, for the assertion messages.
 */
export class Tally<K extends string> {
  readonly counts: Record<K, number>;
  readonly problems: string[] = [];
  constructor(kinds: readonly K[]) {
    this.counts = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<K, number>;
  }
  /** Counts a case that ended as `kind` and keeps what went wrong (the first 40 problems). */
  readonly bad = (kind: K, what: string): void => {
    this.counts[kind]++;
    if (this.problems.length < 40) this.problems.push(`${kind}: ${what}`);
  };
}

/** A value, short and printable, for a case's label. */
export const show = (v: unknown): string => {
  const text = typeof v === "string"
    ? JSON.stringify(v)
    : typeof v === "symbol"
    ? String(v)
    : JSON.stringify(v);
  return (text ?? String(v)).slice(0, 60);
};

// ---------------------------------------------------------------------------------------------------
// The corpus.
export const hostileStrings: string[] = [
  "<evil/>",
  "</name><on_crash>destroy</on_crash>",
  "a&b",
  "&amp;",
  "&lt;x&gt;",
  "&#0;",
  "&e;",
  "'",
  '"',
  `'"><injected a='1'/>`,
  "]]>",
  "<![CDATA[x]]>",
  "<!-- c -->",
  "<?xml version='1.0'?>",
  "<!DOCTYPE d [<!ENTITY e 'x'>]>",
  "\0",
  "a\0b",
  "\x1b[31mred",
  "a\nb",
  "a\r\nb",
  "\tx",
  "\uFFFE",
  "\uD800",
  "\u202Eevil",
  "💥",
  "é",
  "-leading",
  "_leading",
  ".dot",
  "..",
  "../../etc/passwd",
  "/abs/path with space",
  " ",
  "",
  "${HOME}",
  "$(reboot)",
  "`id`",
  "%00",
  "x".repeat(64),
  "y".repeat(5000),
];
export const hostileOther: unknown[] = [null, 0, -1, 1.5, NaN, Infinity, 2 ** 40, true, {}, [], {
  toString: () => "<x/>",
}, Symbol("s")];
export const hostileValues: unknown[] = [...hostileStrings, ...hostileOther];

/** The text of a parsed element (or the value itself when it has no attributes), "" when empty. */
export const text = (v: unknown): Any =>
  (typeof v === "object" && v !== null ? (v as Any)["#text"] : v) ?? "";

/** Defines the XML, reads it back, checks libvirt can read its own XML, and undefines it. */
export async function storeAndReadBack(
  conn: Connection,
  xml: string,
): Promise<{ stored: ParsedXml; raw: string }> {
  const dom = await defineDomain(conn, xml);
  try {
    const raw = await dom.xmlDesc({ inactive: true });
    const stored = parseXml(raw).domain as ParsedXml;
    try {
      const again = await defineDomain(conn, raw);
      again.free();
    } catch (error) {
      throw Object.assign(new Error(`libvirt cannot read back its own XML: ${error}`), { unreadable: true });
    }
    return { stored, raw };
  } finally {
    await undefineDomain(dom).catch(() => {});
    dom.free();
  }
}
