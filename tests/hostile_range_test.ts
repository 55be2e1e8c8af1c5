// The hostile-input suite (issue 9), range half: every field of a range description with hostile names,
// MACs, addresses, subnets and counts, then YAML bombs, cycles, deep nesting, tags and huge inputs, parsed
// and (when accepted) stored in the in-process test:///default driver, with the corpus of
// tests/_hostile.ts (which says how a case may end; tests/hostile_domain_test.ts is the domain half).
import assert from "node:assert/strict";
import { Connection, defineNetwork, parseRangeDescription, RangeDescriptionError } from "../mod.ts";
import { guestXml, networkXml } from "../lib/range/_libvirt.ts";
import { parseXml } from "../lib/xml.ts";
import { type Any, hostileValues, show, storeAndReadBack, Tally, text } from "./_hostile.ts";

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

const rangeKinds = [
  "cases",
  "accepted",
  "refused",
  "injected",
  "unreadable",
  "wrongValue",
  "crashes",
  "unclear",
] as const;
type RangeTally = Tally<typeof rangeKinds[number]>;

/** Defines the range's networks and guests in libvirt and checks what is stored is what was planned. */
async function storeRange(
  conn: Connection,
  source: string,
  label: string,
  { bad }: RangeTally,
): Promise<void> {
  const range = parseRangeDescription(source, { limits: { maxDocumentBytes: 16 * 1024 * 1024 } });
  for (const spec of range.networksByHost.get("h1") ?? []) {
    const xml = networkXml(range, spec, "h1");
    const net = await defineNetwork(conn, xml);
    try {
      const stored = parseXml(await net.xmlDesc()).network as Any;
      if (stored.name !== spec.name) bad("wrongValue", `network name ${label}`);
      const hosts = [stored.ip?.dhcp?.host ?? []].flat();
      const planned = range.guests.flatMap((g) => g.nics.filter((n) => n.address)).length +
        (spec.reservations?.length ?? 0);
      if (spec.dhcp && hosts.length !== planned) {
        bad("injected", `dhcp hosts ${label}: ${hosts.length}`);
      }
    } finally {
      await net.undefine().catch(() => {});
      net.free();
    }
  }
  for (const guest of range.guests) {
    const { stored } = await storeAndReadBack(conn, guestXml(range, guest, `/var/lib/hr/${guest.volume}`));
    const s = stored as Any;
    if (s.name !== guest.name) bad("wrongValue", `guest name ${label}`);
    const storedMacs = [s.devices.interface ?? []].flat().map((i: Any) => i.mac["@_address"]);
    if (JSON.stringify(storedMacs) !== JSON.stringify(guest.nics.map((n) => n.mac))) {
      bad("wrongValue", `guest MACs ${label}`);
    }
    if (guest.kernel && text(s.os.cmdline) !== (guest.kernel.cmdline ?? "")) {
      bad("wrongValue", `cmdline ${label}`);
    }
  }
}

/**
 * One case: `textIn` is refused at parse by a RangeDescriptionError whose issues are located, short, and
 * (when `field` is given) name the field; or it parses and storeRange finds what libvirt stores exact.
 */
async function checkRange(
  conn: Connection,
  tally: RangeTally,
  label: string,
  textIn: string,
  field?: string,
  options?: Parameters<typeof parseRangeDescription>[1],
): Promise<void> {
  const { counts: c, bad } = tally;
  c.cases++;
  try {
    parseRangeDescription(textIn, options);
  } catch (error) {
    if (!(error instanceof RangeDescriptionError)) {
      bad("crashes", `${label}: ${String(error).slice(0, 300)}`);
      return;
    }
    const located = error.issues.every((i) =>
      i.line !== undefined && i.column !== undefined && i.message.length < 600
    );
    const named = field === undefined || error.issues.some((i) => relatedPath(i, field));
    if (!located || !named || error.message.length > 12_000 || error.issues.length > 20) {
      bad("unclear", `${label}: ${error.message.slice(0, 300)}`);
    } else c.refused++;
    return;
  }
  try {
    await storeRange(conn, textIn, label, tally);
    c.accepted++;
  } catch (error) {
    bad(
      (error as { unreadable?: boolean }).unreadable ? "unreadable" : "crashes",
      `after parse ${label}: ${String(error).slice(0, 300)}`,
    );
  }
}

/** The values a field is tried with: the corpus, and for MACs, addresses and subnets their own near-misses. */
const valuesFor = (field: string): unknown[] =>
  /mac$/.test(field)
    ? [...macs, ...hostileValues]
    : /address$|start$|end$/.test(field)
    ? [...addresses, ...hostileValues]
    : /subnet$/.test(field)
    ? [...subnets, ...hostileValues]
    : /memory$|vcpus$|count$|diskMiB$|agent$/.test(field)
    ? numbers
    : hostileValues;

/** Every field of the description set to each of its values, as JSON (which is YAML): label, text, field. */
function* fieldCases(): Generator<[label: string, text: string, field: string]> {
  for (const [field, set] of descriptionFields) {
    for (const value of valuesFor(field)) {
      if (
        typeof value === "symbol" ||
        (typeof value === "object" && value !== null && "toString" in value && !Array.isArray(value) &&
          Object.keys(value).length)
      ) continue; // not in JSON
      const desc = description();
      set(desc, value);
      const label = `${field} = ${show(value)}`;
      yield [label, JSON.stringify(desc, null, 1), field];
    }
  }
}

/** An exponential-entity ("billion laughs") document of `levels` levels of nine aliases each. */
const lol = (levels: number): string => {
  let t = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n';
  for (let i = 1; i < levels; i++) t += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]\n`;
  return t;
};

/** YAML-level hostility: bombs, cycles, unresolved aliases, depth, documents, tags, sizes. */
function yamlCases(): [label: string, text: string][] {
  const yamlBase = JSON.stringify(description(), null, 1);
  return [
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
}

Deno.test("hostile inputs: range descriptions refused at parse with the field, or stored exactly", async () => {
  await using conn = await Connection.open("test:///default");
  const tally = new Tally(rangeKinds);
  const { counts: c, problems } = tally;
  await checkRange(conn, tally, "the base description", JSON.stringify(description()));
  for (const [label, t, field] of fieldCases()) await checkRange(conn, tally, label, t, field);
  for (const [label, t] of yamlCases()) await checkRange(conn, tally, label, t);
  // bounds raised: a long command line is refused by length, not by document size, and names the field
  const longCmd = description();
  longCmd.guests[0].kernel.cmdline = "c".repeat(8 * 1024 * 1024);
  await checkRange(conn, tally, "8 MiB command line", JSON.stringify(longCmd), "guests[0].kernel.cmdline", {
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
