// guestXml's per-kind template (lib/range/_libvirt.ts): byte-identical to the builder's document for
// every guest, the fixture written by the code before the template included, with the builder's errors,
// and nothing carried from one range or kind to another.
// the class modules fill lib/objects/_types.ts's ObjectClasses registry (declaration merging): without
// them in the program the object types are missing when this file is checked alone
import type {} from "../mod.ts";
import assert from "node:assert/strict";
import { builtGuestXml, guestTemplateCount, guestXml, rangeDomainUuid } from "../lib/range/_libvirt.ts";
import { type ExpandedGuest, type ExpandedNic, type Range, validateRange } from "../lib/range/description.ts";
import { escapeXml } from "../lib/xml.ts";
import { guestXmlShapes } from "./_guest_xml_shapes.ts";

const FIXTURE: Record<string, string[]> = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/range_guest_xml.json", import.meta.url)),
);

Deno.test("guestXml: byte-identical to the documents the code before the template wrote, for every shape", () => {
  const shapes = guestXmlShapes();
  assert.deepEqual(shapes.map((s) => s.name), Object.keys(FIXTURE));
  for (const shape of shapes) {
    const expected = FIXTURE[shape.name];
    assert.equal(shape.calls.length, expected.length, shape.name);
    shape.calls.forEach((c, i) => {
      const at = `${shape.name}, call ${i} (${c.guest.name})`;
      assert.equal(builtGuestXml(shape.range, c.guest, c.path, c.uuid), expected[i], `builder: ${at}`);
      assert.equal(guestXml(shape.range, c.guest, c.path, c.uuid), expected[i], `template: ${at}`);
    });
    assert.ok(guestTemplateCount(shape.range) > 0, `${shape.name}: no kind took the template`);
  }
});

function big(name: string, memory = 64, network = `${name}-lan`): Range {
  return validateRange({
    name,
    hosts: [{ id: "a", uri: "test:///default" }, { id: "b", uri: "qemu:///system" }],
    storage: { pool: "default-pool" },
    networks: [
      { name: `${name}-lan`, mode: "isolated", subnet: "10.64.0.0/20" },
      { name: `${name}-dmz`, mode: "isolated", subnet: "10.65.0.0/20" },
    ],
    guests: [
      {
        id: "web",
        memory: memory + 96,
        count: 600,
        hosts: ["a", "b"],
        nics: [{ network, address: network.endsWith("-dmz") ? "10.65.1.1" : "10.64.1.1" }],
      },
      {
        id: "pc",
        memory: memory + 96,
        count: 400,
        agent: true,
        nics: [{ network }, { network: `${name}-dmz` }],
      },
    ],
  }, { limits: { maxGuests: 1000 } });
}

Deno.test("guestXml: the builder's document for each of 1,000 guests, in any order, with and without UUIDs", () => {
  const range = big("gxb");
  const order = range.guests.map((_, i) => (i * 389) % range.guests.length); // a fixed shuffle
  for (const i of order) {
    const g = range.guests[i];
    const uuid = i % 3 === 0 ? undefined : rangeDomainUuid("6695eb01-f6a4-4304-89aa-97f2502e193f", g.name);
    assert.equal(
      guestXml(range, g, `/pool/${g.volume}`, uuid),
      builtGuestXml(range, g, `/pool/${g.volume}`, uuid),
    );
  }
  assert.equal(guestTemplateCount(range), 6); // web on two hosts, pc: each with and without a UUID
});

/** What `fn` throws, as "Name: message". */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return "nothing thrown";
}

