/**
 * Domain metadata as a string map: {@link metadataXml} writes `<tags><tag key="...">value</tag></tags>`
 * (optionally namespaced), {@link parseMetadataXml} reads it back, as libvirt returns it.
 *
 * @module
 */
import { asArray, type ParsedXml, parseXml } from "../xml.ts";
import { fail, record, shown, text } from "./_fields.ts";
import { validateMetadataNamespace, validateMetadataPrefix } from "./names.ts";

/**
 * The metadata element for a string map, unprefixed (what `setDomainMetadata` takes):
 * `<tags><tag key="role">victim</tag></tags>`. Keys and values are escaped.
 *
 * @param values the entries
 * @param prefix an optional namespace prefix for the elements ("range" → `<range:tags>`)
 * @param namespace the namespace URI, declared on the root when `prefix` is given
 * @returns the element
 * @throws {TypeError} for an empty key or a character XML cannot carry
 * @example
 * ```ts
 * import { metadataXml, parseMetadataXml } from "@deno-libvirt/deno-libvirt";
 * const xml = metadataXml({ role: "victim", team: "blue" });
 * console.log(xml, parseMetadataXml(xml).role); // ... victim
 * ```
 */
export function metadataXml(
  values: Record<string, string | number | boolean>,
  prefix?: string,
  namespace?: string,
): string {
  if (prefix !== undefined) validateMetadataPrefix(prefix);
  const p = prefix === undefined ? "" : `${prefix}:`;
  const declaration = prefix === undefined
    ? ""
    : ` xmlns:${prefix}='${text("metadata.namespace", validateMetadataNamespace(namespace as string))}'`;
  let xml = `<${p}tags${declaration}>`;
  for (const [key, value] of Object.entries(record("metadata.values", values))) {
    if (key === "") fail("metadata key", key, "must not be empty");
    if (
      (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") ||
      (typeof value === "number" && !Number.isFinite(value))
    ) {
      fail(`metadata.values[${shown(key)}]`, value, "must be a string, a finite number or a boolean");
    }
    xml += `<${p}tag key='${text(`metadata key ${JSON.stringify(key)}`, key)}'>${
      text(`metadata.values[${JSON.stringify(key)}]`, String(value))
    }</${p}tag>`;
  }
  return xml + `</${p}tags>`;
}

// The element's children by local name (`range:tag` and `tag` alike: libvirt returns the prefix it was
// given), in document order of their names. Read with lib/xml.ts's parser, not fast-xml-parser: the tags
// are read on every range command's path (`status` checks each guest's), and the package's ~30 modules
// (with its dependencies) cost a one-shot more to load than the parse (docs/benchmarks.md, "Session
// h11-status").
function byLocalName(element: ParsedXml, name: string): unknown[] {
  const found: unknown[] = [];
  for (const [key, value] of Object.entries(element)) {
    if (key === name || (key.endsWith(`:${name}`) && key.indexOf(":") === key.length - name.length - 1)) {
      found.push(...(Array.isArray(value) ? value : [value]));
    }
  }
  return found;
}

/**
 * Reads the string map back from a metadata element written by {@link metadataXml} (with or without a
 * namespace prefix, as libvirt returns it from `getDomainMetadata`).
 *
 * @param xml the `<tags>` element
 * @returns the entries
 * @throws {TypeError} when the element is not a `<tags>` map
 * @throws {Error} when it is not well-formed XML
 *
 * @example
 * ```ts
 * import { metadataXml, parseMetadataXml } from "@deno-libvirt/deno-libvirt";
 * console.log(parseMetadataXml(metadataXml({ role: "red & blue" }))); // { role: "red & blue" }
 * ```
 */
export function parseMetadataXml(xml: string): Record<string, string> {
  const root = byLocalName(parseXml(xml), "tags")[0];
  if (root === undefined) throw new TypeError("Cannot read metadata: the element is not a <tags> map");
  const result: Record<string, string> = {};
  if (root === "" || typeof root !== "object") return result;
  for (const tag of asArray(byLocalName(root as ParsedXml, "tag"))) {
    const key = tag["@_key"];
    if (typeof key !== "string") continue;
    const value = tag["#text"];
    result[key] = typeof value === "string" ? value : "";
  }
  return result;
}
