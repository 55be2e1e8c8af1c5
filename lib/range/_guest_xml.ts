// guestXml, the domain XML of a range guest, and its per-kind template: a guest kind's document built
// once (by the builder, lib/domain_xml.ts) and split around the few values its instances differ in, each
// guest then filling in its own, checked and escaped as the builder does. Re-exported by ./_libvirt.ts.
import { buildDomainXml, validateDomainName, validateMac } from "../domain_xml.ts";
import { PLAN_NAMESPACE } from "../ip/target.ts";
import { escapeXml } from "../xml.ts";
import { type ExpandedGuest, type Range, RANGE_NAMESPACE } from "./description.ts";
import { withFirewall } from "./firewall.ts";

/**
 * The domain XML of a range guest, tagged, with its planned addresses in the IP plan metadata, and
 * `uuid` (from {@link rangeDomainUuid}) when given.
 *
 * Byte-identical to {@link builtGuestXml}, with the same errors, but the instances of a guest kind
 * differ only in a few values (name, UUID, volume path, index, MACs, planned addresses): the document is
 * built once per kind (per Range object, and per every value the document depends on besides those) and
 * split around them; each guest then fills in its own, checked and escaped as the builder does. A value
 * the builder would refuse sends the guest to the builder, which throws its own error.
 */
export function guestXml(range: Range, guest: ExpandedGuest, volumePath: string, uuid?: string): string {
  let key: string | undefined;
  try {
    key = kindKey(range, guest, uuid);
  } catch {
    key = undefined; // not the shape a validated Range has: the builder says what is wrong
  }
  if (key === undefined) return builtGuestXml(range, guest, volumePath, uuid);
  let kinds = guestTemplates.get(range);
  if (kinds === undefined) guestTemplates.set(range, kinds = new Map());
  const template = kinds.get(key);
  if (template === undefined) {
    const xml = builtGuestXml(range, guest, volumePath, uuid); // the builder's error, if any
    const made = guestTemplate(range, guest, uuid);
    kinds.set(key, made !== null && filledGuestXml(made, guest, volumePath, uuid) === xml ? made : null);
    return xml;
  }
  return (template && filledGuestXml(template, guest, volumePath, uuid)) ??
    builtGuestXml(range, guest, volumePath, uuid);
}

/**
 * @internal How many of `range`'s guest kinds have a template (the tests and benchmarks check that
 * guestXml takes the template's path, not only that its output is right).
 */
export function guestTemplateCount(range: Range): number {
  let count = 0;
  for (const t of guestTemplates.get(range)?.values() ?? []) if (t !== null) count++;
  return count;
}

/** A guest kind's document split around its per-guest values: `parts[0] slot[0] parts[1] ... parts[n]`. */
interface GuestTemplate {
  parts: string[];
  /** Per gap, the value filled in: 0 name, 1 UUID, 2 volume path, 3 index, then per NIC i (of n) 4 + i
   * its MAC as the interface writes it, 4 + n + i as the IP plan writes it, 4 + 2n + i its address. */
  slots: number[];
}

// per Range object (nothing leaks from one to another, and a template goes with its Range), per kind
// key (every value the document depends on besides the per-guest ones): the template, or null when the
// kind's documents are built from scratch
const guestTemplates = new WeakMap<Range, Map<string, GuestTemplate | null>>();

/** A value in a kind key, its type spelled out (1 and "1", undefined and null stay apart). */
function keyPart(value: unknown): string {
  switch (typeof value) {
    case "string":
      return "s" + JSON.stringify(value);
    case "number":
      return Object.is(value, -0) ? "n-0" : "n" + String(value);
    case "boolean":
      return value ? "T" : "F";
    case "undefined":
      return "U";
    default:
      if (value === null) return "N";
      throw new TypeError("not a scalar"); // no template: the builder says what is wrong
  }
}

/**
 * Everything guestXml's document depends on besides the per-guest values: two guests with one key
 * differ only in the slots of {@link GuestTemplate}.
 */
function kindKey(range: Range, guest: ExpandedGuest, uuid: string | undefined): string {
  let key = keyPart(range.name) + keyPart(guest.guestId) + keyPart(guest.hostId) + keyPart(guest.type) +
    keyPart(guest.memoryMiB) + keyPart(guest.vcpus) + keyPart(guest.agent) +
    (uuid === undefined ? "-" : "u") +
    ((range.description.firewall ?? []).some((r) => r.to === guest.guestId) ? "f" : "-");
  if (guest.kernel) {
    if (typeof guest.kernel !== "object") throw new TypeError("not a kernel");
    key += "k";
    for (const [k, v] of Object.entries(guest.kernel)) key += keyPart(k) + keyPart(v);
  }
  key += "|";
  for (const n of guest.nics) key += keyPart(n.network) + (n.address ? "p" : "-");
  return key;
}

// The placeholders a template is found with: the kind's document built twice, once with each set; it
// is the same but where they differ. Valid for the builder's checks, left as they are by its escapes
// and normalisation (but the MAC, which the interface writes in lower case and the plan as given), no
// one a prefix of another, and the two sets' values differ in their first character.
function placeholders(set: "a" | "b", nics: number): string[] {
  const upper = set.toUpperCase();
  const hex = (i: number) => i.toString(16).padStart(4, "0").replace(/^(..)/, "$1:");
  const values = [
    `${set}-name`,
    `${set.repeat(8)}-0000-8000-8000-000000000000`,
    `${upper}-path`,
    `${upper}-index`,
  ];
  for (let i = 0; i < nics; i++) values.push(`${set}2:00:00:00:${hex(i)}`);
  for (let i = 0; i < nics; i++) values.push(`${upper}2:00:00:00:${hex(i)}`);
  for (let i = 0; i < nics; i++) values.push(`${upper}-address-${hex(i)}`);
  return values;
}

