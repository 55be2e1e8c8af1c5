// Lanes (lib/range/_libvirt.ts): leases held across a phase's steps, on the in-process test driver.
// A handle looked up through `cached` is looked up once per lease; steps never wait forever when the
// pool is short of connections that others hold; end() returns every lease, even one whose step
// finished late.
import assert from "node:assert/strict";
import { ConnectionPool } from "../lib/pool.ts";
import { Lanes } from "../lib/range/_libvirt.ts";
import { lookupStoragePool } from "../lib/storage.ts";

const URI = "test:///default";

Deno.test("lanes: a cached handle is looked up once per lease, and end() returns every lease", async () => {
  await using pool = new ConnectionPool(URI, { max: 3 });
  const lanes = new Lanes(8);
  let lookups = 0;
  const seen = new Set<string>();
  await Promise.all(Array.from({ length: 30 }, () =>
    lanes.use(pool, async (conn, cached) => {
      const p = await cached("pool", () => {
        lookups++;
        return lookupStoragePool(conn, "default-pool");
      });
      seen.add(p.uuid);
      await Promise.resolve();
    })));
  assert.ok(lookups >= 1 && lookups <= 3, `${lookups} lookups for 30 steps over at most 3 leases`);
  assert.equal(seen.size, 1);
  assert.equal(pool.stats().inFlight, lookups); // one lease per lane, still held
  await lanes.end();
  assert.equal(pool.stats().inFlight, 0);
  await assert.rejects(lanes.use(pool, () => Promise.resolve()), TypeError);
});

Deno.test("lanes: with the pool's other connections held elsewhere, steps share the lease they got", async () => {
  await using pool = new ConnectionPool(URI, { max: 2, acquireTimeoutMs: 60_000 });
  const outsider = await pool.acquire(); // leaves one connection for the lanes, whose cap is 2
  try {
    const lanes = new Lanes(8);
    const done: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) =>
      lanes.use(pool, async (conn) => {
        await conn.hostname();
        done.push(i);
      })));
    assert.equal(done.length, 10);
    await lanes.end();
    assert.equal(pool.stats().inFlight, 1); // the outsider's
  } finally {
    outsider.release();
  }
});

Deno.test("lanes: a failing step gives its lease back for the next step; the error reaches the caller", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  const lanes = new Lanes(4);
  await assert.rejects(lanes.use(pool, () => Promise.reject(new Error("step failed"))), /step failed/);
  assert.equal(await lanes.use(pool, async (conn) => typeof (await conn.hostname())), "string");
  await lanes.end();
  assert.equal(pool.stats().inFlight, 0);
});
