// What a range writes, checked on libvirt's in-process test driver: every value the range's XML builders
// write is escaped (a Range changed after validation is refused before anything is created, and a change
// while up runs does not reach the operation), and the ownership record coalesces its saves, escapes its
// values and derives domain UUIDs as specified. (What down removes and what it leaves is in
// tests/range_ownership_test.ts.)
import assert from "node:assert/strict";
import { defineDomain, getDomainMetadata, lookupDomain, lookupNetwork, undefineDomain } from "../mod.ts";
import { guestXml, Ledger, networkXml, parseRecord, rangeDomainUuid } from "../lib/range/_libvirt.ts";
import { PrefixedSha256, sha256 } from "../lib/range/_sha256.ts";
import { type Range, RangeDescriptionError, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { upRange } from "../lib/range/up.ts";
import { asArray, type ParsedXml, parseXml } from "../lib/xml.ts";
import { describe, inventory, POOL, withHost } from "./_range_owner.ts";

// ------------------------------------------------------------------------------------------------
// Escaping and the re-check of a Range

const INJECT = `'/><evil/><x y='`;

function count(node: unknown, name: string): number {
  if (Array.isArray(node)) return node.reduce((n, c) => n + count(c, name), 0);
  if (node === null || typeof node !== "object") return 0;
  let n = 0;
  for (const [key, value] of Object.entries(node as ParsedXml)) {
    if (key.startsWith("@_") || key === "#text") continue;
    if (key === name || key.endsWith(`:${name}`)) n += asArray(value).length || 1;
    n += count(value, name);
  }
  return n;
}

Deno.test("escaping: a NIC's planned address changed after validation cannot inject into what libvirt stores", async () => {
  const range = describe("test:///default");
  const guest = structuredClone(range.guests[0]);
  guest.nics[0].address = `10.72.1.10${INJECT}`;
  const xml = guestXml(range, guest, "/default-pool/x.qcow2");
  assert.equal(count(parseXml(xml), "evil"), 0, xml);
  await withHost("test:///default", async (_pools, conn) => {
    const domain = await defineDomain(conn, xml);
    try {
      const stored = await getDomainMetadata(domain, "urn:deno-libvirt:ip-plan:1");
      assert.ok(stored);
      const parsed = parseXml(stored);
      assert.equal(count(parsed, "evil"), 0, stored);
      assert.equal(count(parsed, "nic"), 1, stored);
      const nic = (parsed.plan as ParsedXml).nic as ParsedXml;
      assert.equal(nic["@_address"], guest.nics[0].address, "stored as text, exactly");
      assert.equal(count(parseXml(await domain.xmlDesc()), "evil"), 0);
    } finally {
      await undefineDomain(domain);
      domain.free();
    }
  });
});

Deno.test("escaping: DHCP start/end and reservation mac/address/name are escaped in the network XML", () => {
  const range = describe("test:///default");
  const spec = structuredClone(range.description.networks![0]);
  spec.dhcp = { start: `10.72.1.100${INJECT}`, end: `10.72.1.200${INJECT}` };
  spec.reservations = [{
    mac: `52:54:00:00:00:01${INJECT}`,
    address: `10.72.1.5${INJECT}`,
    name: `a${INJECT}`,
  }];
  const mutated = { ...range, guests: structuredClone(range.guests) };
  mutated.guests[0].nics[0].address = `10.72.1.10${INJECT}`;
  mutated.guests[0].nics[0].mac = `52:54:00:00:00:02${INJECT}`;
  const xml = networkXml(mutated, spec, "local");
  const parsed = parseXml(xml);
  assert.equal(count(parsed, "evil"), 0, xml);
  assert.equal(count(parsed, "x"), 0, xml);
  assert.equal(count(parsed, "range"), 1, xml);
  assert.equal(count(parsed, "host"), 3, xml); // the reservation and the two planned addresses
  const dhcp = ((parsed.network as ParsedXml).ip as ParsedXml).dhcp as ParsedXml;
  assert.equal((dhcp.range as ParsedXml)["@_start"], spec.dhcp.start, "the value round-trips exactly");
});

Deno.test("re-check: upRange refuses a Range changed after validation, naming the field, before creating anything", async () => {
  await withHost("test:///default", async (pools) => {
    const cases: [string, (r: Range) => void, RegExp][] = [
      [
        "guests[0].nics[0].address",
        (r) => (r.guests[0].nics[0].address = `10.72.1.10${INJECT}`),
        /guests\[0\]\.nics\[0\]\.address/,
      ],
      ["guests[1].name", (r) => (r.guests[1].name = "someone-elses-domain"), /guests\[1\]\.name/],
      ["guests[0].volume", (r) => (r.guests[0].volume = "lab.golden.qcow2"), /guests\[0\]\.volume/],
      ["pool", (r) => (r.pool = { name: "default-pool", created: true, path: "/tmp" }), /pool\.created/],
      [
        "dhcp start",
        (r) => (r.description.networks![0].dhcp!.start = `10.72.1.100${INJECT}`),
        /networks\[0\]\.dhcp\.start/,
      ],
      ["reservation mac", (r) => {
        r.description.networks![0].reservations = [{
          mac: `52:54:00:00:00:01${INJECT}`,
          address: "10.72.1.5",
        }];
      }, /networks\[0\]\.reservations\[0\]\.mac/],
    ];
    for (const [label, mutate, field] of cases) {
      const range = describe("test:///default");
      mutate(range);
      const before = await inventory(pools, "test:///default");
      for (
        const op of [() => upRange(range, pools, { waitForAddresses: false }), () => planRange(range, pools)]
      ) {
        const error = await op().then(() => undefined, (e) => e);
        assert.ok(error instanceof RangeDescriptionError, `${label}: ${error}`);
        assert.match(error.message, field, label);
      }
      assert.deepEqual(await inventory(pools, "test:///default"), before, `${label}: nothing created`);
    }
  });
});

Deno.test("re-check: changing the Range while up runs does not reach the operation", async () => {
  await withHost("test:///default", async (pools) => {
    const range = describe("test:///default");
    const pending = upRange(range, pools, { waitForAddresses: false });
    range.guests[0].nics[0].address = `10.72.1.10${INJECT}`;
    range.description.networks![0].dhcp!.start = `x${INJECT}`;
    await pending;
    await pools.get("test:///default").use(async (conn) => {
      using domain = await lookupDomain(conn, `${range.name}-web-1`);
      assert.equal(count(parseXml(await domain.xmlDesc()), "evil"), 0);
      using network = await lookupNetwork(conn, `${range.name}-lan`);
      assert.match(await network.xmlDesc(), /start='10\.72\.1\.100'/);
    });
    // down re-checks too: refuse the mutated one, accept a fresh copy
    await assert.rejects(() => downRange(range, pools), RangeDescriptionError);
    await downRange(
      validateRange(structuredClone({ ...range.description, networks: describeNetworks(range) })),
      pools,
    );
  });
});

function describeNetworks(range: Range) {
  const networks = structuredClone(range.description.networks!);
  networks[0].dhcp = { start: "10.72.1.100", end: "10.72.1.200" };
  return networks;
}

Deno.test("record: concurrent saves coalesce, and every change reaches a write its caller waited for", async () => {
  const ledger = new Ledger("r1", "h1");
  const writes: string[] = [];
  let release: (() => void) | undefined;
  let wrote: (() => void) | undefined;
  const nextWrite = () => new Promise<void>((resolve) => (wrote = resolve));
  const write = (xml: string) => {
    writes.push(xml);
    wrote?.();
    return new Promise<void>((resolve) => (release = resolve));
  };
  ledger.set({ kind: "volume", name: "r1.a-1.qcow2", pool: "p", state: "intent" });
  const first = ledger.save(write);
  // while the first write is in flight, three more changes and saves
  const more = [1, 2, 3].map((i) => {
    ledger.set({ kind: "volume", name: `r1.b-${i}.qcow2`, pool: "p", state: "intent" });
    return ledger.save(write);
  });
  assert.equal(writes.length, 1);
  const second = nextWrite();
  release!();
  await first;
  // one more write carries all three changes
  await second;
  release!();
  await Promise.all(more);
  assert.equal(writes.length, 2, "four saves, two writes");
  const last = parseRecord(writes[1], "r1")!;
  assert.deepEqual(last.entries.map((e) => e.name).sort(), [
    "r1.a-1.qcow2",
    "r1.b-1.qcow2",
    "r1.b-2.qcow2",
    "r1.b-3.qcow2",
  ]);
  // a record of another range, another namespace or version is not this range's record
  assert.equal(parseRecord(writes[1], "r2"), undefined);
  assert.equal(parseRecord(writes[1].replace("range-record:1", "range-record:9"), "r1"), undefined);
  assert.equal(parseRecord(writes[1].replace("version='1'", "version='2'"), "r1"), undefined);
  assert.equal(parseRecord("<network><name>r1.ownership</name></network>", "r1"), undefined);
});

Deno.test("record: values in the record are escaped and read back exactly", () => {
  const ledger = new Ledger("r1", `h'<x/>`);
  const odd = `/pool/a'b"<c>&d.qcow2`;
  ledger.set({ kind: "volume", name: `v'<evil/>`, pool: `p&<q>`, state: "created", path: odd });
  ledger.set({ kind: "pool", name: "r1.pool", state: "created", built: true });
  const xml = ledger.xml();
  assert.equal(count(parseXml(xml), "evil"), 0, xml);
  const back = parseRecord(xml, "r1")!;
  assert.equal(back.host, `h'<x/>`);
  assert.deepEqual(back.entries.find((e) => e.kind === "volume"), {
    kind: "volume",
    name: `v'<evil/>`,
    pool: `p&<q>`,
    state: "created",
    path: odd,
  });
  assert.equal(back.entries.find((e) => e.kind === "pool")?.built, true);
});

Deno.test("re-check: a Range validated with raised limits is re-checked with the same limits", async () => {
  await withHost("test:///default", async (pools) => {
    const name = `o${crypto.randomUUID().slice(0, 8)}`;
    const description = {
      name,
      hosts: [{ id: "local", uri: "test:///default" }],
      storage: { pool: POOL },
      guests: [{ id: "pc", memory: 64, count: 1_200 }],
    };
    assert.throws(() => validateRange(structuredClone(description)), /maxGuests/);
    const range = validateRange(description, { limits: { maxGuests: 2_000 } });
    const plan = await planRange(range, pools);
    assert.equal(plan.items.filter((i) => i.kind === "domain" && i.action === "create").length, 1_200);
  });
});

Deno.test("PrefixedSha256: digest(rest) is SHA-256 of prefix + rest (checked against WebCrypto)", async () => {
  const webDigest = async (data: Uint8Array<ArrayBuffer>) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  for (const p of [0, 1, 55, 56, 57, 63, 64, 65, 120, 127, 128, 130]) {
    const prefix = crypto.getRandomValues(new Uint8Array(p));
    const hasher = new PrefixedSha256(prefix);
    for (const n of [0, 1, 2, 7, 8, 9, 55, 63, 64, 65, 200]) {
      // twice each: the second may come from the kept first-block state; rests with shared opening bytes too
      for (
        const rest of [crypto.getRandomValues(new Uint8Array(n)), crypto.getRandomValues(new Uint8Array(n))]
      ) {
        if (n > 0 && p > 0) rest[0] = 0x61;
        const whole = new Uint8Array(p + n);
        whole.set(prefix);
        whole.set(rest, p);
        const expected = await webDigest(whole);
        assert.deepEqual(hasher.digest(rest), expected, `prefix ${p}, rest ${n} bytes`);
        assert.deepEqual(hasher.digest(rest), expected, `prefix ${p}, rest ${n} bytes, again`);
        assert.deepEqual(sha256(whole), expected, `${p + n} bytes whole`);
      }
    }
  }
  // more distinct opening bytes than the states it keeps: each digest still right
  const hasher = new PrefixedSha256(new Uint8Array(63).fill(7));
  for (let b = 0; b < 256; b += 3) {
    const rest = new Uint8Array([b, 1, 2, 3]);
    const whole = new Uint8Array(67).fill(7);
    whole.set(rest, 63);
    assert.deepEqual(hasher.digest(rest), await webDigest(whole), `opening byte ${b}`);
  }
});

Deno.test("rangeDomainUuid: the same UUID as SHA-256 over the whole input, for names of any opening and length", () => {
  const record = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  const other = crypto.randomUUID().toUpperCase();
  const names = [
    "a",
    "demo-web-1",
    "x".repeat(200),
    "ü-guest",
    "日本-1",
    ...Array.from({ length: 150 }, (_, i) => `${String.fromCharCode(33 + (i % 90))}-g-${i}`),
  ];
  for (const r of [record, other, record]) {
    for (const name of names) {
      const bytes = sha256(new TextEncoder().encode(`deno-libvirt range domain\0${r.toLowerCase()}\0${name}`))
        .subarray(0, 16);
      bytes[6] = (bytes[6] & 0x0f) | 0x80;
      bytes[8] = (bytes[8] & 0x3f) | 0x80;
      const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
        hex.slice(20)
      }`;
      assert.equal(rangeDomainUuid(r, name), expected, `${r} ${name}`);
    }
  }
});

Deno.test("record: the derived domain UUID is SHA-256 (checked against WebCrypto) as an RFC 9562 v8 UUID", async () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const data = crypto.getRandomValues(new Uint8Array(n));
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    assert.deepEqual(sha256(data), expected, `${n} bytes`);
  }
  const record = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  const uuid = rangeDomainUuid(record, "demo-web-1");
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(
    rangeDomainUuid(record.toUpperCase(), "demo-web-1"),
    uuid,
    "the record's case does not matter",
  );
  assert.notEqual(rangeDomainUuid(record, "demo-web-2"), uuid);
  assert.notEqual(rangeDomainUuid(crypto.randomUUID(), "demo-web-1"), uuid);
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`deno-libvirt range domain\0${record}\0demo-web-1`),
    ),
  );
  assert.equal(
    uuid.replaceAll("-", "").slice(16, 32),
    Array.from(
      digest.subarray(8, 16),
      (b, i) => (i === 0 ? (b & 0x3f) | 0x80 : b).toString(16).padStart(2, "0"),
    ).join(""),
  );
});