/** The kind's template, or null when its document cannot be split (or the builder refuses the kind). */
function guestTemplate(range: Range, guest: ExpandedGuest, uuid: string | undefined): GuestTemplate | null {
  const n = guest.nics.length;
  const a = placeholders("a", n);
  const b = placeholders("b", n);
  for (const set of [a, b]) {
    for (const x of set) if (set.some((y) => y !== x && y.startsWith(x))) return null;
  }
  const build = (v: string[]) =>
    builtGuestXml(
      range,
      {
        ...guest,
        name: v[0],
        index: v[3] as unknown as number, // a string metadata value is written as a number's would be
        nics: guest.nics.map((nic, i) => ({
          ...nic,
          mac: v[4 + n + i],
          ...(nic.address ? { address: v[4 + 2 * n + i] } : {}),
        })),
      },
      v[2],
      uuid === undefined ? undefined : v[1],
    );
  let docA: string, docB: string;
  try {
    docA = build(a);
    docB = build(b);
  } catch {
    return null;
  }
  const parts: string[] = [];
  const slots: number[] = [];
  let i = 0, j = 0;
  for (;;) {
    const start = i;
    while (i < docA.length && j < docB.length && docA.charCodeAt(i) === docB.charCodeAt(j)) i++, j++;
    parts.push(docA.slice(start, i));
    if (i === docA.length && j === docB.length) return { parts, slots };
    const slot = a.findIndex((x, k) => docA.startsWith(x, i) && docB.startsWith(b[k], j));
    if (slot < 0) return null;
    slots.push(slot);
    i += a[slot].length;
    j += b[slot].length;
  }
}

// buildDomainXml's UUID check (lib/domain_xml.ts)
const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * A guest's document from its kind's template, each value checked and escaped as the builder does; or
 * undefined when the builder would refuse one (the builder then throws its own error).
 */
function filledGuestXml(
  t: GuestTemplate,
  guest: ExpandedGuest,
  volumePath: string,
  uuid: string | undefined,
): string | undefined {
  const nics = guest.nics;
  const n = nics.length;
  const values: string[] = new Array(4 + 3 * n);
  try {
    values[0] = validateDomainName(guest.name);
    if (uuid !== undefined) {
      if (typeof uuid !== "string" || !UUID_TEXT.test(uuid)) return undefined;
      values[1] = uuid.toLowerCase();
    }
    if (typeof volumePath !== "string" || volumePath.trim() === "") return undefined;
    values[2] = escapeXml(volumePath);
    if (typeof guest.index !== "number" || !Number.isFinite(guest.index)) return undefined;
    values[3] = String(guest.index);
    for (let i = 0; i < n; i++) {
      const nic = nics[i];
      const mac = validateMac(nic.mac, `nics[${i}].mac`);
      for (let k = 0; k < i; k++) if (values[4 + k] === mac) return undefined;
      values[4 + i] = mac;
      if (nic.address) {
        values[4 + n + i] = escapeXml(nic.mac);
        values[4 + 2 * n + i] = escapeXml(nic.address);
      }
    }
  } catch {
    return undefined;
  }
  const { parts, slots } = t;
  let xml = parts[0];
  for (let k = 0; k < slots.length; k++) xml += values[slots[k]] + parts[k + 1];
  return xml;
}

/**
 * {@link guestXml} built from scratch by {@link buildDomainXml}, every check and escape on every call:
 * what the per-kind template is made of and checked against, and the path for anything it does not
 * cover.
 */
export function builtGuestXml(
  range: Range,
  guest: ExpandedGuest,
  volumePath: string,
  uuid?: string,
): string {
  const xml = buildDomainXml({
    name: guest.name,
    ...(uuid === undefined ? {} : { uuid }),
    type: guest.type,
    memoryMiB: guest.memoryMiB,
    vcpus: guest.vcpus,
    disks: [{ path: volumePath, format: "qcow2" }],
    nics: guest.nics.map((n) => ({ network: n.network, mac: n.mac, model: "virtio" })),
    guestAgent: guest.agent,
    ...(guest.kernel ? { kernel: guest.kernel } : {}),
    ...(guest.type !== "test" ? { serial: { type: "pty" as const } } : {}),
    metadata: {
      namespace: RANGE_NAMESPACE,
      prefix: "range",
      values: { range: range.name, guest: guest.guestId, index: guest.index, host: guest.hostId },
    },
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
  });
  const planned = guest.nics.filter((n) => n.address);
  if (planned.length === 0) return withFirewall(range, guest.guestId, xml);
  const plan = `<ip:plan xmlns:ip='${PLAN_NAMESPACE}'>${
    planned.map((n) => `<ip:nic mac='${escapeXml(n.mac)}' address='${escapeXml(n.address!)}'/>`).join("")
  }</ip:plan>`;
  return withFirewall(range, guest.guestId, xml.replace("<metadata>", `<metadata>${plan}`));
}
