// down's network phase destroys and undefines without reading the network's state first: a network
// that is not running (up failed before it started, or someone stopped it) is refused by the destroy,
// confirmed stopped, and undefined. On the in-process test driver.
import assert from "node:assert/strict";
import { Connection, lookupNetwork, PoolRegistry } from "../mod.ts";
import { validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { upRange } from "../lib/range/up.ts";
import { inventoryOf } from "./_range_owner.ts";

const URI = "test:///default";

Deno.test("down: the range's network, stopped after up, is undefined; a running one is destroyed and undefined", async () => {
  await using hold = await Connection.open(URI); // test:///default lives while a connection does
  await using pools = new PoolRegistry({ max: 4 });
  const name = `dn${crypto.randomUUID().slice(0, 8)}`;
  const range = validateRange({
    name,
    hosts: [{ id: "local", uri: URI }],
    storage: { pool: "default-pool" },
    networks: [
      { name: `${name}-a`, mode: "isolated", subnet: "10.73.2.0/24" },
      { name: `${name}-b`, mode: "isolated", subnet: "10.73.3.0/24" },
    ],
    guests: [{ id: "pc", memory: 64, nics: [{ network: `${name}-a` }, { network: `${name}-b` }] }],
  });
  const before = await inventoryOf(hold);
  await upRange(range, pools, { waitForAddresses: false });
  {
    using stopped = await lookupNetwork(hold, `${name}-b`);
    await stopped.destroy(); // an operator's net-destroy after up
  }
  const down = await downRange(range, pools);
  for (const network of [`${name}-a`, `${name}-b`]) {
    assert.ok(down.removed.includes(`network "${network}" on local`), down.removed.join("; "));
  }
  assert.deepEqual(await inventoryOf(hold), before);
});
