// Range ownership on libvirt's test driver (in-process and inside libvirtd): down removes only what up
// created (base images, a similarly named volume, a pool or network or domain the range did not make
// all survive), a name collision is a conflict at plan time with nothing created, a range's own
// objects are kept by a second up, a failure half-way leaves an ownership record down follows, and
// the domains down removes are proven by their record-derived UUIDs. (Escaping, the re-check of a Range
// and the record itself are in tests/range_escaping_test.ts.)
import assert from "node:assert/strict";
import {
  createVolume,
  defineDomain,
  defineNetwork,
  defineStoragePool,
  lookupDomain,
  lookupNetwork,
  lookupStoragePool,
  lookupVolume,
  type PoolRegistry,
  undefineDomain,
} from "../mod.ts";
import type { Connection } from "../lib/connection.ts";
import { parseRecord, rangeDomainUuid, recordNetworkName } from "../lib/range/_libvirt.ts";
import { countRpcs } from "../bench/_rpc_count.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { resetRange } from "../lib/range/snapshot.ts";
import { RangeOperationError } from "../lib/range/types.ts";
import { upRange } from "../lib/range/up.ts";
import { DAEMON_URI } from "./_helpers.ts";
import { describe, inventory, POOL, withHost } from "./_range_owner.ts";

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
