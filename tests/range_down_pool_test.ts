// down after an up that stopped before the range's pool ran (or after someone stopped a pool): libvirt
// lists and deletes volumes only in a running pool. The range's own pool is started for the volume
// phase (the pool phase removes it anyway); someone else's is not started behind their back, and the
// error says how to go on. On the in-process test driver.
import assert from "node:assert/strict";
import { Connection, lookupStoragePool, PoolRegistry } from "../mod.ts";
import { validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { RangeOperationError } from "../lib/range/types.ts";
import { upRange } from "../lib/range/up.ts";
import { inventoryOf } from "./_range_owner.ts";

const URI = "test:///default";

function describe(storage: Record<string, unknown>) {
  const name = `dp${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri: URI }],
    storage,
    networks: [{ name: `${name}-lan`, mode: "isolated", subnet: "10.73.1.0/24" }],
    guests: [{ id: "pc", memory: 64, count: 3, nics: [{ network: `${name}-lan` }] }],
  });
}

Deno.test("down: the range's own pool, stopped after up, is started to delete its volumes, then removed", async () => {
  await using hold = await Connection.open(URI); // test:///default lives while a connection does
  await using pools = new PoolRegistry({ max: 4 });
  const range = describe({ path: `/tmp/range-down-pool-${crypto.randomUUID().slice(0, 6)}` });
  const before = await inventoryOf(hold);
  await upRange(range, pools, { waitForAddresses: false });
  {
    using p = await lookupStoragePool(hold, range.pool.name);
    await p.destroy(); // as an up that failed before the pool ran, or an operator's pool-destroy
  }
  const down = await downRange(range, pools);
  for (const g of range.guests) {
    assert.ok(down.removed.some((r) => r.includes(g.volume)), down.removed.join("; "));
  }
  assert.deepEqual(await inventoryOf(hold), before);
});

Deno.test("down: someone else's stopped pool is not started; the error says how to go on, and a second down finishes", async () => {
  await using hold = await Connection.open(URI);
  await using pools = new PoolRegistry({ max: 4 });
  const range = describe({ pool: "default-pool" });
  const before = await inventoryOf(hold);
  await upRange(range, pools, { waitForAddresses: false });
  using p = await lookupStoragePool(hold, "default-pool");
  await p.destroy();
  try {
    const failed = await downRange(range, pools).then(() => undefined, (error) => error);
    assert.ok(failed instanceof RangeOperationError, String(failed));
    assert.match(
      failed.message,
      /"default-pool" is not running.*virsh pool-start default-pool.*run down again/s,
    );
    assert.equal(await p.isActive(), false, "not started behind its owner's back");
  } finally {
    await p.create();
  }
  await downRange(range, pools);
  assert.deepEqual(await inventoryOf(hold), before);
});
