// The hostile-input suite (issue 9), domain half: every string field of the domain spec, and
// setDomainMetadata's namespaces, prefixes and bodies, run against the in-process test:///default driver
// with the corpus of tests/_hostile.ts (which says how a case may end; tests/hostile_range_test.ts is the
// range-description half).
import assert from "node:assert/strict";
import {
  buildDomainXml,
  Connection,
  defineDomain,
  type Domain,
  type DomainSpec,
  getDomainMetadata,
  LibvirtError,
  parseMetadataXml,
  setDomainMetadata,
  undefineDomain,
} from "../mod.ts";
import { type ParsedXml, parseXml } from "../lib/xml.ts";
import {
  type Any,
  hostileOther,
  hostileStrings,
  hostileValues,
  show,
  storeAndReadBack,
  Tally,
  text,
} from "./_hostile.ts";

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

Deno.test("hostile inputs: every field of the domain spec, stored by libvirt, 0 injected, 0 unreadable, 0 crashes", async () => {
  await using conn = await Connection.open("test:///default");
  const { counts, problems: failures, bad } = new Tally(
    [
      "cases",
      "accepted",
      "refused",
      "refusedByLibvirt",
      "injected",
      "unreadable",
      "wrongValue",
      "crashes",
      "unclear",
    ] as const,
  );
  const libvirtRefusals = new Map<string, number>();
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

// ---------------------------------------------------------------------------------------------------
// setDomainMetadata.

/** A metadata case: the field made hostile, and the namespace, prefix and body passed. */
type MetadataCase = [field: string, namespaceUri: unknown, prefix: unknown, body: unknown];

const metadataNamespaces: unknown[] = [
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
const metadataPrefixes: unknown[] = [
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
const metadataBodies: unknown[] = [
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
const metadataCases: MetadataCase[] = [
  ...metadataNamespaces.map((ns): MetadataCase => ["namespaceUri", ns, "h", "<tags/>"]),
  ...metadataPrefixes.map((p): MetadataCase => ["prefix", "urn:hostile:1", p, "<tags/>"]),
  ...metadataBodies.map((b): MetadataCase => ["xml", "urn:hostile:1", "h", b]),
];

const metadataKinds = [
  "cases",
  "accepted",
  "refused",
  "refusedByLibvirt",
  "injected",
  "unreadable",
  "crashes",
  "unclear",
] as const;

/**
 * Sets one case's metadata on `dom`: refused (by us, naming the field, or by libvirt), or stored with
 * nothing but metadata added to the domain's shape (`before`), readable back by libvirt and by
 * getDomainMetadata; then removes it again.
 */
async function tryMetadata(
  conn: Connection,
  dom: Domain,
  before: Set<string>,
  [field, ns, prefix, body]: MetadataCase,
  { counts: c, bad }: Tally<typeof metadataKinds[number]>,
): Promise<void> {
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
      else bad("unclear", `${label}: ${error.message}`);
    } else bad("crashes", `${label}: ${error}`);
    return;
  }
  c.accepted++;
  const raw = await dom.xmlDesc({ inactive: true });
  const after = [...shape(parseXml(raw).domain)].filter((p) => !p.startsWith("/metadata"));
  const extra = after.filter((p) => !before.has(p));
  if (extra.length) bad("injected", `${label}: ${extra}`);
  try {
    (await defineDomain(conn, raw)).free();
  } catch (error) {
    bad("unreadable", `${label}: ${error}`);
  }
  const back = body === null ? "" : await getDomainMetadata(dom, ns as string);
  if (back === undefined) bad("unclear", `not stored ${label}`);
  await setDomainMetadata(dom, { namespaceUri: ns as string, prefix: prefix as string, xml: null });
}

Deno.test("hostile inputs: setDomainMetadata namespaces, prefixes and bodies", async () => {
  await using conn = await Connection.open("test:///default");
  const dom = await defineDomain(
    conn,
    buildDomainXml({ name: "hostile-md", type: "test", memoryMiB: 64, vcpus: 1 }),
  );
  const tally = new Tally(metadataKinds);
  const { counts: c, problems } = tally;
  try {
    const before = shape(parseXml(await dom.xmlDesc({ inactive: true })).domain);
    for (const one of metadataCases) await tryMetadata(conn, dom, before, one, tally);
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
