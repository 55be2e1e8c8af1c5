/**
 * XML in and out: escaping values for the documents libvirt reads (domain, network, pool and volume
 * XML), and one parser configuration for reading what libvirt returns.
 *
 * @module
 */
import { XMLParser } from "./_deps_xml.ts";

// XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. With the `u`
// flag a lone surrogate is one code point in D800-DFFF, outside the class, so it is caught too.
const illegal = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const special = /[&<>"'\t\n\r]/g;
const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // Character references keep whitespace exact: a parser normalizes a literal tab or newline in an
  // attribute value to a space, and a literal CR anywhere to LF.
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;",
};

/**
 * Escapes text for use in XML element content or in an attribute value (either quote style).
 *
 * Replaces `&`, `<`, `>`, `"` and `'` with entities, and tab, LF and CR with character references so
 * that a parser reads back exactly the same string (`]]>` comes out as `]]&gt;`).
 *
 * @param text the value to embed
 * @returns the escaped value
 * @throws {TypeError} when the value contains a character XML 1.0 forbids (NUL and the other C0
 *   controls except tab, LF and CR, a lone surrogate, U+FFFE, U+FFFF): no escape can express them
 *
 * @example
 * ```ts
 * import { escapeXml } from "@deno-libvirt/deno-libvirt";
 * console.log(`<name>${escapeXml("a<b & 'c'")}</name>`); // <name>a&lt;b &amp; &apos;c&apos;</name>
 * ```
 */
export function escapeXml(text: string): string {
  const bad = illegal.exec(text);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new TypeError(
      `Cannot escape ${JSON.stringify(text)} for XML: it contains U+${code}, which XML 1.0 does not allow`,
    );
  }
  return text.replace(special, (c) => entities[c]);
}

const entity = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;
const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * @internal Decodes the five predefined entities and character references in a short piece of XML
 * text, e.g. an object's `<name>` for an error message. Not an XML parser: no DTD entities, no CDATA.
 */
export function decodeXmlText(text: string): string {
  return text.replace(entity, (match, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return named[name];
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : match;
  });
}

/**
 * Names the object an XML document describes, for error messages ("define domain "web1""), without
 * parsing it: the text of its first `<name>` element, or "from XML".
 */
export function describeXml(xml: string): string {
  const name = /<name>([^<]{0,200})<\/name>/.exec(xml)?.[1];
  return name === undefined ? "from XML" : JSON.stringify(decodeXmlText(name));
}

// Reading XML: one parser configuration for the whole library.
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true, // decodes numeric character references (&#10;), which escapeXml emits
});

/** @internal A parsed XML document as fast-xml-parser shapes it. */
export type ParsedXml = Record<string, unknown>;

/**
 * @internal Parses XML with the library's parser settings (attributes as `@_name`, values as strings,
 * whitespace kept, character references decoded).
 */
export function parseXml(xml: string): ParsedXml {
  return xmlParser.parse(xml) as ParsedXml;
}

/** @internal One element or a list of them, as a list (fast-xml-parser gives a single one as an object). */
export function asArray(value: unknown): ParsedXml[] {
  if (value === undefined || value === null || value === "") return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => typeof v === "object") as ParsedXml[];
}

/** @internal An attribute's value, or undefined. */
export function attribute(element: unknown, name: string): string | undefined {
  if (element === null || typeof element !== "object") return undefined;
  const value = (element as ParsedXml)[`@_${name}`];
  return typeof value === "string" ? value : undefined;
}
