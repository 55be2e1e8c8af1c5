// Lanes (lib/range/_libvirt.ts): leases held across a phase's steps, on the in-process test driver.
// A handle looked up through `cached` is looked up once per lease; steps never wait forever when the
// pool is short of connections that others hold; end() returns every lease, even one whose step
// finished late.
// the class modules fill lib/objects/_types.ts's ObjectClasses registry (declaration merging): without
// them in the program the object types are missing when this file is checked alone
import type {} from "../mod.ts";
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import { ConnectionPool, type Lease } from "../lib/pool.ts";
import { Lanes } from "../lib/range/_lanes.ts";
import { lookupStoragePool } from "../lib/storage.ts";

const URI = "test:///default";

Deno.test("lanes: a cached handle is looked up once per lease, and end() returns every lease", async () => {
  await using pool = new ConnectionPool(URI, { max: 3 });
  const lanes = new Lanes(8);
  let lookups = 0;
  const seen = new Set<string>();
  try {
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
  } finally {
    await lanes.end(); // a failed assertion must not leave leases that the pool's close waits for
  }
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

interface Gate<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (e: unknown) => void;
}

/** A promise with its resolve and reject, to drive a race step by step. */
function gate<T = void>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => (resolve = res, reject = rej));
  return { promise, resolve, reject };
}

Deno.test("lanes: a step whose lane came back before its acquire holds no lease when that connection opens late", async () => {
  // the opens wait for the test: the first step's lane comes back to the second step while the
  // second step's own open is still running, so the second step aborts that acquire
  const opens: { go: Gate; opened: Gate }[] = [];
  const acquires: Promise<"lease" | "rejected">[] = [];
  class WatchedPool extends ConnectionPool {
    override acquire(options?: Parameters<ConnectionPool["acquire"]>[0]): Promise<Lease> {
      const lease = super.acquire(options);
      acquires.push(lease.then(() => "lease", () => "rejected"));
      return lease;
    }
  }
  await using pool = new WatchedPool(URI, {
    max: 2,
    open: async (uri, options) => {
      const o = { go: gate(), opened: gate() };
      opens.push(o);
      await o.go.promise;
      const connection = await Connection.open(uri, options);
      o.opened.resolve();
      return connection;
    },
  });
  const lanes = new Lanes(8);
  try {
    const steps = [0, 1].map((i) => lanes.use(pool, (conn) => conn.hostname().then(() => i)));
    assert.equal(opens.length, 2); // both steps asked the pool (under the cap of 2)
    opens[0].go.resolve();
    assert.deepEqual(await Promise.all(steps), [0, 1]); // the second ran on the first one's lane
    assert.equal(pool.stats().inFlight, 1);
    opens[1].go.resolve(); // the aborted acquire's connection opens now
    await opens[1].opened.promise;
    // the acquire rejects (its caller gave up) and leaves the connection idle; without the fix it
    // resolved, and the connection stayed leased (inFlight 2) until Lanes got round to releasing it
    assert.equal(await acquires[1], "rejected");
    assert.equal(pool.stats().inFlight, 1);
    assert.equal(pool.stats().idle, 1);
  } finally {
    await lanes.end();
  }
  assert.equal(pool.stats().inFlight, 0);
});

/** A stand-in for a ConnectionPool whose acquires the test answers one by one. */
function scriptedPool(max: number) {
  const asked: { signal: AbortSignal | undefined; answer: Gate<Lease> }[] = [];
  let released = 0;
  const pool = {
    max,
    acquire(options: { signal?: AbortSignal } = {}): Promise<Lease> {
      const answer = gate<Lease>();
      asked.push({ signal: options.signal, answer });
      return answer.promise;
    },
  };
  const lease = (): Lease =>
    ({
      connection: { isAlive: () => true },
      release: () => void released++,
      discard: () => void released++,
    }) as unknown as Lease;
  return { pool: pool as unknown as ConnectionPool, asked, lease, released: () => released };
}

/** Lets every queued microtask (and the ones they queue) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("lanes: when the lanes' own acquires fail, a step waiting at the cap asks the pool itself", async () => {
  const fake = scriptedPool(1);
  const lanes = new Lanes(8);
  const first = lanes.use(fake.pool, () => Promise.resolve("first"));
  const second = lanes.use(fake.pool, () => Promise.resolve("second")); // at the cap (1): waits
  assert.equal(fake.asked.length, 1);
  fake.asked[0].answer.reject(new DOMException("timed out", "TimeoutError"));
  await assert.rejects(first, /timed out/);
  await settle();
  // without the fix the second step waited for a lane that nobody held, for ever
  assert.equal(fake.asked.length, 2);
  fake.asked[1].answer.resolve(fake.lease());
  assert.equal(await second, "second");
  await lanes.end();
  assert.equal(fake.released(), 1);
});

Deno.test("lanes: a lane handed to a step whose acquire then fails is passed on, not lost", async () => {
  const fake = scriptedPool(2);
  const lanes = new Lanes(8);
  const held = gate();
  const first = lanes.use(fake.pool, () => held.promise.then(() => "first"));
  const second = lanes.use(fake.pool, () => Promise.resolve("second"));
  const third = lanes.use(fake.pool, () => Promise.resolve("third")); // at the cap (2): waits
  assert.equal(fake.asked.length, 2);
  fake.asked[0].answer.resolve(fake.lease());
  await settle(); // the first step runs, on the first lease
  // the second step's acquire fails in the same turn as the first step gives its lane back (to the
  // second step, first in the queue)
  held.resolve();
  fake.asked[1].answer.reject(new DOMException("timed out", "TimeoutError"));
  assert.equal(await first, "first");
  await assert.rejects(second, /timed out/);
  assert.equal(await third, "third"); // on the first lane, passed on: without the fix it waited for ever
  await lanes.end();
  assert.equal(fake.released(), 1);
});

Deno.test("lanes: steps still waiting when end() is called run on leases of their own and return them", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  const lanes = new Lanes(1);
  const held = gate();
  const first = lanes.use(pool, () => held.promise.then(() => "first"));
  const second = lanes.use(pool, (conn) => conn.hostname().then(() => "second")); // waits for the lane
  await settle();
  const ended = lanes.end();
  held.resolve();
  assert.deepEqual(await Promise.all([first, second]), ["first", "second"]);
  await ended;
  assert.equal(pool.stats().inFlight, 0);
});
