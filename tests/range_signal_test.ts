// `signal` on the range operations (test:///default, in-process): an abort stops the operation before
// its next step or inside its address wait, the error lists what was made, and `down` removes exactly
// that, leaving the host as it was.
import assert from "node:assert/strict";
import { listAllDomains, listAllNetworks, PoolRegistry } from "../mod.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { RangeOperationError } from "../lib/range/types.ts";
import { upRange } from "../lib/range/up.ts";

const URI = "test:///default";

function describe(): Range {
  const name = `s${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri: URI }],
    storage: { pool: "default-pool" },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.72.2.0/24",
      dhcp: { start: "10.72.2.100", end: "10.72.2.200" },
    }],
    guests: [{ id: "pc", memory: 64, count: 4, nics: [{ network: `${name}-lan` }] }],
  });
}

async function namesOf(range: Range, pools: PoolRegistry): Promise<string[]> {
  return await pools.get(URI).use(async (conn) => {
    const names: string[] = [];
    for (const d of await listAllDomains(conn)) {
      if (d.name.startsWith(`${range.name}-`)) names.push(`domain ${d.name}`);
      d.free();
    }
    for (const n of await listAllNetworks(conn)) {
      if (n.name.startsWith(`${range.name}-`)) names.push(`network ${n.name}`);
      n.free();
    }
    return names.sort();
  }, { idempotent: true });
}

async function withHost(fn: (pools: PoolRegistry) => Promise<void>): Promise<void> {
  const pools = new PoolRegistry({ max: 4 });
  const hold = await pools.get(URI).acquire(); // test:///default lives while a connection is open
  try {
    await fn(pools);
  } finally {
    hold.release();
    await pools.closeAll();
  }
}

Deno.test("range signal: an already aborted signal creates nothing", async () => {
  await withHost(async (pools) => {
    const range = describe();
    const reason = new Error("operator pressed Ctrl-C");
    const error = await upRange(range, pools, { signal: AbortSignal.abort(reason) }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof RangeOperationError, String(error));
    assert.deepEqual(error.done, []);
    assert.ok(error.errors.includes(reason), "the signal's reason is among the errors");
    assert.deepEqual(await namesOf(range, pools), []);
  });
});

Deno.test("range signal: an abort half-way stops before the next step; down removes what was made", async () => {
  await withHost(async (pools) => {
    const range = describe();
    const controller = new AbortController();
    let steps = 0;
    const error = await upRange(range, pools, {
      concurrency: 1,
      signal: controller.signal,
      // abort as the third step begins: what ran before it is made, nothing after it starts
      beforeAction: () => {
        if (++steps === 3) controller.abort(new Error("stop"));
      },
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof RangeOperationError, String(error));
    assert.ok(error.done.length >= 1 && error.done.length < 2 + 4 * 2, error.done.join("\n"));
    assert.ok(error.notDone.length > 0);
    assert.ok(steps <= 4, `steps kept starting after the abort: ${steps}`);
    await downRange(range, pools);
    assert.deepEqual(await namesOf(range, pools), []);
  });
});

Deno.test("range signal: an abort ends the address wait with the signal's reason", async () => {
  await withHost(async (pools) => {
    const range = describe();
    const controller = new AbortController();
    const reason = new Error("give up waiting");
    const error = await upRange(range, pools, {
      signal: controller.signal,
      // no address on the test driver reaches confidence 1.0: without the abort this waits an hour
      minConfidence: 1,
      addressTimeoutMs: 3_600_000,
      onProgress: (e) => {
        if (e.phase === "address" && e.status === "start") controller.abort(reason);
      },
    }).then(() => undefined, (e) => e);
    assert.ok(error instanceof RangeOperationError, String(error));
    assert.ok(error.errors.some((e) => e === reason), error.errors.map(String).join("\n"));
    // the guests were made and started before the wait: down removes them
    assert.ok((await namesOf(range, pools)).length > 0);
    await downRange(range, pools);
    assert.deepEqual(await namesOf(range, pools), []);
  });
});
