// planRange's survey with a single usable connection in the host's pool (lib/range/plan.ts): the plan is
// the one a wider pool gives (a re-up proves every domain by its UUID; a foreign domain of a planned name
// is a conflict). (A survey on three leases at once was tried and reverted: a cold plan then opened three
// connections per host, three ssh sessions for a qemu+ssh:// one-shot, for ~0.6 ms: docs/benchmarks.md,
// "Session h11-range4".)
import assert from "node:assert/strict";
import { defineDomain, lookupDomain, PoolRegistry, undefineDomain } from "../mod.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { upRange } from "../lib/range/up.ts";
import { describe } from "./_range_owner.ts";

const URI = "test:///default";

Deno.test("planRange: with one usable connection the survey plans what a wider pool plans", async () => {
  // max 2 with one held: the survey has a single connection (the test driver's state lives while one is open)
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get(URI).acquire();
  try {
    const range = describe(URI);
    const fresh = await planRange(range, pools);
    assert.equal(fresh.conflict, 0);
    assert.equal(fresh.keep, 1); // the existing pool
    await upRange(range, pools, { waitForAddresses: false });
    // every domain proved by its UUID (derived from the ownership record)
    const again = await planRange(range, pools);
    assert.deepEqual(
      again.items.filter((i) => i.kind === "domain").map((i) => i.action),
      range.guests.map(() => "keep"),
    );
    assert.equal(again.conflict, 0);
    // a domain of a planned name that the record does not prove: its metadata tag decides
    const g = range.guests[0];
    {
      using own = await lookupDomain(hold.connection, g.name);
      await own.destroy(); // running: undefined alone it would stay, transient
      await undefineDomain(own);
    }
    using foreign = await defineDomain(
      hold.connection,
      `<domain type='test'><name>${g.name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
    );
    const conflicted = await planRange(range, pools);
    const item = conflicted.items.find((i) => i.kind === "domain" && i.name === g.name);
    assert.equal(item?.action, "conflict");
    assert.match(item!.reason, /no range created/);
    await undefineDomain(foreign);
    await downRange(range, pools);
  } finally {
    hold.release();
    await pools.closeAll();
  }
});
