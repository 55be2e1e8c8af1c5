// Range ownership on libvirt's test driver (in-process and inside libvirtd): down removes only what up
// created (base images, a similarly named volume, a pool or network or domain the range did not make
// all survive), a name collision is a conflict at plan time with nothing created, a range's own
// objects are kept by a second up, a failure half-way leaves an ownership record down follows, and
// every value the range's XML builders write is escaped (a Range changed after validation is refused
// before anything is created).
import assert from "node:assert/strict";
import {
  createVolume,
  defineDomain,
  defineNetwork,
  defineStoragePool,
  getDomainMetadata,
  listAllDomains,
  listAllNetworks,
  listAllStoragePools,
  listVolumes,
  lookupDomain,
  lookupNetwork,
  lookupStoragePool,
  lookupVolume,
  PoolRegistry,
  undefineDomain,
} from "../mod.ts";
import type { Connection } from "../lib/connection.ts";
import {
  guestXml,
  Ledger,
  networkXml,
  parseRecord,
  rangeDomainUuid,
  recordNetworkName,
} from "../lib/range/_libvirt.ts";
import { countRpcs } from "../bench/_rpc_count.ts";
import { sha256 } from "../lib/range/_sha256.ts";
import { type Range, RangeDescriptionError, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { resetRange } from "../lib/range/snapshot.ts";
import { RangeOperationError } from "../lib/range/types.ts";
import { upRange } from "../lib/range/up.ts";
import { asArray, type ParsedXml, parseXml } from "../lib/xml.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

const POOL = "default-pool";

function describe(uri: string, extra: Record<string, unknown> = {}): Range {
  const name = `o${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri }],
    storage: { pool: POOL },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.72.1.0/24",
      dhcp: { start: "10.72.1.100", end: "10.72.1.200" },
    }],
    guests: [
      { id: "web", memory: 64, count: 2, nics: [{ network: `${name}-lan`, address: "10.72.1.10" }] },
      { id: "pc", memory: 64, count: 3, nics: [{ network: `${name}-lan` }] },
    ],
    ...extra,
  });
}

/** Everything on the host, by kind: to compare before and after (nothing lost, nothing left). */
async function inventory(pools: PoolRegistry, uri: string): Promise<string[]> {
  return await pools.get(uri).use(async (conn) => {
    const out: string[] = [];
    for (const d of await listAllDomains(conn)) out.push(`domain ${d.name}`), d.free();
    for (const n of await listAllNetworks(conn)) out.push(`network ${n.name}`), n.free();
    for (const p of await listAllStoragePools(conn)) {
      out.push(`pool ${p.name}`);
      if (await p.isActive()) {
        await p.refresh();
        for (const v of await listVolumes(p)) out.push(`volume ${p.name}/${v.name}`), v.free();
      }
      p.free();
    }
    return out.sort();
  }, { idempotent: true });
}

async function makeVolume(conn: Connection, name: string, pool = POOL): Promise<string> {
  using p = await lookupStoragePool(conn, pool);
  using v = await createVolume(
    p,
    `<volume><name>${name}</name><capacity unit='MiB'>8</capacity><target><format type='qcow2'/></target></volume>`,
  );
  return await v.path();
}

async function removeVolume(conn: Connection, name: string, pool = POOL): Promise<void> {
  using p = await lookupStoragePool(conn, pool);
  using v = await lookupVolume(p, name);
  await v.delete();
}

/** Runs `fn` with a registry whose driver state lives for the whole test. */
async function withHost(uri: string, fn: (pools: PoolRegistry, conn: Connection) => Promise<void>) {
  if (uri === DAEMON_URI) requireDaemon();
  const pools = new PoolRegistry({ max: 4 });
  const hold = await pools.get(uri).acquire(); // test drivers forget everything when the last client leaves
  try {
    await fn(pools, hold.connection);
  } finally {
    hold.release();
    await pools.closeAll();
  }
}

async function expectConflict(range: Range, pools: PoolRegistry, uri: string, pattern: RegExp) {
  const before = await inventory(pools, uri);
  const plan = await planRange(range, pools);
  assert.ok(plan.conflict >= 1, JSON.stringify(plan.items));
  assert.ok(
    plan.items.some((i) => i.action === "conflict" && pattern.test(i.reason)),
    JSON.stringify(plan.items),
  );
  const error = await upRange(range, pools, { waitForAddresses: false }).then(() => undefined, (e) => e);
  assert.ok(error instanceof RangeOperationError, String(error));
  assert.match(error.message, pattern);
  assert.deepEqual(error.done, []);
  assert.deepEqual(await inventory(pools, uri), before, "up created nothing");
}

for (const uri of ["test:///default", DAEMON_URI]) {
  Deno.test(`ownership: a golden base image and an unrelated <range>.backup.img survive up + down on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const name = `o${crypto.randomUUID().slice(0, 8)}`;
      const golden = `${name}.golden.qcow2`;
      const backup = `${name}.backup.img`;
      const goldenPath = await makeVolume(conn, golden);
      await makeVolume(conn, backup);
      try {
        const range = validateRange({
          name,
          hosts: [{ id: "local", uri }],
          storage: { pool: POOL },
          baseImages: [{ id: "gold", path: goldenPath }],
          guests: [{ id: "web", memory: 64, count: 3, baseImage: "gold" }],
        });
        const before = await inventory(pools, uri);
        const up = await upRange(range, pools, { waitForAddresses: false });
        assert.equal(up.created.filter((c) => c.startsWith("volume")).length, 3);
        const down = await downRange(range, pools);
        assert.equal(down.removed.filter((r) => r.startsWith("volume")).length, 3, down.removed.join("; "));
        assert.ok(
          !down.removed.some((r) => r.includes(golden) || r.includes(backup)),
          down.removed.join("; "),
        );
        assert.deepEqual(await inventory(pools, uri), before, "exactly what was there before");
        assert.ok((await inventory(pools, uri)).includes(`volume ${POOL}/${golden}`));
        assert.ok((await inventory(pools, uri)).includes(`volume ${POOL}/${backup}`));
      } finally {
        await removeVolume(conn, golden).catch(() => {});
        await removeVolume(conn, backup).catch(() => {});
      }
    });
  });

  Deno.test(`ownership: a volume with a planned name is a conflict, nothing is created, it survives, on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const range = describe(uri);
      const taken = `${range.name}.web-1.qcow2`;
      await makeVolume(conn, taken);
      try {
        await expectConflict(range, pools, uri, /volume of this name exists that this range did not create/);
        // down of the range does not take it either
        await downRange(range, pools);
        using p = await lookupStoragePool(conn, POOL);
        (await lookupVolume(p, taken)).free();
      } finally {
        await removeVolume(conn, taken).catch(() => {});
      }
    });
  });

  Deno.test(`ownership: a pool <range>.pool that someone else made is a conflict and survives down on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const range = describe(uri, {});
      const own = validateRange({ ...range.description, storage: { path: `/tmp/${range.name}-range-dir` } });
      const poolName = own.pool.name;
      assert.equal(poolName, `${range.name}.pool`);
      using foreign = await defineStoragePool(
        conn,
        `<pool type='dir'><name>${poolName}</name><target><path>/tmp/someone-elses-${range.name}</path></target></pool>`,
      );
      try {
        await expectConflict(
          own,
          pools,
          uri,
          /storage pool of this name exists that this range did not create/,
        );
        const down = await downRange(own, pools);
        assert.deepEqual(down.removed, []);
        using again = await lookupStoragePool(conn, poolName);
        assert.match(await again.xmlDesc(), /someone-elses/);
      } finally {
        await foreign.undefine().catch(() => {});
      }
    });
  });

  Deno.test(`ownership: an untagged network or domain with a planned name is a conflict on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const range = describe(uri);
      using network = await defineNetwork(conn, `<network><name>${range.name}-lan</name></network>`);
      try {
        await expectConflict(range, pools, uri, /network of this name exists that no range created/);
      } finally {
        await network.undefine();
      }
      const g = range.guests[0];
      const domain = await defineDomain(
        conn,
        `<domain type='test'><name>${g.name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
      );
      try {
        await expectConflict(range, pools, uri, /domain of this name exists that no range created/);
        // reset does not touch a domain of a guest's name that is not the range's
        const reset = await resetRange(range, pools, { waitForAddresses: false }).then(
          () => undefined,
          (e) => e,
        );
        assert.ok(reset instanceof RangeOperationError);
        assert.match(reset.message, /not this range's/);
      } finally {
        await undefineDomain(domain);
        domain.free();
      }
    });
  });

  Deno.test(`ownership: the range's own objects are kept by a second up, and down leaves nothing on ${uri}`, async () => {
    await withHost(uri, async (pools) => {
      const range = validateRange({
        ...describe(uri).description,
        storage: { path: `/tmp/range-own-${crypto.randomUUID().slice(0, 6)}` },
      });
      const before = await inventory(pools, uri);
      const first = await upRange(range, pools, { waitForAddresses: false });
      assert.ok(first.created.some((c) => c.startsWith("pool")));
      const plan = await planRange(range, pools);
      assert.equal(plan.create, 0, JSON.stringify(plan.items));
      assert.equal(plan.conflict, 0, JSON.stringify(plan.items));
      const second = await upRange(range, pools, { waitForAddresses: false });
      assert.deepEqual(second.created, []);
      // the record lists the pool and every volume, confirmed
      const record = await pools.get(uri).use(async (conn) => {
        using n = await lookupNetwork(conn, recordNetworkName(range.name));
        assert.equal(await n.isActive(), false, "the record network is never started");
        return parseRecord(await n.xmlDesc(), range.name);
      });
      assert.ok(record);
      assert.deepEqual(
        record.entries.map((e) => `${e.kind} ${e.name} ${e.state}`).sort(),
        [`pool ${range.pool.name} created`, ...range.guests.map((g) => `volume ${g.volume} created`)].sort(),
      );
      const down = await downRange(range, pools);
      assert.ok(down.removed.some((r) => r.startsWith(`pool "${range.pool.name}"`)), down.removed.join("; "));
      assert.deepEqual(await inventory(pools, uri), before);
    });
  });

  Deno.test(`ownership: down proves the range's domains by their record-derived UUIDs, and a name alone never decides, on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const range = describe(uri);
      const before = await inventory(pools, uri);
      await upRange(range, pools, { waitForAddresses: false });
      const record = await pools.get(uri).use(async (c) => {
        using n = await lookupNetwork(c, recordNetworkName(range.name));
        return parseRecord(await n.xmlDesc(), range.name)!;
      });
      for (const g of range.guests) {
        using d = await lookupDomain(conn, g.name);
        assert.equal(d.uuid, rangeDomainUuid(record.uuid, g.name), g.name);
      }
      const tag = (r: string) =>
        `<metadata><range:tags xmlns:range='urn:deno-libvirt:range:1'><range:tag key='range'>${r}</range:tag></range:tags></metadata>`;
      const plain = (name: string, extra = "") =>
        `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory>${extra}<os><type>hvm</type></os></domain>`;
      // with the range's prefix: untagged; tagged by another range; with the UUID derived from another
      // record; and one tagged with this range but a UUID of its own (defined before derived UUIDs)
      const intruders = [
        plain(`${range.name}-intruder-1`),
        plain(`${range.name}-other-1`, tag("someone-else")),
        plain(
          `${range.name}-forged-1`,
          `<uuid>${rangeDomainUuid(crypto.randomUUID(), `${range.name}-forged-1`)}</uuid>`,
        ),
      ];
      const legacy = `${range.name}-legacy-1`;
      const made = [];
      for (const xml of [...intruders, plain(legacy, tag(range.name))]) {
        made.push(await defineDomain(conn, xml));
      }
      try {
        // plan (a second up's survey) proves the guests the same way: no tag read for them
        const planned = await countRpcs(async () => {
          const plan = await planRange(range, pools);
          const guests = plan.items.filter((i) => i.kind === "domain");
          assert.ok(guests.every((i) => i.action === "keep"), JSON.stringify(guests));
        });
        assert.equal(planned.get("virDomainGetMetadata"), 4, JSON.stringify([...planned]));
        const counts = await countRpcs(async () => {
          const down = await downRange(range, pools);
          const domains = down.removed.filter((r) => r.startsWith("domain")).sort();
          assert.deepEqual(
            domains,
            [...range.guests.map((g) => g.name), legacy].map((n) => `domain ${JSON.stringify(n)} on local`)
              .sort(),
          );
        });
        // a metadata read only for the 4 domains whose UUID is not this range's, none for its 5 guests
        assert.equal(counts.get("virDomainGetMetadata"), 4, JSON.stringify([...counts]));
        const left = (await inventory(pools, uri)).filter((i) => !before.includes(i));
        assert.deepEqual(left, [
          `domain ${range.name}-forged-1`,
          `domain ${range.name}-intruder-1`,
          `domain ${range.name}-other-1`,
        ]);
      } finally {
        for (const d of made) {
          await undefineDomain(d).catch(() => {});
          d.free();
        }
      }
      assert.deepEqual(await inventory(pools, uri), before);
    });
  });

  Deno.test(`ownership: a failure half-way leaves a record that down follows exactly on ${uri}`, async () => {
    await withHost(uri, async (pools, conn) => {
      const range = describe(uri);
      const backup = `${range.name}.backup.img`;
      await makeVolume(conn, backup);
      try {
        const before = await inventory(pools, uri);
        let volumes = 0;
        const error = await upRange(range, pools, {
          concurrency: 1,
          waitForAddresses: false,
          beforeAction: (a) => {
            if (a.phase === "volume" && ++volumes === 3) throw new Error("injected: out of space");
          },
        }).then(() => undefined, (e) => e);
        assert.ok(error instanceof RangeOperationError, String(error));
        const made = error.done.filter((d) => d.startsWith("create volume"));
        assert.equal(made.length, 4, error.message); // the others went on
        // the record: what was made confirmed, the failed one not listed
        const record = await pools.get(uri).use(async (conn) => {
          using n = await lookupNetwork(conn, recordNetworkName(range.name));
          return parseRecord(await n.xmlDesc(), range.name)!;
        });
        assert.equal(record.entries.length, 4, JSON.stringify(record.entries));
        assert.ok(
          record.entries.every((e) => e.state === "created" && e.path),
          JSON.stringify(record.entries),
        );
        const down = await downRange(range, pools);
        assert.equal(down.removed.filter((r) => r.startsWith("volume")).length, 4, down.removed.join("; "));
        assert.deepEqual(await inventory(pools, uri), before, "exactly what was there before");
      } finally {
        await removeVolume(conn, backup).catch(() => {});
      }
    });
  });
}

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
