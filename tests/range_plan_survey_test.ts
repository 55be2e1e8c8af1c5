// planRange's survey runs three leases of a host's pool at once (lib/range/plan.ts): with one usable
// connection they queue first come first served, and the plan is the one a wider pool gives.
import assert from "node:assert/strict";
import { defineDomain, lookupDomain, PoolRegistry, undefineDomain } from "../mod.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { upRange } from "../lib/range/up.ts";
import { describe } from "./_range_owner.ts";

const URI = "test:///default";

Deno.test("planRange: the survey's three leases share one connection and plan what a wider pool plans", async () => {
  // max 2 with one held: the survey has a single connection (the test driver's state lives while one is open)
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get(URI).acquire();
  try {
    const range = describe(URI);
    const fresh = await planRange(range, pools);
    assert.equal(fresh.conflict, 0);
    assert.equal(fresh.keep, 1); // the existing pool
    await upRange(range, pools, { waitForAddresses: false });
    // the record is read on one lease, the domains listed on another: every domain proved by its UUID
    const again = await planRange(range, pools);
    assert.deepEqual(
      again.items.filter((i) => i.kind === "domain").map((i) => i.action),
      range.guests.map(() => "keep"),
    );
    assert.equal(again.conflict, 0);
    // a domain of a planned name that the record does not prove: its tag is read on a lease of its own
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
