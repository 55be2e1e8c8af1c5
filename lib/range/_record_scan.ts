/**
 * A scanner for the ownership record network's XML in the one shape libvirt writes it back (the
 * record element alone in `<metadata>`, its entries as empty elements, attributes quoted, the five
 * XML entities and character references), without building a document: `down` and `plan` read a
 * record of thousands of entries (one per volume), which the general parser took ~100 ms for. Any
 * other shape (another element next to the record, a comment, an unknown entity, text) answers null
 * and the caller parses the document in full: this is a fast path, never a second opinion.
 *
 * @module
 */
/** An entry as lib/range/_libvirt.ts's `OwnedEntry` (declared here: that module imports this one). */
interface Entry {
  kind: "pool" | "volume" | "nwfilter";
  name: string;
  pool?: string;
  state: "intent" | "created";
  path?: string;
  built?: boolean;
  made?: boolean;
}

/** A record as lib/range/_libvirt.ts's `OwnershipRecord`. */
interface ScannedRecord {
  range: string;
  host: string;
  uuid: string;
  entries: Entry[];
}

const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const reference = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/g;

/**
 * Decodes an attribute value (the five XML entities, and the character references libvirt writes for
 * anything outside ASCII); null for any other reference (an HTML entity: the full parser decides).
 */
function decode(text: string): string | null {
  if (!text.includes("&")) return text;
  if (text.replace(reference, "").includes("&")) return null;
  let ok = true;
  const decoded = text.replace(reference, (_, name?: string, decimal?: string, hex?: string) => {
    if (name !== undefined) return named[name];
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex!, 16);
    if (code === 0 || code > 0x10ffff) ok = false;
    return ok ? String.fromCodePoint(code) : "";
  });
  return ok ? decoded : null;
}

const attributePattern = /\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;

/** The attributes of a tag's inside (after its name), or null when it is not plain attributes. */
function attributes(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  attributePattern.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    attributePattern.lastIndex = at;
    const m = attributePattern.exec(text);
    if (!m) return null;
    const value = decode(m[2] ?? m[3]);
    if (value === null || out.has(m[1])) return null;
    out.set(m[1], value);
    at = attributePattern.lastIndex;
  }
  return out;
}

/**
 * @internal The record of `range` in a record network's XML, undefined when the network is not
 * this range's record (as lib/range/_libvirt.ts's `parseRecord` decides), or null when the XML is not in the shape
 * this scanner reads (then parse it in full).
 */
export function scanRecord(
  xml: string,
  range: string,
  namespace: string,
): ScannedRecord | undefined | null {
  if (!/^\s*<network[\s>]/.test(xml)) return null;
  const open = xml.indexOf("<metadata>");
  const close = xml.indexOf("</metadata>");
  if (open < 0 || close < open || xml.indexOf("<metadata", open + 1) >= 0) return null;
  const metadata = xml.slice(open + "<metadata>".length, close);
  const head = /^\s*<([A-Za-z_][\w.-]*):record((?:\s+[^<>]*?)?)(\/?)>/.exec(metadata);
  if (!head) return null;
  const prefix = head[1];
  const attrs = attributes(head[2]);
  if (!attrs || attrs.get(`xmlns:${prefix}`) !== namespace) return null;
  const end = `</${prefix}:record>`;
  let body: string;
  if (head[3] === "/") {
    if (!/^\s*$/.test(metadata.slice(head[0].length))) return null;
    body = "";
  } else {
    const endAt = metadata.lastIndexOf(end);
    if (endAt < head[0].length || !/^\s*$/.test(metadata.slice(endAt + end.length))) return null;
    body = metadata.slice(head[0].length, endAt);
  }
  if (attrs.get("version") !== "1" || attrs.get("range") !== range) return undefined;
  const byKind: Record<Entry["kind"], Entry[]> = { pool: [], volume: [], nwfilter: [] };
  const item = new RegExp(`\\s*<${prefix}:(pool|volume|nwfilter)((?:\\s+[^<>]*?)?)\\s*/>`, "y");
  let at = 0;
  while (at < body.length) {
    if (/^\s*$/.test(body.slice(at))) break;
    item.lastIndex = at;
    const m = item.exec(body);
    if (!m) return null;
    at = item.lastIndex;
    const a = attributes(m[2]);
    if (!a) return null;
    const name = a.get("name");
    const state = a.get("state");
    if (name === undefined || (state !== "intent" && state !== "created")) continue;
    const entry: Entry = { kind: m[1] as Entry["kind"], name, state };
    const pool = a.get("pool");
    const path = a.get("path");
    const built = a.get("built");
    if (pool !== undefined) entry.pool = pool;
    if (path !== undefined) entry.path = path;
    if (built !== undefined) entry.built = built === "yes";
    const made = a.get("made");
    if (made !== undefined) entry.made = made === "yes";
    byKind[entry.kind].push(entry);
  }
  const before = xml.slice(0, open);
  const uuids = [...before.matchAll(/<uuid>([^<]*)<\/uuid>/g)];
  if (uuids.length > 1 || before.includes("<uuid ")) return null;
  const uuid = uuids.length === 1 ? decode(uuids[0][1])?.trim() : "";
  if (uuid === undefined || uuid === null) return null;
  return {
    range,
    host: attrs.get("host") ?? "",
    uuid,
    entries: [...byKind.pool, ...byKind.volume, ...byKind.nwfilter],
  };
}
