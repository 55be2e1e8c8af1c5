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
  let kinds = guestTemplates.get(range);
  if (kinds === undefined) guestTemplates.set(range, kinds = new Map());
  let same: KindEntry[] | undefined;
  try {
    same = kinds.get(guest.guestId);
    if (same !== undefined) {
      for (const entry of same) {
        if (!sameKind(entry.kind, range, guest, uuid)) continue;
        return (entry.template && filledGuestXml(entry.template, guest, volumePath, uuid)) ??
          builtGuestXml(range, guest, volumePath, uuid);
      }
    }
  } catch {
    return builtGuestXml(range, guest, volumePath, uuid); // not the shape a Range has: the builder says why
  }
  const xml = builtGuestXml(range, guest, volumePath, uuid); // the builder's error, if any
  const kind = kindOf(range, guest, uuid);
  if (kind === undefined || (same?.length ?? 0) >= MAX_KINDS) return xml;
  const made = guestTemplate(range, guest, uuid);
  const template = made !== null && filledGuestXml(made, guest, volumePath, uuid) === xml ? made : null;
  if (same === undefined) kinds.set(guest.guestId, same = []);
  same.push({ kind, template });
  return xml;
}

/**
 * @internal How many of `range`'s guest kinds have a template (the tests and benchmarks check that
 * guestXml takes the template's path, not only that its output is right).
 */
export function guestTemplateCount(range: Range): number {
  let count = 0;
  for (const same of guestTemplates.get(range)?.values() ?? []) {
    for (const entry of same) if (entry.template !== null) count++;
  }
  return count;
}

/** A guest kind's document split around its per-guest values: `parts[0] slot[0] parts[1] ... parts[n]`. */
interface GuestTemplate {
  parts: string[];
  /** Per gap, the value filled in: 0 name, 1 UUID, 2 volume path, 3 index, then per NIC i (of n) 4 + i
   * its MAC as the interface writes it, 4 + n + i as the IP plan writes it, 4 + 2n + i its address. */
  slots: number[];
}

/**
 * Every value guestXml's document depends on besides the per-guest ones, as they were when the
 * template was made (scalars only): two guests of one kind differ only in the template's slots.
 */
interface Kind {
  /** range.name, guestId, hostId, type, memoryMiB, vcpus, agent */
  scalars: unknown[];
  uuid: boolean;
  firewalled: boolean;
  /** the kernel's entries, key and value in turn, or undefined for none */
  kernel: unknown[] | undefined;
  /** per NIC, its network and whether it has a planned address, in turn */
  nics: unknown[];
}

interface KindEntry {
  kind: Kind;
  /** null: the kind's documents are built from scratch */
  template: GuestTemplate | null;
}

// per Range object (nothing leaks from one to another, and a template goes with its Range), per guest
// kind id, the kinds met (more than one when a kind's instances are on hosts of several types, or a
// guest was changed after validation) each with its template
const guestTemplates = new WeakMap<Range, Map<string, KindEntry[]>>();
// the kinds kept per kind id: guests changed past this many ways are built from scratch
const MAX_KINDS = 64;

function scalarsOf(range: Range, guest: ExpandedGuest): unknown[] {
  return [range.name, guest.guestId, guest.hostId, guest.type, guest.memoryMiB, guest.vcpus, guest.agent];
}

function firewalled(range: Range, guest: ExpandedGuest): boolean {
  return (range.description.firewall ?? []).some((r) => r.to === guest.guestId);
}

function isScalar(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "function");
}

/** The guest's Kind, or undefined when a value it depends on is not a scalar (no template then). */
function kindOf(range: Range, guest: ExpandedGuest, uuid: string | undefined): Kind | undefined {
  const scalars = scalarsOf(range, guest);
  let kernel: unknown[] | undefined;
  if (guest.kernel) {
    if (typeof guest.kernel !== "object") return undefined;
    kernel = Object.entries(guest.kernel).flat();
  }
  if (!Array.isArray(guest.nics)) return undefined;
  const nics = guest.nics.flatMap((n) => [n.network, Boolean(n.address)]);
  if (![...scalars, ...kernel ?? [], ...nics].every(isScalar)) return undefined;
  return { scalars, uuid: uuid !== undefined, firewalled: firewalled(range, guest), kernel, nics };
}

/** Whether the guest's document depends on the same values as `kind`'s (Object.is, value by value). */
function sameKind(kind: Kind, range: Range, guest: ExpandedGuest, uuid: string | undefined): boolean {
  const s = kind.scalars;
  if (
    !Object.is(s[0], range.name) || !Object.is(s[1], guest.guestId) || !Object.is(s[2], guest.hostId) ||
    !Object.is(s[3], guest.type) || !Object.is(s[4], guest.memoryMiB) || !Object.is(s[5], guest.vcpus) ||
    !Object.is(s[6], guest.agent) || kind.uuid !== (uuid !== undefined)
  ) return false;
  const nics = guest.nics;
  if (!Array.isArray(nics) || nics.length * 2 !== kind.nics.length) return false;
  for (let i = 0; i < nics.length; i++) {
    if (!Object.is(kind.nics[2 * i], nics[i].network) || kind.nics[2 * i + 1] !== Boolean(nics[i].address)) {
      return false;
    }
  }
  if (guest.kernel) {
    if (kind.kernel === undefined || typeof guest.kernel !== "object") return false;
    const entries = Object.entries(guest.kernel).flat();
    if (entries.length !== kind.kernel.length || entries.some((v, i) => !Object.is(v, kind.kernel![i]))) {
      return false;
    }
  } else if (kind.kernel !== undefined) return false;
  return kind.firewalled === firewalled(range, guest);
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
  // a function, not a string: a replacement string would read `$&`, `$'` and `$$` in an address as patterns
  return withFirewall(range, guest.guestId, xml.replace("<metadata>", () => `<metadata>${plan}`));
}
