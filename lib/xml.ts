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

const entity = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,31})|#[xX]([0-9a-fA-F]{1,30}));/g;
const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * @internal Decodes the five predefined entities and character references in a short piece of XML
 * text, e.g. an object's `<name>` for an error message. Not an XML parser: no DTD entities, no CDATA.
 * A reference to a character XML 1.0 forbids (NUL, a C0 control other than tab, LF and CR, a
 * surrogate) is dropped; one beyond Unicode stays as written (both as fast-xml-parser does).
 */
export function decodeXmlText(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(entity, (match, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return named[name];
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex!, 16);
    if (code > 0x10ffff) return match;
    const forbidden = (code < 0x20 && code !== 9 && code !== 10 && code !== 13) ||
      (code >= 0xd800 && code <= 0xdfff);
    return forbidden ? "" : String.fromCodePoint(code);
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
// tests/xml_parser_test.ts compares the two on libvirt's documents and on the corner cases, and
// tests/xml_fuzz_test.ts on random documents. Intended differences, all on input libvirt never writes:
// markup that is not well-formed (unclosed or mismatched tags, text outside the root element, a bad
// attribute or element name) and nesting deeper than libxml2's 256 are errors where fast-xml-parser
// guessed; DTD entities are not expanded, nor HTML ones (&nbsp;); a version="1.1" declaration does not
// allow references to C0 controls; white space outside the root is never a top-level "#text".

/** @internal A parsed XML document as fast-xml-parser shapes it. */
export type ParsedXml = Record<string, unknown>;

interface Frame {
  name: string;
  children: ParsedXml;
  attributes: ParsedXml | undefined;
  text: string;
  hasChildren: boolean;
}

// XML 1.0's Name production: element names outside it ("#text", "@_x", "1a") are an error, so that no
// element can collide with the `#text` and `@_` keys.
const nameStart = ":A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D" +
  "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}";
const xmlName = new RegExp(`^[${nameStart}][${nameStart}\\-.0-9\u00B7\u0300-\u036F\u203F\u2040]*$`, "u");
// Names that would reach Object.prototype: an error (fast-xml-parser's choice: "[SECURITY] Invalid name").
const reserved = new Set(["__proto__", "constructor", "prototype"]);
// Names of Object.prototype's methods that fast-xml-parser renames to `__name`, so that no parsed object
// shadows them (`String(element)` keeps working).
const renamed = new Set([
  "hasOwnProperty",
  "toString",
  "valueOf",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);
/** Elements nested deeper are an error: libxml2 (which wrote what libvirt returns) stops at 256 too. */
const maxDepth = 256;

/**
 * @internal Parses XML the way the library reads libvirt's documents: an element with text only is a
 * string, one with attributes or children an object (`@_name` attributes, children by name, repeated
 * ones as arrays, its text, all of it concatenated, as `#text`); an empty element is "". Whitespace is
 * kept, line ends normalized to LF, comments dropped, CDATA as text, the five predefined entities and
 * character references decoded (other named entities, which libxml2 never writes, and DTD entities stay
 * as written: a DOCTYPE is skipped, never expanded); a processing instruction is a `?name` key. Element
 * names named like Object.prototype's methods become `__name` (`__toString`), as in fast-xml-parser.
 *
 * @param xml the document
 * @returns the document as an object keyed by its top-level elements
 * @throws {Error} on markup that is not well-formed (an unclosed or mismatched tag, a bad attribute or
 *   element name, an unclosed comment, CDATA section or processing instruction, text outside the root
 *   element), on an element named
 *   `__proto__`, `constructor` or `prototype`, and on elements nested deeper than 256
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
      else outsideRoot(text, i, end);
      i = end;
      continue;
    }
    if (text.startsWith("<!--", i)) {
      i = after(text, "-->", i, 4, "a comment");
    } else if (text.startsWith("<![CDATA[", i)) {
      const end = after(text, "]]>", i, 9, "a CDATA section");
      if (top === root) outsideRoot(text, i, end);
      top.text += text.slice(i + 9, end - 3);
      i = end;
    } else if (text.startsWith("<!", i)) {
      i = skipDeclaration(text, i);
    } else if (text.startsWith("<?", i)) {
      i = instruction(text, i, top);
    } else if (text[i + 1] === "/") {
      const end = after(text, ">", i, 2, "an end tag");
      const name = text.slice(i + 2, end - 1).trim();
      if (top === root || top.name !== name) {
        throw new Error(
          `Cannot parse XML: </${shorten(name)}> at offset ${i} closes ${
            top === root ? "nothing" : `<${top.name}>`
          }`,
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

/** Only white space (and a byte order mark at the start) may stand outside the root element. */
function outsideRoot(text: string, from: number, to: number): void {
  const bad = /[^ \t\n\uFEFF]/.exec(text.slice(from, to));
  if (bad !== null && (bad[0] !== "\uFEFF" || from + bad.index !== 0)) {
    throw new Error(
      `Cannot parse XML: ${JSON.stringify(text.slice(from, to).trim().slice(0, 40))} at offset ${
        from + bad.index
      } stands outside the root element`,
    );
  }
}

/** Reads a processing instruction at `i` as a `?name` child of `top`; returns where it ends. */
function instruction(text: string, i: number, top: Frame): number {
  const end = after(text, "?>", i, 2, "a processing instruction");
  const body = text.slice(i + 2, end - 2);
  const name = /^[^\s?]+/.exec(body)?.[0] ?? "";
  // pseudo-attributes (`<?xml version="1.0"?>`) as attributes; any other content is dropped
  const attributes = readAttributes(body.slice(name.length), 0, body.length - name.length, true);
  addChild(top, `?${name}`, attributes ?? "");
  return end;
}

/** Reads a start tag at `i` (pushing its element, or adding it at once when it is empty); returns where it ends. */
function openTag(text: string, i: number, stack: Frame[]): number {
  const nameEnd = /[\s/>]/g;
  nameEnd.lastIndex = i + 1;
  const stop = nameEnd.exec(text)?.index ?? text.length;
  const name = text.slice(i + 1, stop);
  if (name === "") throw new Error(`Cannot parse XML: a "<" without a tag name at offset ${i}`);
  if (!xmlName.test(name)) {
    throw new Error(`Cannot parse XML: <${shorten(name)} at offset ${i}: not an XML element name`);
  }
  if (reserved.has(name)) {
    throw new Error(
      `Cannot parse XML: <${name}> at offset ${i}: an element may not be named ${name} (prototype pollution)`,
    );
  }
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
  else if (stack.length > maxDepth) {
    throw new Error(`Cannot parse XML: <${name}> at offset ${i} is nested deeper than ${maxDepth} elements`);
  } else stack.push(frame);
  return end + 1;
}

const attributePattern = /\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')|\s*(\S)/g;

function readAttributes(text: string, from: number, to: number, lenient = false): ParsedXml | undefined {
  let attributes: ParsedXml | undefined;
  const source = text.slice(from, to);
  attributePattern.lastIndex = 0;
  for (let m = attributePattern.exec(source); m !== null; m = attributePattern.exec(source)) {
    if (m[4] !== undefined) {
      if (lenient) continue;
      throw new Error(
        `Cannot parse XML: a bad attribute near ${JSON.stringify(source.slice(m.index, m.index + 40))}`,
      );
    }
    (attributes ??= {})[`@_${m[1]}`] = decodeXmlText(m[2] ?? m[3]);
  }
  return attributes;
}

function addChild(parent: Frame, element: string, value: unknown): void {
  const name = renamed.has(element) ? `__${element}` : element;
  parent.hasChildren = true;
  const existing = Object.hasOwn(parent.children, name) ? parent.children[name] : undefined;
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

/** Where `terminator` ends, searching from `start + skip`, for the markup (`what`) starting at `start`. */
function after(text: string, terminator: string, start: number, skip: number, what: string): number {
  const end = text.indexOf(terminator, start + skip);
  if (end < 0) throw new Error(`Cannot parse XML: ${what} at offset ${start} is not closed`);
  return end + terminator.length;
}

function shorten(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}...` : name;
}

/**
 * Skips `<!DOCTYPE ...>` (an internal subset in brackets included, quoted `]` and `>` too): its entities
 * are not expanded, so no "billion laughs" (libvirt never writes a DTD; fast-xml-parser expanded them).
 */
function skipDeclaration(text: string, i: number): number {
  let depth = 0;
  let quote = "";
  for (let j = i + 2; j < text.length; j++) {
    const c = text[j];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === ">" && depth <= 0) return j + 1;
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
