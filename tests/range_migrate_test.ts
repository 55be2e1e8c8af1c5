// migrateRangeGuest and locateGuest on the in-process test driver: what needs no second real host.
// Real migrations between the lab's two hosts: tests/integration/range_migrate_test.ts.
import assert from "node:assert/strict";
import { defineDomain, lookupDomain, PoolRegistry } from "../mod.ts";
import { validateRange } from "../lib/range/description.ts";
import { locateGuest, migrateRangeGuest } from "../lib/range/migrate.ts";

function describe() {
  return validateRange({
    name: "r2mig",
    hosts: [{ id: "a", uri: "test:///default" }, { id: "b", uri: "test:///default?b" }],
    storage: { pool: "default-pool" },
    guests: [{ id: "web", memory: 64, host: "a" }],
  });
}

Deno.test("migrateRangeGuest: a same-named domain no range made, on the guest's own host, is not the range's guest: never located, never migrated", async () => {
  const range = describe();
  const name = range.guests[0].name;
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get("test:///default").acquire();
  try {
    // someone's domain with the guest's name (no range metadata), running
    const foreign = await defineDomain(
      hold.connection,
      `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
    );
    try {
      await foreign.create();
      assert.equal(await locateGuest(range, pools, name), undefined);
      await assert.rejects(
        () => migrateRangeGuest(range, pools, name, "b"),
        (e: Error) => e instanceof TypeError && /not this range's|no host of range/.test(e.message),
      );
      using again = await lookupDomain(hold.connection, name);
      assert.equal((await again.state()).state, "running", "the foreign domain is untouched");
    } finally {
      await foreign.destroy().catch(() => {});
      await foreign.undefine().catch(() => {});
      foreign.free();
    }
  } finally {
    hold.release();
    await pools.closeAll();
  }
});

Deno.test("rangeStatus: a same-named domain no range made, on the guest's own host, is not reported as the guest (nor put in the inventory)", async () => {
  const { rangeStatus } = await import("../lib/range/status.ts");
  const range = describe();
  const name = range.guests[0].name;
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get("test:///default").acquire();
  try {
    const foreign = await defineDomain(
      hold.connection,
      `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
    );
    try {
      await foreign.create();
      const status = await rangeStatus(range, pools, { addresses: false });
      assert.equal(status.guests[0].state, "absent", JSON.stringify(status.guests[0]));
      assert.equal(status.counts.present, 0);
    } finally {
      await foreign.destroy().catch(() => {});
      await foreign.undefine().catch(() => {});
      foreign.free();
    }
  } finally {
    hold.release();
    await pools.closeAll();
  }
});
