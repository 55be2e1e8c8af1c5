// The hostile-input suite (issue 9): a corpus of hostile names, every string field of the domain spec,
// metadata namespaces, prefixes and bodies, MACs, addresses, subnets, counts, YAML bombs, deep nesting
// and huge inputs, run against the in-process test:///default driver. Every case ends one of three ways:
//   - accepted: libvirt stores it, the stored XML has exactly the elements and attributes of a benign
//     value in the same field (0 injected) with the value asked for, and libvirt reads its own XML back;
//   - refused by us: a TypeError / RangeDescriptionError that names the field;
//   - refused by libvirt: a LibvirtError (counted and listed; never for a value we escaped wrongly).
// Anything else (a raw TypeError, a RangeError, a document libvirt cannot read back) fails the suite.
import assert from "node:assert/strict";
import {
  buildDomainXml,
  Connection,
  defineDomain,
  defineNetwork,
  type DomainSpec,
  getDomainMetadata,
  LibvirtError,
  parseMetadataXml,
  parseRangeDescription,
  RangeDescriptionError,
  setDomainMetadata,
  undefineDomain,
} from "../mod.ts";
import { guestXml, networkXml } from "../lib/range/_libvirt.ts";
import { type ParsedXml, parseXml } from "../lib/xml.ts";

interface Counts {
  cases: number;
  accepted: number;
  refused: number;
  refusedByLibvirt: number;
  injected: number;
  unreadable: number;
  wrongValue: number;
  crashes: number;
  unclear: number;
}
const counts: Counts = {
  cases: 0,
  accepted: 0,
  refused: 0,
  refusedByLibvirt: 0,
  injected: 0,
  unreadable: 0,
  wrongValue: 0,
  crashes: 0,
  unclear: 0,
};
const failures: string[] = [];
const libvirtRefusals = new Map<string, number>();
function bad(kind: keyof Counts, what: string): void {
  counts[kind]++;
  if (failures.length < 40) failures.push(`${kind}: ${what}`);
}
const show = (v: unknown) => {
  const text = typeof v === "string"
    ? JSON.stringify(v)
    : typeof v === "symbol"
    ? String(v)
    : JSON.stringify(v);
  return (text ?? String(v)).slice(0, 60);
};