Deno.test("guestXml: a value the builder refuses is refused in the builder's words once the kind's template exists", () => {
  const range = big("gxe");
  const g = range.guests[1];
  guestXml(range, g, "/pool/x.qcow2", "6695eb01-f6a4-4304-89aa-97f2502e193f"); // the kind's template made
  assert.equal(guestTemplateCount(range), 1);
  const cases: [string, (c: ExpandedGuest) => void, string?, string?][] = [
    ["a bad name", (c) => c.name = "web/1"],
    ["a name too long", (c) => c.name = "x".repeat(64)],
    ["a null name", (c) => (c as { name: unknown }).name = null],
    ["a malformed MAC", (c) => c.nics[0].mac = "52:54:00:zz:00:01"],
    ["a multicast MAC", (c) => c.nics[0].mac = "53:54:00:00:00:01"],
    ["a null MAC", (c) => (c.nics[0] as { mac: unknown }).mac = null],
    ["an address XML cannot carry", (c) => c.nics[0].address = "10.64.1.1\u0000"],
    ["a NaN index", (c) => c.index = NaN],
    ["an empty path", () => {}, ""],
    ["a blank path", () => {}, "  "],
    ["a path XML cannot carry", () => {}, "/pool/\uFFFE"],
    ["a bad UUID", () => {}, "/pool/x.qcow2", "not-a-uuid"],
    ["a null UUID", () => {}, "/pool/x.qcow2", null as unknown as string],
  ];
  for (const [what, change, path = "/pool/y.qcow2", uuid = "6695eb01-f6a4-4304-89aa-97f2502e193f"] of cases) {
    const c = structuredClone(g);
    change(c);
    const expected = thrown(() => builtGuestXml(range, c, path, uuid));
    assert.match(expected, /^TypeError: Cannot /, what);
    assert.equal(thrown(() => guestXml(range, c, path, uuid)), expected, what);
  }
  // two NICs with one MAC: the second NIC's error
  const pc = structuredClone(range.guests.find((x) => x.guestId === "pc")!);
  guestXml(range, range.guests.find((x) => x.guestId === "pc")!, "/pool/p.qcow2");
  assert.equal(guestTemplateCount(range), 2);
  pc.nics[1].mac = pc.nics[0].mac.toUpperCase();
  const expected = thrown(() => builtGuestXml(range, pc, "/pool/p.qcow2"));
  assert.match(expected, /nics\[1\]\.mac .* is used by another NIC/);
  assert.equal(thrown(() => guestXml(range, pc, "/pool/p.qcow2")), expected);
});

Deno.test("guestXml: nothing is carried from one range, kind or guest to another", () => {
  // two ranges with one name and the same kinds, differing in memory and network
  const one = big("gxl");
  const two = big("gxl", 200, "gxl-dmz");
  for (const range of [one, two, one, two]) {
    for (const g of range.guests.slice(0, 3)) {
      assert.equal(guestXml(range, g, "/p/v.qcow2"), builtGuestXml(range, g, "/p/v.qcow2"));
    }
  }
  assert.notEqual(guestXml(one, one.guests[0], "/p"), guestXml(two, two.guests[0], "/p"));
  // a guest changed after validation in what its kind shares: memory, vCPUs, agent, type, host, a
  // NIC's network, a planned address added or dropped, a kernel, the kind's id
  const changes: ((c: ExpandedGuest) => void)[] = [
    (c) => c.memoryMiB = 333,
    (c) => c.vcpus = 3,
    (c) => c.agent = !c.agent,
    (c) => c.type = "kvm",
    (c) => c.hostId = "b",
    (c) => c.nics[0].network = "gxl-dmz",
    (c) => c.nics[0].address = c.nics[0].address ? undefined : "10.64.9.9",
    (c) => c.kernel = { kernel: "/boot/k", cmdline: "x & y" },
    (c) => c.guestId = "pc",
    (c) => c.nics.push({ network: "gxl-dmz", mac: "52:54:00:00:99:01", generatedMac: false }),
    (c) => c.nics.pop(),
  ];
  for (const g of one.guests.slice(0, 2)) {
    for (const change of changes) {
      const c = structuredClone(g);
      change(c);
      assert.equal(guestXml(one, c, "/p/v.qcow2"), builtGuestXml(one, c, "/p/v.qcow2"), String(change));
      assert.equal(guestXml(one, g, "/p/v.qcow2"), builtGuestXml(one, g, "/p/v.qcow2"), String(change));
    }
  }
  // a kind changed in many ways: each right, the kinds kept bounded
  const wide = big("gxw");
  for (let m = 100; m < 200; m++) {
    const c = structuredClone(wide.guests[0]);
    c.memoryMiB = m;
    assert.equal(guestXml(wide, c, "/p/v.qcow2"), builtGuestXml(wide, c, "/p/v.qcow2"));
  }
  assert.equal(guestTemplateCount(wide), 64);
  // the Range changed after its templates were made: its name, a firewall rule added
  const range = big("gxm");
  const g = range.guests[0];
  const before = guestXml(range, g, "/p/v.qcow2");
  range.name = "gxn";
  assert.equal(guestXml(range, g, "/p/v.qcow2"), builtGuestXml(range, g, "/p/v.qcow2"));
  assert.notEqual(guestXml(range, g, "/p/v.qcow2"), before);
  range.description.firewall = [{ from: "gxm-dmz", to: "web", allow: ["tcp/22"] }];
  assert.match(guestXml(range, g, "/p/v.qcow2"), /<filterref filter='gxn\.fw\.web'\/>/);
  assert.equal(guestXml(range, g, "/p/v.qcow2"), builtGuestXml(range, g, "/p/v.qcow2"));
});

