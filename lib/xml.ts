/**
 * XML in and out: escaping values for the documents libvirt reads (domain, network, pool and volume
 * XML), and the parser that reads what libvirt returns.
 *
 * @module
 */

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
  if (!text.includes("&")) return text;
  return text.replace(entity, (match, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return named[name];
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex!, 16);
    // &#0; names no character XML allows: dropped; beyond Unicode: left as written
    return code === 0 ? "" : code <= 0x10ffff ? String.fromCodePoint(code) : match;
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

// Reading XML. The library reads only what libvirt (libxml2) writes: well-formed documents without a
// DTD, using the five predefined entities and character references. parseXml is a small parser of its
// own for that, giving the shape fast-xml-parser gave (the library's parser until it was measured: loading
// it and its HTML entity table cost ~30 ms of CPU at the start of every process that read one document):
// attributes as `@_name`, values as strings, whitespace kept, repeated elements as arrays.
// tests/xml_parser_test.ts compares the two on libvirt's documents and on the corner cases.

/** @internal A parsed XML document as fast-xml-parser shapes it. */
export type ParsedXml = Record<string, unknown>;

interface Frame {
  name: string;
  children: ParsedXml;
  attributes: ParsedXml | undefined;
  text: string;
  hasChildren: boolean;
}

/**
 * @internal Parses XML the way the library reads libvirt's documents: an element with text only is a
 * string, one with attributes or children an object (`@_name` attributes, children by name, repeated
 * ones as arrays, its text, all of it concatenated, as `#text`); an empty element is "". Whitespace is
 * kept, line ends normalized to LF, comments dropped, CDATA as text, the five predefined entities and
 * character references decoded (other named entities, which libxml2 never writes, stay as written);
 * a processing instruction is a `?name` key.
 *
 * @param xml the document
 * @returns the document as an object keyed by its top-level elements
 * @throws {Error} on markup that is not well-formed (an unclosed or mismatched tag, a bad attribute)
 * @example
 * ```ts
 * import { parseXml } from "./xml.ts";
 * console.log(parseXml("<interface type='network'><mac address='52:54:00:00:00:01'/></interface>"));
 * // { interface: { mac: { "@_address": "52:54:00:00:00:01" }, "@_type": "network" } }
 * ```
 */
export function parseXml(xml: string): ParsedXml {
  const text = xml.includes("\r") ? xml.replace(/\r\n?/g, "\n") : xml;
  const root: Frame = { name: "", children: {}, attributes: undefined, text: "", hasChildren: false };
  const stack: Frame[] = [root];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const top = stack[stack.length - 1];
    if (lt < 0 || lt > i) {
      const end = lt < 0 ? text.length : lt;
      if (top !== root) top.text += decodeXmlText(text.slice(i, end));
      i = end;
      continue;
    }
    if (text.startsWith("<!--", i)) {
      i = after(text, "-->", i + 4, "comment");
    } else if (text.startsWith("<![CDATA[", i)) {
      const end = after(text, "]]>", i + 9, "CDATA section");
      if (top !== root) top.text += text.slice(i + 9, end - 3);
      i = end;
    } else if (text.startsWith("<!", i)) {
      i = skipDeclaration(text, i);
    } else if (text.startsWith("<?", i)) {
      const end = after(text, "?>", i + 2, "processing instruction");
      const body = text.slice(i + 2, end - 2);
      const name = /^[^\s?]+/.exec(body)?.[0] ?? "";
      // pseudo-attributes (`<?xml version="1.0"?>`) as attributes; any other content is dropped
      const attributes = readAttributes(body.slice(name.length), 0, body.length - name.length, true);
      addChild(top, `?${name}`, attributes ?? "");
      i = end;
    } else if (text[i + 1] === "/") {
      const end = after(text, ">", i + 2, "end tag");
      const name = text.slice(i + 2, end - 1).trim();
      if (top === root || top.name !== name) {
        throw new Error(
          `Cannot parse XML: </${name}> at offset ${i} closes ${top === root ? "nothing" : `<${top.name}>`}`,
        );
      }
      stack.pop();
      addChild(stack[stack.length - 1], name, valueOf(top));
      i = end;
    } else {
      i = openTag(text, i, stack);
    }
  }
  if (stack.length > 1) throw new Error(`Cannot parse XML: <${stack[stack.length - 1].name}> is not closed`);
  return root.children;
}

/** Reads a start tag at `i` (pushing its element, or adding it at once when it is empty); returns where it ends. */
function openTag(text: string, i: number, stack: Frame[]): number {
  const nameEnd = /[\s/>]/g;
  nameEnd.lastIndex = i + 1;
  const stop = nameEnd.exec(text)?.index ?? text.length;
  const name = text.slice(i + 1, stop);
  if (name === "") throw new Error(`Cannot parse XML: a "<" without a tag name at offset ${i}`);
  let end = stop;
  let quote = "";
  for (; end < text.length; end++) {
    const c = text[end];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") break;
  }
  if (end >= text.length) throw new Error(`Cannot parse XML: <${name} at offset ${i} is not closed`);
  const empty = text[end - 1] === "/";
  const attributes = readAttributes(text, stop, empty ? end - 1 : end);
  const frame: Frame = { name, children: {}, attributes, text: "", hasChildren: false };
  if (empty) addChild(stack[stack.length - 1], name, valueOf(frame));
  else stack.push(frame);
  return end + 1;
}

const attributePattern = /\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')|\s*(\S)/g;

function readAttributes(text: string, from: number, to: number, lenient = false): ParsedXml | undefined {
  let attributes: ParsedXml | undefined;
  const source = text.slice(from, to);
  attributePattern.lastIndex = 0;
  for (let m = attributePattern.exec(source); m !== null; m = attributePattern.exec(source)) {
    if (m[4] !== undefined) {
      if (lenient) return undefined;
      throw new Error(
        `Cannot parse XML: a bad attribute near ${JSON.stringify(source.slice(m.index, m.index + 40))}`,
      );
    }
    (attributes ??= {})[`@_${m[1]}`] = decodeXmlText(m[2] ?? m[3]);
  }
  return attributes;
}

function addChild(parent: Frame, name: string, value: unknown): void {
  parent.hasChildren = true;
  const existing = parent.children[name];
  if (existing === undefined) parent.children[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else parent.children[name] = [existing, value];
}

function valueOf(frame: Frame): unknown {
  if (!frame.hasChildren && frame.attributes === undefined) return frame.text;
  const value: ParsedXml = frame.children;
  if (frame.text !== "") value["#text"] = frame.text;
  return frame.attributes === undefined ? value : Object.assign(value, frame.attributes);
}

function after(text: string, terminator: string, from: number, what: string): number {
  const end = text.indexOf(terminator, from);
  if (end < 0) {
    const start = text.lastIndexOf("<", from);
    throw new Error(`Cannot parse XML: a ${what} at offset ${start} is not closed`);
  }
  return end + terminator.length;
}

/** Skips `<!DOCTYPE ...>` (an internal subset in brackets included: its entities are not expanded). */
function skipDeclaration(text: string, i: number): number {
  let depth = 0;
  for (let j = i + 2; j < text.length; j++) {
    if (text[j] === "[") depth++;
    else if (text[j] === "]") depth--;
    else if (text[j] === ">" && depth <= 0) return j + 1;
  }
  throw new Error(`Cannot parse XML: a declaration at offset ${i} is not closed`);
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