// ---------------------------------------------------------------------------------------------------
// The corpus.
const hostileStrings: string[] = [
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
const hostileOther: unknown[] = [null, 0, -1, 1.5, NaN, Infinity, 2 ** 40, true, {}, [], {
  toString: () => "<x/>",
}, Symbol("s")];
const hostileValues: unknown[] = [...hostileStrings, ...hostileOther];

/** A field of DomainSpec: how to set it on a copy of the base and where libvirt keeps its value. */
interface Field {
  name: string;
  base: DomainSpec;
  set: (spec: DomainSpec, value: unknown) => void;
  /** The value as stored (from parsed domain XML), for comparison with what was asked. */
  read?: (domain: ParsedXml) => unknown;
  /** The benign value the reference domain has in this field. */
  benign: unknown;
}

const base = (): DomainSpec => ({ name: "hostile-ref", type: "test", memoryMiB: 64, vcpus: 1 });
// deno-lint-ignore no-explicit-any
type Any = any;
const withDisk = (): DomainSpec => ({
  ...base(),
  disks: [{ path: "/var/lib/hostile/a.qcow2", format: "qcow2" }],
});
const withBacking = (): DomainSpec => ({
  ...base(),
  disks: [{ path: "/var/lib/hostile/a.qcow2", backing: { path: "/var/lib/hostile/base.qcow2" } }],
});
const withNic = (): DomainSpec => ({ ...base(), nics: [{ network: "default", mac: "52:54:00:00:00:10" }] });
const withBridge = (): DomainSpec => ({ ...base(), nics: [{ bridge: "br0" }] });
const withKernel = (): DomainSpec => ({
  ...base(),
  kernel: { kernel: "/boot/vmlinuz", initrd: "/boot/initrd", cmdline: "console=ttyS0" },
});
const withSerial = (): DomainSpec => ({ ...base(), serial: { type: "file", path: "/var/log/hostile.log" } });
const withMetadata = (): DomainSpec => ({
  ...base(),
  metadata: { namespace: "urn:hostile:1", prefix: "h", values: { role: "web" } },
});
const text = (v: unknown) => (typeof v === "object" && v !== null ? (v as Any)["#text"] : v) ?? "";
const d = (x: ParsedXml) => x as Any;

const fields: Field[] = [
  {
    name: "name",
    base: base(),
    benign: "hostile-x",
    set: (s, v) => s.name = v as string,
    read: (x) => d(x).name,
  },
  {
    name: "uuid",
    base: base(),
    benign: "11111111-2222-4333-8444-555555555555",
    set: (s, v) => s.uuid = v as string,
  },
  {
    name: "title",
    base: base(),
    benign: "t",
    set: (s, v) => s.title = v as string,
    read: (x) => text(d(x).title),
  },
  {
    name: "description",
    base: base(),
    benign: "d",
    set: (s, v) => s.description = v as string,
    read: (x) => text(d(x).description),
  },
  { name: "arch", base: base(), benign: "x86_64", set: (s, v) => s.arch = v as string },
  { name: "machine", base: base(), benign: "pc", set: (s, v) => s.machine = v as string },
  { name: "cpuMode", base: base(), benign: "host-model", set: (s, v) => s.cpuMode = v as Any },
  { name: "type", base: base(), benign: "test", set: (s, v) => s.type = v as Any },
  { name: "onCrash", base: base(), benign: "destroy", set: (s, v) => s.onCrash = v as Any },
  { name: "memoryMiB", base: base(), benign: 64, set: (s, v) => s.memoryMiB = v as number },
  { name: "vcpus", base: base(), benign: 1, set: (s, v) => s.vcpus = v as number },
  { name: "disks", base: base(), benign: [], set: (s, v) => s.disks = v as Any },
  {
    name: "disks[0].path",
    base: withDisk(),
    benign: "/var/lib/hostile/b.qcow2",
    set: (s, v) => s.disks![0].path = v as string,
    read: (x) => d(x).devices.disk["source"]["@_file"],
  },
  {
    name: "disks[0].format",
    base: withDisk(),
    benign: "raw",
    set: (s, v) => s.disks![0].format = v as string,
  },
  {
    name: "disks[0].target",
    base: withDisk(),
    benign: "vdb",
    set: (s, v) => s.disks![0].target = v as string,
  },
  { name: "disks[0].bus", base: withDisk(), benign: "sata", set: (s, v) => s.disks![0].bus = v as Any },
  { name: "disks[0].device", base: withDisk(), benign: "disk", set: (s, v) => s.disks![0].device = v as Any },
  {
    name: "disks[0].backing.path",
    base: withBacking(),
    benign: "/var/lib/hostile/other.qcow2",
    set: (s, v) => s.disks![0].backing!.path = v as string,
  },
  { name: "nics", base: base(), benign: [], set: (s, v) => s.nics = v as Any },
  {
    name: "nics[0].network",
    base: withNic(),
    benign: "net-b",
    set: (s, v) => s.nics![0].network = v as string,
    read: (x) => d(x).devices.interface.source["@_network"],
  },
  {
    name: "nics[0].bridge",
    base: withBridge(),
    benign: "br1",
    set: (s, v) => s.nics![0].bridge = v as string,
    read: (x) => d(x).devices.interface.source["@_bridge"],
  },
  {
    name: "nics[0].mac",
    base: withNic(),
    benign: "52:54:00:00:00:11",
    set: (s, v) => s.nics![0].mac = v as string,
  },
  { name: "nics[0].model", base: withNic(), benign: "e1000", set: (s, v) => s.nics![0].model = v as string },
  {
    name: "nics[0].targetDev",
    base: withNic(),
    benign: "hostile0",
    set: (s, v) => s.nics![0].targetDev = v as string,
  },
  {
    name: "kernel.kernel",
    base: withKernel(),
    benign: "/boot/other",
    set: (s, v) => s.kernel!.kernel = v as string,
    read: (x) => text(d(x).os.kernel),
  },
  {
    name: "kernel.initrd",
    base: withKernel(),
    benign: "/boot/other.img",
    set: (s, v) => s.kernel!.initrd = v as string,
    read: (x) => text(d(x).os.initrd),
  },
  {
    name: "kernel.cmdline",
    base: withKernel(),
    benign: "quiet",
    set: (s, v) => s.kernel!.cmdline = v as string,
    read: (x) => text(d(x).os.cmdline),
  },
  {
    name: "serial.path",
    base: withSerial(),
    benign: "/var/log/other.log",
    set: (s, v) => (s.serial as { path: string }).path = v as string,
    read: (x) => d(x).devices.serial.source["@_path"],
  },
  {
    name: "metadata.namespace",
    base: withMetadata(),
    benign: "https://example.org/hostile/2",
    set: (s, v) => s.metadata!.namespace = v as string,
  },
  {
    name: "metadata.prefix",
    base: withMetadata(),
    benign: "k",
    set: (s, v) => s.metadata!.prefix = v as string,
  },
  {
    name: "metadata.values",
    base: withMetadata(),
    benign: "value",
    set: (s, v) => s.metadata!.values = { role: v as string },
    read: (x) => parseMetadataXml(metadataOf(x)!).role,
  },
  {
    name: "metadata key",
    base: withMetadata(),
    benign: "key",
    set: (s, v) => s.metadata!.values = { [typeof v === "string" ? v : String(v as Any)]: "x" },
  },
];

/** The stored `<h:tags>` element (with libvirt's prefix), re-serialized for parseMetadataXml. */
function metadataOf(domain: ParsedXml): string | undefined {
  const metadata = d(domain).metadata;
  if (!metadata || typeof metadata !== "object") return undefined;
  const key = Object.keys(metadata).find((k) => k.endsWith(":tags"));
  if (!key) return undefined;
  const tags = [metadata[key].tag ?? (metadata[key][`${key.split(":")[0]}:tag`])].flat().filter(Boolean);
  const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
  return `<tags>${
    tags.map((t: Any) => `<tag key='${escape(t["@_key"])}'>${escape(text(t))}</tag>`).join("")
  }</tags>`;
}

/** Every element and attribute path of a parsed document (values left out): its shape. */
function shape(node: unknown, path = "", out = new Set<string>()): Set<string> {
  if (node === null || typeof node !== "object") return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === "#text") continue;
    // namespace prefixes are names the caller chose (metadata.prefix): compare them as "*"
    const name = key.startsWith("@_xmlns:") ? "@_xmlns:*" : key.replace(/^([^@:][^:]*):/, "*:");
    const here = name.startsWith("@_") ? `${path}/@${name.slice(2)}` : `${path}/${name}`;
    out.add(here);
    for (const v of Array.isArray(value) ? value : [value]) shape(v, here, out);
  }
  return out;
}