/**
 * Every field of a guest and of its NICs, one change each. The maps are keyed by the types' own keys, so
 * a field added to ExpandedGuest or ExpandedNic fails this file's type check until it is listed here: a
 * value the template does not know of (one it would copy from the kind's first guest) cannot go unseen.
 */
const GUEST_FIELD_CHANGES: { [K in keyof Required<ExpandedGuest>]: (c: ExpandedGuest) => void } = {
  name: (c) => c.name = `${c.name}x`,
  guestId: (c) => c.guestId = "pc",
  index: (c) => c.index = 977,
  hostId: (c) => c.hostId = c.hostId === "a" ? "b" : "a",
  uri: (c) => c.uri = "qemu+tcp://elsewhere/system",
  type: (c) => c.type = c.type === "test" ? "kvm" : "test",
  memoryMiB: (c) => c.memoryMiB = 777,
  vcpus: (c) => c.vcpus = 7,
  agent: (c) => c.agent = !c.agent,
  baseImage: (c) => c.baseImage = { id: "img", path: "/var/lib/images/base & co.qcow2" },
  kernel: (c) => c.kernel = { kernel: "/boot/vmlinuz", initrd: "/boot/initrd", cmdline: "a<b" },
  volume: (c) => c.volume = "other.qcow2",
  diskMiB: (c) => c.diskMiB = 4321,
  nics: (c) => c.nics.push({ network: c.nics[0].network, mac: "52:54:00:aa:bb:cc", generatedMac: false }),
  tasks: (c) => c.tasks = [],
  groups: (c) => c.groups = ["extra"],
};
const NIC_FIELD_CHANGES: { [K in keyof Required<ExpandedNic>]: (n: ExpandedNic) => void } = {
  network: (n) =>
    n.network = n.network.endsWith("-dmz")
      ? n.network.replace(/-dmz$/, "-lan")
      : n.network.replace(/-lan$/, "-dmz"),
  mac: (n) => n.mac = "52:54:00:0f:0e:0d",
  address: (n) => n.address = n.address ? undefined : "10.64.3.3",
  generatedMac: (n) => n.generatedMac = !n.generatedMac,
};

Deno.test("guestXml: a guest changed in any one of its fields, or its NIC's, gets the builder's document", () => {
  const range = big("gxf");
  for (const g of [range.guests[0], range.guests[1], range.guests[700]]) {
    guestXml(range, g, "/p/v.qcow2"); // the kind's template exists before the changed guests come
    for (const [field, change] of Object.entries(GUEST_FIELD_CHANGES)) {
      const c = structuredClone(g);
      change(c);
      const uuid = rangeDomainUuid("6695eb01-f6a4-4304-89aa-97f2502e193f", c.name);
      assert.equal(
        guestXml(range, c, "/p/w.qcow2", uuid),
        builtGuestXml(range, c, "/p/w.qcow2", uuid),
        field,
      );
    }
    for (const [field, change] of Object.entries(NIC_FIELD_CHANGES)) {
      const c = structuredClone(g);
      change(c.nics[c.nics.length - 1]);
      assert.equal(
        guestXml(range, c, "/p/w.qcow2"),
        builtGuestXml(range, c, "/p/w.qcow2"),
        `nics[].${field}`,
      );
    }
  }
});

Deno.test("guestXml: an address with `$&`, `$'` or `$$` is written as it is, by the builder and the template", () => {
  const range = big("gxd");
  const g = range.guests[0]; // web: one NIC with a planned address
  guestXml(range, g, "/p/v.qcow2"); // the kind's template exists
  for (const address of ["10.0.0.$&", "10.0.0.$'", "10.0.0.$`", "10.0.0.$$"]) {
    const c = structuredClone(range.guests[1]);
    c.nics[0].address = address;
    const built = builtGuestXml(range, c, "/p/w.qcow2");
    assert.ok(built.includes(`address='${escapeXml(address)}'`), built);
    assert.equal(guestXml(range, c, "/p/w.qcow2"), built, address);
  }
});