const normalize = (v: unknown) => typeof v === "string" ? v.replace(/\r\n?/g, "\n") : v;

/** "metadata key" -> a regexp the error must match: the field, named as the builder names it. */
function fieldPattern(field: string): RegExp {
  const root = field.replace(/\[\d+\]/g, "\\[\\d+\\]").replace(/\./g, "\\.");
  return field === "metadata key" ? /metadata (key|\.values)/ : new RegExp(`(^|[ :(])${root}`);
}

/** Defines the XML, reads it back, checks libvirt can read its own XML, and undefines it. */
async function storeAndReadBack(conn: Connection, xml: string): Promise<{ stored: ParsedXml; raw: string }> {
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

Deno.test("hostile inputs: every field of the domain spec, stored by libvirt, 0 injected, 0 unreadable, 0 crashes", async () => {
  await using conn = await Connection.open("test:///default");
  let n = 0;
  for (const field of fields) {
    // the reference: a benign value in the same field
    const refSpec = structuredClone({ ...field.base, metadata: field.base.metadata }) as DomainSpec;
    field.set(refSpec, field.benign);
    refSpec.name = `hostile-ref-${n++}`;
    const reference = shape((await storeAndReadBack(conn, buildDomainXml(refSpec))).stored);
    for (const value of hostileValues) {
      counts.cases++;
      const spec = structuredClone(field.base) as DomainSpec;
      field.set(spec, value);
      if (field.name !== "name") spec.name = `hostile-${n++}`;
      const label = `${field.name} = ${show(value)}`;
      let xml: string;
      try {
        xml = buildDomainXml(spec);
      } catch (error) {
        if (!(error instanceof TypeError) || !/^Cannot build domain XML: /.test(error.message)) {
          bad("crashes", `${label}: ${error}`);
        } else if (!fieldPattern(field.name).test(error.message)) {
          bad("unclear", `${label}: ${error.message}`);
        } else if (error.message.length > 600) {
          bad("unclear", `${label}: a ${error.message.length}-character message`);
        } else counts.refused++;
        continue;
      }
      try {
        const { stored } = await storeAndReadBack(conn, xml);
        const injected = [...shape(stored)].filter((p) => !reference.has(p) && !p.startsWith("/uuid"));
        if (injected.length > 0) bad("injected", `${label}: ${injected.join(", ")}`);
        const asked = typeof value === "number" || typeof value === "boolean" ? String(value) : value;
        if (field.read && normalize(field.read(stored)) !== normalize(asked)) {
          bad("wrongValue", `${label}: stored ${show(field.read(stored))}`);
        }
        counts.accepted++;
      } catch (error) {
        if ((error as { unreadable?: boolean }).unreadable) bad("unreadable", `${label}: ${error}`);
        else if (error instanceof LibvirtError) {
          counts.refusedByLibvirt++;
          libvirtRefusals.set(field.name, (libvirtRefusals.get(field.name) ?? 0) + 1);
        } else bad("crashes", `${label}: ${error}`);
      }
    }
  }
  const summary = `domain spec: ${JSON.stringify(counts)}; refused by libvirt per field: ${
    JSON.stringify(Object.fromEntries(libvirtRefusals))
  }\n${failures.join("\n")}`;
  console.log(summary.split("\n")[0]);
  assert.ok(counts.cases >= 1500, summary);
  assert.ok(counts.accepted >= 150 && counts.refused >= 500, summary);
  for (const k of ["injected", "unreadable", "wrongValue", "crashes", "unclear"] as const) {
    assert.equal(counts[k], 0, `${k}: ${summary}`);
  }
});

Deno.test("hostile inputs: setDomainMetadata namespaces, prefixes and bodies", async () => {
  await using conn = await Connection.open("test:///default");
  const dom = await defineDomain(
    conn,
    buildDomainXml({ name: "hostile-md", type: "test", memoryMiB: 64, vcpus: 1 }),
  );
  const c = {
    cases: 0,
    accepted: 0,
    refused: 0,
    refusedByLibvirt: 0,
    injected: 0,
    unreadable: 0,
    crashes: 0,
    unclear: 0,
  };
  const problems: string[] = [];
  try {
    const before = shape(parseXml(await dom.xmlDesc({ inactive: true })).domain);
    const namespaces: unknown[] = [
      "urn:hostile:1",
      "https://example.org/a?b=c;d=e#f",
      "http://[::1]/x",
      "a&b<c>",
      "urn:a&b",
      "urn:a'b",
      'urn:a"b',
      "https://x/'><evil/>",
      "https://x/a b",
      "urn:é",
      "relative/path",
      "x:",
      "",
      "urn:\0",
      "urn:" + "x".repeat(3000),
      ...hostileStrings,
      ...hostileOther,
    ];
    const prefixes: unknown[] = [
      "h",
      "h.1",
      "_h",
      "xmlns",
      "xml",
      "1h",
      "h:i",
      "h i",
      "<h>",
      "",
      ...hostileOther,
    ];
    const bodies: unknown[] = [
      "<tags><tag key='a'>b</tag></tags>",
      "<tags/><evil/>",
      "<tags>&bad;</tags>",
      "<!DOCTYPE t [<!ENTITY e 'x'>]><tags>&e;</tags>",
      "<tags",
      "not xml",
      "<tags xmlns:o='urn:other'><o:x/></tags>",
      "<tags>\0</tags>",
      ...hostileOther,
    ];
    const cases: [string, unknown, unknown, unknown][] = [
      ...namespaces.map((ns) => ["namespaceUri", ns, "h", "<tags/>"] as [string, unknown, unknown, unknown]),
      ...prefixes.map((p) =>
        ["prefix", "urn:hostile:1", p, "<tags/>"] as [string, unknown, unknown, unknown]
      ),
      ...bodies.map((b) => ["xml", "urn:hostile:1", "h", b] as [string, unknown, unknown, unknown]),
    ];
    for (const [field, ns, prefix, body] of cases) {
      c.cases++;
      const label = `${field}: ${show(field === "namespaceUri" ? ns : field === "prefix" ? prefix : body)}`;
      try {
        await setDomainMetadata(dom, {
          namespaceUri: ns as string,
          prefix: prefix as string,
          xml: body as string,
        });
      } catch (error) {
        if (error instanceof LibvirtError) c.refusedByLibvirt++;
        else if (error instanceof TypeError && /^Cannot /.test(error.message)) {
          if (new RegExp(`\\b${field}\\b|metadata (namespace|prefix|XML)`).test(error.message)) c.refused++;
          else (c.unclear++, problems.push(`unclear ${label}: ${error.message}`));
        } else (c.crashes++, problems.push(`crash ${label}: ${error}`));
        continue;
      }
      c.accepted++;
      const raw = await dom.xmlDesc({ inactive: true });
      const after = [...shape(parseXml(raw).domain)].filter((p) => !p.startsWith("/metadata"));
      const extra = after.filter((p) => !before.has(p));
      if (extra.length) (c.injected++, problems.push(`injected ${label}: ${extra}`));
      try {
        (await defineDomain(conn, raw)).free();
      } catch (error) {
        c.unreadable++;
        problems.push(`unreadable ${label}: ${error}`);
      }
      const back = body === null ? "" : await getDomainMetadata(dom, ns as string);
      if (back === undefined) (c.unclear++, problems.push(`not stored ${label}`));
      await setDomainMetadata(dom, { namespaceUri: ns as string, prefix: prefix as string, xml: null });
    }
  } finally {
    await undefineDomain(dom).catch(() => {});
    dom.free();
  }
  const summary = `metadata: ${JSON.stringify(c)}\n${problems.slice(0, 20).join("\n")}`;
  console.log(summary.split("\n")[0]);
  assert.ok(c.cases >= 80 && c.accepted >= 5 && c.refused >= 50, summary);
  for (const k of ["injected", "unreadable", "crashes", "unclear"] as const) {
    assert.equal(c[k], 0, `${k}: ${summary}`);
  }
});

// ---------------------------------------------------------------------------------------------------
// Range descriptions.
const description = () => ({
  name: "hr",
  hosts: [{ id: "h1", uri: "test:///default" }],
  storage: { pool: "default-pool" },
  networks: [{
    name: "hr-lan",
    mode: "isolated",
    subnet: "10.66.0.0/24",
    dhcp: { start: "10.66.0.100", end: "10.66.0.200" },
    reservations: [{ mac: "52:54:00:66:00:01", address: "10.66.0.50", name: "res" }],
    bridge: "hrbr0",
  }],
  baseImages: [{ id: "deb", path: "/images/deb.qcow2", format: "qcow2" }],
  guests: [{
    id: "web",
    baseImage: "deb",
    memory: 64,
    vcpus: 1,
    count: 2,
    host: "h1",
    agent: false,
    diskMiB: 64,
    kernel: { kernel: "/boot/vmlinuz", initrd: "/boot/initrd", cmdline: "console=ttyS0" },
    nics: [{ network: "hr-lan", address: "10.66.0.10", mac: "52:54:00:66:01:01" }],
  }],
});
type Desc = ReturnType<typeof description>;
const descriptionFields: [string, (d: Desc, v: unknown) => void][] = [
  ["name", (d, v) => d.name = v as string],
  ["hosts[0].id", (d, v) => d.hosts[0].id = v as string],
  ["hosts[0].uri", (d, v) => d.hosts[0].uri = v as string],
  ["storage.pool", (d, v) => d.storage.pool = v as string],
  ["storage", (d, v) => (d as Any).storage = { path: v }],
  ["networks[0].name", (d, v) => d.networks[0].name = v as string],
  ["networks[0].mode", (d, v) => d.networks[0].mode = v as string],
  ["networks[0].subnet", (d, v) => d.networks[0].subnet = v as string],
  ["networks[0].dhcp.start", (d, v) => d.networks[0].dhcp.start = v as string],
  ["networks[0].dhcp.end", (d, v) => d.networks[0].dhcp.end = v as string],
  ["networks[0].bridge", (d, v) => d.networks[0].bridge = v as string],
  ["networks[0].reservations[0].mac", (d, v) => d.networks[0].reservations[0].mac = v as string],
  ["networks[0].reservations[0].address", (d, v) => d.networks[0].reservations[0].address = v as string],
  ["networks[0].reservations[0].name", (d, v) => d.networks[0].reservations[0].name = v as string],
  ["baseImages[0].id", (d, v) => d.baseImages[0].id = v as string],
  ["baseImages[0].path", (d, v) => d.baseImages[0].path = v as string],
  ["baseImages[0].format", (d, v) => d.baseImages[0].format = v as string],
  ["guests[0].id", (d, v) => d.guests[0].id = v as string],
  ["guests[0].memory", (d, v) => d.guests[0].memory = v as number],
  ["guests[0].vcpus", (d, v) => d.guests[0].vcpus = v as number],
  ["guests[0].count", (d, v) => d.guests[0].count = v as number],
  ["guests[0].host", (d, v) => d.guests[0].host = v as string],
  ["guests[0].hosts", (d, v) => ((d.guests[0] as Any).host = undefined, (d.guests[0] as Any).hosts = v)],
  ["guests[0].agent", (d, v) => d.guests[0].agent = v as boolean],
  ["guests[0].diskMiB", (d, v) => d.guests[0].diskMiB = v as number],
  ["guests[0].baseImage", (d, v) => d.guests[0].baseImage = v as string],
  ["guests[0].kernel.kernel", (d, v) => d.guests[0].kernel.kernel = v as string],
  ["guests[0].kernel.initrd", (d, v) => d.guests[0].kernel.initrd = v as string],
  ["guests[0].kernel.cmdline", (d, v) => d.guests[0].kernel.cmdline = v as string],
  ["guests[0].nics[0].network", (d, v) => d.guests[0].nics[0].network = v as string],
  ["guests[0].nics[0].address", (d, v) => d.guests[0].nics[0].address = v as string],
  ["guests[0].nics[0].mac", (d, v) => d.guests[0].nics[0].mac = v as string],
];
const macs = [
  "00:00:00:00:00:00",
  "ff:ff:ff:ff:ff:ff",
  "01:00:5e:00:00:01",
  "fc:ff:ff:ff:ff:fe",
  "fe:ff:ff:ff:ff:ff",
  "52:54:00:66:00:01", // the reservation's
  "52-54-00-00-00-01",
  "52:54:00:00:00:0g",
  "52:54:00:00:00:001",
  "5254.0000.0001",
  "52:54:00:AB:CD:EF",
];
const addresses = [
  "10.66.0.0",
  "10.66.0.1",
  "10.66.0.255",
  "10.66.1.10",
  "010.66.0.10",
  "10.66.0.010",
  "10.66.0",
  "10.66.0.10/24",
  "::1",
  "10.66.0.1e1",
  "0x0a.66.0.10",
  " 10.66.0.10",
  "10.66.0.256",
];
const subnets = [
  "10.66.0.0/24/24",
  "10.66.0.0/2.4e1",
  "10.66.0.0/0x18",
  "10.66.0.0/ 24",
  "10.66.0.0/024",
  "10.66.0.0/0",
  "10.66.0.0/31",
  "10.66.0.0/33",
  "10.66.0.5/24",
  "10.66.0.0",
  "fd00::/64",
  "10.66.0.0/-24",
  "10.66.0.0/24 ",
];
const numbers = [null, 0, -1, 1.5, 2 ** 53, 1e400, NaN, "2", true, 100_000, 1001];

/** Whether a problem names the mutated field: the field itself, a part or a parent of it, or a
 * constraint with another field (dhcp.start after dhcp.end, a count that runs a NIC's addresses out of
 * the subnet) whose message names it. */
function relatedPath(issue: { path: string; message: string }, field: string): boolean {
  const { path } = issue;
  if (
    path === field || path.startsWith(field) || field.startsWith(path + ".") || field.startsWith(path + "[")
  ) {
    return true;
  }
  const parent = (p: string) => p.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
  const last = field.slice(parent(field).length).replace(/^\./, "");
  const sameObject = parent(path) === parent(field) || path.startsWith(parent(field) + ".");
  return sameObject && new RegExp(`\\b${last}\\b`).test(issue.message);
}

/** Defines the range's networks and guests in libvirt and checks what is stored is what was planned. */
async function storeRange(
  conn: Connection,
  source: string,
  label: string,
  c: Record<string, number>,
  problems: string[],
) {
  const range = parseRangeDescription(source, { limits: { maxDocumentBytes: 16 * 1024 * 1024 } });
  for (const spec of range.networksByHost.get("h1") ?? []) {
    const xml = networkXml(range, spec, "h1");
    const net = await defineNetwork(conn, xml);
    try {
      const stored = parseXml(await net.xmlDesc()).network as Any;
      if (stored.name !== spec.name) (c.wrongValue++, problems.push(`network name ${label}`));
      const hosts = [stored.ip?.dhcp?.host ?? []].flat();
      const planned = range.guests.flatMap((g) => g.nics.filter((n) => n.address)).length +
        (spec.reservations?.length ?? 0);
      if (spec.dhcp && hosts.length !== planned) {
        (c.injected++, problems.push(`dhcp hosts ${label}: ${hosts.length}`));
      }
    } finally {
      await net.undefine().catch(() => {});
      net.free();
    }
  }
  for (const guest of range.guests) {
    const { stored } = await storeAndReadBack(conn, guestXml(range, guest, `/var/lib/hr/${guest.volume}`));
    const s = stored as Any;
    if (s.name !== guest.name) (c.wrongValue++, problems.push(`guest name ${label}`));
    const storedMacs = [s.devices.interface ?? []].flat().map((i: Any) => i.mac["@_address"]);
    if (JSON.stringify(storedMacs) !== JSON.stringify(guest.nics.map((n) => n.mac))) {
      c.wrongValue++;
      problems.push(`guest MACs ${label}`);
    }
    if (guest.kernel && text(s.os.cmdline) !== (guest.kernel.cmdline ?? "")) {
      c.wrongValue++;
      problems.push(`cmdline ${label}`);
    }
  }
}

Deno.test("hostile inputs: range descriptions refused at parse with the field, or stored exactly", async () => {
  await using conn = await Connection.open("test:///default");
  const c = {
    cases: 0,
    accepted: 0,
    refused: 0,
    injected: 0,
    unreadable: 0,
    wrongValue: 0,
    crashes: 0,
    unclear: 0,
  };
  const problems: string[] = [];
  const run = async (
    label: string,
    textIn: string,
    field?: string,
    options?: Parameters<typeof parseRangeDescription>[1],
  ) => {
    c.cases++;
    try {
      parseRangeDescription(textIn, options);
    } catch (error) {
      if (!(error instanceof RangeDescriptionError)) {
        c.crashes++;
        problems.push(`crash ${label}: ${String(error).slice(0, 300)}`);
        return;
      }
      const located = error.issues.every((i) =>
        i.line !== undefined && i.column !== undefined && i.message.length < 600
      );
      const named = field === undefined || error.issues.some((i) => relatedPath(i, field));
      if (!located || !named || error.message.length > 12_000 || error.issues.length > 20) {
        c.unclear++;
        problems.push(`unclear ${label}: ${error.message.slice(0, 300)}`);
      } else c.refused++;
      return;
    }
    try {
      await storeRange(conn, textIn, label, c, problems);
      c.accepted++;
    } catch (error) {
      if ((error as { unreadable?: boolean }).unreadable) c.unreadable++;
      else c.crashes++;
      problems.push(`after parse ${label}: ${String(error).slice(0, 300)}`);
    }
  };
  await run("the base description", JSON.stringify(description()));
  const values = (field: string): unknown[] =>
    /mac$/.test(field)
      ? [...macs, ...hostileValues]
      : /address$|start$|end$/.test(field)
      ? [...addresses, ...hostileValues]
      : /subnet$/.test(field)
      ? [...subnets, ...hostileValues]
      : /memory$|vcpus$|count$|diskMiB$|agent$/.test(field)
      ? numbers
      : hostileValues;
  for (const [field, set] of descriptionFields) {
    for (const value of values(field)) {
      if (
        typeof value === "symbol" ||
        (typeof value === "object" && value !== null && "toString" in value && !Array.isArray(value) &&
          Object.keys(value).length)
      ) continue; // not in JSON
      const desc = description();
      set(desc, value);
      const label = `${field} = ${show(value)}`;
      // as JSON and as YAML (toYaml-free: JSON is YAML)
      await run(label, JSON.stringify(desc, null, 1), field);
    }
  }
  // YAML-level hostility: bombs, cycles, unresolved aliases, depth, documents, tags, sizes
  const lol = (levels: number) => {
    let t = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
    for (let i = 1; i < levels; i++) t += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]\n`;
    return t;
  };
  const yamlBase = JSON.stringify(description(), null, 1);
  const yamlCases: [string, string][] = [
    ["billion laughs", lol(9)],
    [
      "billion laughs inside guests",
      yamlBase.replace('"guests": [', `"guests": [${lol(9).split("\n")[0].slice(4)}, `),
    ],
    ["unresolved alias", "name: *a\n"],
    ["cyclic alias", "a: &a [*a]\n"],
    ["alias as key", "a: &k x\n*k : 1\n"],
    ["deep flow nesting", "x: " + "[".repeat(5000) + "]".repeat(5000)],
    ["deep block nesting", Array.from({ length: 200 }, (_, i) => " ".repeat(i) + "a:").join("\n") + " 1\n"],
    ["deep mapping nesting", "x: " + "{a: ".repeat(3000) + "1" + "}".repeat(3000)],
    ["two documents", yamlBase + "\n---\n" + yamlBase],
    ["binary tag", "name: !!binary aGVsbG8=\n"],
    ["set tag", "name: !!set {a}\n"],
    ["custom tag", "name: !evil x\n"],
    ["duplicate keys", "name: a\nname: b\n"],
    ["__proto__", '{"__proto__": {"polluted": 1}, "name": "x"}'],
    ["constructor key", "constructor: 1\nname: x\n"],
    ["NUL byte in the text", "name: a\0b\n"],
    ["BOM", "\uFEFF" + yamlBase],
    ["empty", ""],
    ["only a comment", "# nothing\n"],
    ["a scalar", "42"],
    ["a list", "[1, 2]"],
    ["huge document", "name: x\npad: " + JSON.stringify("p".repeat(2 * 1024 * 1024)) + "\n"],
    ["thousands of unknown fields", Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`).join("\n")],
    ["30 lines of count 100000", yamlBase.replace('"count": 2', '"count": 100000')],
  ];
  for (const [label, t] of yamlCases) await run(label, t);
  // bounds raised: a long command line is refused by length, not by document size, and names the field
  const longCmd = description();
  longCmd.guests[0].kernel.cmdline = "c".repeat(8 * 1024 * 1024);
  await run("8 MiB command line", JSON.stringify(longCmd), "guests[0].kernel.cmdline", {
    limits: { maxDocumentBytes: 16 * 1024 * 1024 },
  });
  assert.equal(({} as Any).polluted, undefined, "prototype pollution");
  const summary = `range descriptions: ${JSON.stringify(c)}\n${problems.slice(0, 20).join("\n")}`;
  console.log(summary.split("\n")[0]);
  assert.ok(c.cases >= 900 && c.accepted >= 20 && c.refused >= 700, summary);
  for (const k of ["injected", "unreadable", "wrongValue", "crashes", "unclear"] as const) {
    assert.equal(c[k], 0, `${k}: ${summary}`);
  }
});
