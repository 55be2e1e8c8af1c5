import assert from "node:assert/strict";
import {
  Connection,
  ConnectionLostError,
  ConnectionPool,
  ErrorCode,
  lookupDomain,
  lookupDomainSync,
  NotFoundError,
  PoolRegistry,
} from "../mod.ts";
import { kInternals } from "../lib/connection.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

const URI = "test:///default";

/** The libvirt connection behind a Connection object (each lease has its own view object of it). */
const pooled = (connection: Connection): object => connection[kInternals].identity;

Deno.test("ConnectionPool rejects sizes that cannot work", () => {
  assert.throws(() => new ConnectionPool(URI, { max: 0 }), /max must be an integer >= 1, got 0/);
  assert.throws(
    () => new ConnectionPool(URI, { min: 3, max: 2 }),
    /min must be an integer from 0 to max \(2\), got 3/,
  );
});

Deno.test("ConnectionPool waiters beyond max wait, and never get a connection another operation holds", async () => {
  await using pool = new ConnectionPool(URI, { max: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  assert.notEqual(pooled(a.connection), pooled(b.connection));
  let third: Connection | undefined;
  const waiting = pool.acquire().then((lease) => (third = lease.connection, lease));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(third, undefined, "the third caller waits while both connections are held");
  assert.equal(pool.stats().waiting, 1);
  assert.equal(pool.stats().inFlight, 2);
  const released = pooled(b.connection);
  b.release();
  const c = await waiting;
  assert.equal(pooled(c.connection), released, "the waiter gets the connection just released");
  assert.notEqual(pooled(c.connection), pooled(a.connection));
  assert.throws(() => b.connection, /Cannot use a released lease/);
  a.release();
  c.release();
  assert.equal(pool.stats().opened, 2);
});

Deno.test("ConnectionPool concurrent operations never share a connection", async () => {
  await using pool = new ConnectionPool(URI, { max: 3 });
  const held = new Set<object>();
  let overlaps = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 300 }, (_, i) =>
    pool.use(async (conn) => {
      if (held.has(pooled(conn))) overlaps++;
      held.add(pooled(conn));
      peak = Math.max(peak, held.size);
      using dom = await lookupDomain(conn, "test");
      await dom.info();
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
      held.delete(pooled(conn));
    })));
  assert.equal(overlaps, 0);
  assert.equal(peak, 3);
  const stats = pool.stats();
  assert.equal(stats.opened, 3);
  assert.equal(stats.operations, 300);
  assert.equal(stats.reused, 297);
  assert.ok(stats.latencyMs.p50 > 0 && stats.latencyMs.p95 >= stats.latencyMs.p50);
});

Deno.test("ConnectionPool waits time out with a TimeoutError naming the pool", async () => {
  await using pool = new ConnectionPool(URI, { max: 1, acquireTimeoutMs: 40 });
  using _held = await pool.acquire();
  const started = performance.now();
  await assert.rejects(() => pool.acquire(), (e: unknown) => {
    assert.ok(e instanceof DOMException);
    assert.equal(e.name, "TimeoutError");
    assert.match(
      e.message,
      /Timed out after 40 ms waiting for a connection to "test:\/\/\/default" \(all 1 in use/,
    );
    return true;
  });
  assert.ok(performance.now() - started >= 35);
  await assert.rejects(() => pool.acquire({ timeoutMs: 5 }), /Timed out after 5 ms/);
  assert.equal(pool.stats().waiting, 0, "timed-out waiters leave the queue");
});

Deno.test("ConnectionPool waits abort with the signal's reason", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  using _held = await pool.acquire();
  const controller = new AbortController();
  const reason = new Error("operator pressed Ctrl-C");
  const waiting = pool.acquire({ signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(() => waiting, (e) => e === reason);
  await assert.rejects(() => pool.use(() => 1, { signal: AbortSignal.abort("gone") }), (e) => e === "gone");
  assert.equal(pool.stats().waiting, 0);
});

Deno.test("ConnectionPool bounds the number of waiters", async () => {
  await using pool = new ConnectionPool(URI, { max: 1, maxWaiting: 2 });
  const held = await pool.acquire();
  const w1 = pool.acquire();
  const w2 = pool.acquire();
  await assert.rejects(() => pool.acquire(), /2 callers are already waiting \(maxWaiting\)/);
  held.release();
  (await w1).release();
  (await w2).release();
});

Deno.test("ConnectionPool.use releases on error and counts errors by code", async () => {
  await using pool = new ConnectionPool(URI, { max: 2 });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(() => pool.use((c) => lookupDomain(c, `missing-${i}`)), NotFoundError);
  }
  await assert.rejects(() =>
    pool.use(() => {
      throw new Error("user bug");
    }), /user bug/);
  const stats = pool.stats();
  assert.deepEqual(stats.errorsByCode, { NO_DOMAIN: 3, OTHER: 1 });
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.idle, 1);
});

Deno.test("ConnectionPool.close drains operations in flight, rejects waiters, and leaks nothing", async () => {
  const pool = new ConnectionPool(URI, { max: 1 });
  let finished = false;
  const entered = Promise.withResolvers<void>();
  const proceed = Promise.withResolvers<void>();
  const slow = pool.use(async (conn) => {
    entered.resolve();
    await proceed.promise; // holds the lease until the test has seen close() wait
    using dom = await lookupDomain(conn, "test");
    finished = true;
    return dom.name;
  });
  await entered.promise;
  const waiter = pool.acquire().then(() => "leased", (e: Error) => e.message);
  let closed = false;
  const closing = pool.close().then((report) => (closed = true, report));
  assert.match(await waiter, /the pool is closing/, "close rejects waiters at once");
  assert.equal(closed, false, "close waits while the operation holds its lease");
  proceed.resolve();
  const report = await closing;
  assert.ok(finished, "close waited for the operation in flight");
  assert.equal(await slow, "test");
  assert.deepEqual(report, { closed: 1, remainingReferences: 0, freedHandles: 0 });
  await assert.rejects(
    () => pool.acquire(),
    /Cannot lease a connection to "test:\/\/\/default": the pool is closed/,
  );
  assert.deepEqual(await pool.close(), report, "close is idempotent");
});

Deno.test("Lease: a connection kept after its lease was released is unusable to the old holder", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  const released = /the lease on this connection was released$/;
  const kept = await pool.use((c) => c);
  await assert.rejects(() => kept.hostname(), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.equal(
      e.message,
      'Cannot get the hostname of "test:///default": the lease on this connection was released',
    );
    return true;
  });
  await assert.rejects(() => lookupDomain(kept, "test"), /Cannot look up domain "test": the lease/);
  assert.throws(() => lookupDomainSync(kept, "test"), /Cannot look up domain "test": the lease/);
  await assert.rejects(() => kept.close(), /Cannot close the connection to "test:\/\/\/default": the lease/);
  assert.throws(() => kept.closeSync(), released);
  assert.equal(kept.closed, true, "to its old holder it reads as closed");
  assert.equal(kept.isAlive(), false);
  assert.equal(Deno.inspect(kept), 'Connection { uri: "test:///default", lease released }');

  // handles made in a lease outlive it (waitForAddress(domain, { pool }) relies on that): their calls
  // queue on the pool connection's gate like anyone's, but their connection cannot close it
  const dom = await pool.use((c) => lookupDomain(c, "test"));
  assert.equal((await dom.info()).state, "running");
  assert.notEqual(dom.connection, kept);
  await assert.rejects(() => dom.connection.close(), /it belongs to a ConnectionPool/);
  assert.throws(() => dom.connection.closeSync(), /it belongs to a ConnectionPool/);
  dom.free();

  // the same through acquire() + using
  let leased: Connection;
  {
    using lease = await pool.acquire();
    leased = lease.connection;
    assert.equal(await leased.hypervisorType(), "TEST");
  }
  await assert.rejects(() => leased.ping(), released);

  // the pool's connection itself is untouched: reused, never closed
  assert.equal(await pool.use((c) => c.hypervisorType()), "TEST");
  const stats = pool.stats();
  assert.deepEqual([stats.opened, stats.closed, stats.size], [1, 0, 1]);
});

Deno.test("Lease: closing a kept connection cannot break another caller's call in flight", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  const kept = await pool.use((c) => c);
  const outcome = await pool.use(async (conn) => {
    const inFlight = conn.hostname(); // holds the connection's lock until libvirt answers
    assert.ok(conn.busy);
    const closing = await kept.close().then(() => "closed", (e: Error) => e.message);
    const hostname = await inFlight;
    using dom = await lookupDomain(conn, "test"); // and the connection still works afterwards
    return { closing, hostname, alive: conn.isAlive(), name: dom.name };
  });
  assert.match(outcome.closing, /the lease on this connection was released/);
  assert.ok(outcome.hostname.length > 0);
  assert.equal(outcome.alive, true);
  assert.equal(outcome.name, "test");
  assert.equal(pool.stats().closed, 0);
});

Deno.test("Lease: a call the old holder queued before the release is refused once it gets its turn", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  let first!: Promise<string>;
  let queued!: Promise<string>;
  await pool.use((conn) => {
    first = conn.hostname(); // admitted: runs while the lease is still held
    queued = conn.hypervisorType(); // waits for the connection; the lease ends first
  });
  assert.ok((await first).length > 0);
  await assert.rejects(
    () => queued,
    /Cannot get the hypervisor type of .*: the lease on this connection was released/,
  );
  assert.equal(await pool.use((c) => c.hypervisorType()), "TEST");
});

Deno.test("Lease: close() inside the lease retires the connection instead of passing it on", async () => {
  await using pool = new ConnectionPool(URI, { max: 1 });
  const first = await pool.use((conn) => {
    void conn.close(); // not awaited: the pool must not hand the closing connection to anyone
    return pooled(conn);
  });
  const second = await pool.use(async (c) => (await c.hypervisorType(), pooled(c)));
  assert.notEqual(second, first);
  assert.equal(pool.stats().opened, 2);
});

Deno.test("ConnectionPool.close reports handles an operation leaked", async () => {
  const pool = new ConnectionPool(URI, { max: 1 });
  await pool.use((conn) => lookupDomain(conn, "test")); // returns the handle without freeing it
  const report = await pool.close();
  assert.equal(report.freedHandles, 1);
  assert.equal(report.remainingReferences, 0);
});

Deno.test("ConnectionPool.warm opens min connections, and a bad URI fails at once without retries", async () => {
  await using pool = new ConnectionPool(URI, { min: 2, max: 4 });
  await pool.warm();
  assert.equal(pool.stats().idle, 2);
  let attempts = 0;
  const bad = new ConnectionPool("test+unix:///default?socket=/nonexistent/sock", {
    min: 1,
    open: (uri, options) => (attempts++, Connection.open(uri, options)),
  });
  await assert.rejects(() => bad.warm(), /Failed to connect socket to '\/nonexistent\/sock'/);
  assert.equal(attempts, 1, "no reconnect loop for a URI that never worked");
  await bad.close();
});

Deno.test("ConnectionPool replaces a connection that died while idle (health check on checkout)", async () => {
  const opened: Connection[] = [];
  await using pool = new ConnectionPool(URI, {
    max: 1,
    open: async (uri, options) => {
      const connection = await Connection.open(uri, options);
      opened.push(connection);
      return connection;
    },
  });
  const first = await pool.use((c) => pooled(c));
  await opened[0].close(); // kill it behind the pool's back
  const second = await pool.use((c) => pooled(c));
  assert.notEqual(second, first);
  assert.equal(opened.length, 2);
  const stats = pool.stats();
  assert.equal(stats.healthCheckFailures, 1);
  assert.equal(stats.reconnects, 1);
  assert.equal(stats.opened, 2);
});

Deno.test("ConnectionPool pings connections idle longer than healthCheckIdleMs", async () => {
  let opens = 0;
  await using pool = new ConnectionPool(DAEMON_URI, {
    max: 1,
    healthCheckIdleMs: 0,
    open: (uri, options) => (opens++, Connection.open(uri, options)),
  });
  requireDaemon();
  await pool.use((c) => c.hypervisorType());
  await new Promise((r) => setTimeout(r, 2));
  await pool.use((c) => c.hypervisorType());
  assert.equal(opens, 1, "a healthy idle connection passes its ping and is reused");
  assert.equal(pool.stats().healthCheckFailures, 0);
});

Deno.test("ConnectionPool.use retries idempotent work after a lost connection, and flags the rest", async () => {
  // A connection that dies under the call: the pool must retry idempotent work on a fresh one and
  // refuse to guess for non-idempotent work.
  await using pool = new ConnectionPool(URI, { max: 1 });
  let attempts = 0;
  const result = await pool.use(async (conn) => {
    attempts++;
    if (attempts === 1) {
      await conn.close();
      return await conn.hostname(); // fails: connection closed
    }
    return "second try";
  }, { idempotent: true });
  assert.equal(result, "second try");
  assert.equal(pool.stats().retries, 1);
  assert.equal(pool.stats().reconnects, 1);

  await assert.rejects(
    () =>
      pool.use(async (conn) => {
        await conn.close();
        return await conn.hostname();
      }),
    (e: unknown) =>
      e instanceof ConnectionLostError && e.outcomeUnknown &&
      /may or may not have taken effect/.test(e.message),
  );
});

Deno.test("PoolRegistry keeps one pool per URI and closes them all", async () => {
  requireDaemon();
  const pools = new PoolRegistry({ max: 2 });
  const local = pools.get(URI);
  assert.equal(pools.get(URI), local);
  const daemon = pools.get(DAEMON_URI, { max: 3 });
  assert.equal(daemon.max, 3);
  assert.equal(local.max, 2);
  assert.deepEqual(pools.uris().sort(), [DAEMON_URI, URI].sort());
  const types = await Promise.all([local, daemon].map((p) => p.use((c) => c.hypervisorType())));
  assert.deepEqual(types, ["TEST", "TEST"]);
  assert.equal(pools.stats()[URI].operations, 1);
  const reports = await pools.closeAll();
  assert.deepEqual(reports[DAEMON_URI], { closed: 1, remainingReferences: 0, freedHandles: 0 });
  assert.throws(() => pools.get(URI), /the registry is closed/);
  void ErrorCode;
});

Deno.test("ConnectionPool never opens more than max, also while connections pass between callers", async () => {
  await using pool = new ConnectionPool(URI, { max: 2, healthCheckIdleMs: 0 });
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let i = 0; i < 50; i++) await pool.use((c) => c.libVersion());
  }));
  assert.equal(pool.stats().opened, 2);
  // a connection handed to a waiter is not free for a third caller meanwhile
  const single = new ConnectionPool(URI, { max: 1 });
  const a = await single.acquire();
  const waiting = single.acquire();
  a.release();
  await assert.rejects(() => single.acquire({ timeoutMs: 30 }), /Timed out after 30 ms/);
  (await waiting).release();
  assert.equal(single.stats().opened, 1);
  await single.close();
});

Deno.test("ConnectionPool.close during a health check hands out no lease from the closed pool", async () => {
  requireDaemon();
  const pool = new ConnectionPool(DAEMON_URI, { max: 1, healthCheckIdleMs: 0 });
  await pool.use((c) => c.hypervisorType());
  const leasing = pool.acquire(); // pings the idle connection first
  const report = await pool.close();
  await assert.rejects(() => leasing, /the pool is (closed|draining)/);
  assert.equal(report.closed, 1, "the connection under its health check is closed and counted");
});

Deno.test("ConnectionPool.drain: concurrent drain() and close() all settle", async () => {
  const pool = new ConnectionPool(URI, { max: 1 });
  const lease = await pool.acquire();
  const draining = pool.drain();
  const closing = pool.close();
  lease.release();
  await draining;
  assert.equal((await closing).remainingReferences, 0);
  await pool.drain();
});

Deno.test("ConnectionPool.warm on a closed pool refuses instead of leaking connections", async () => {
  const pool = new ConnectionPool(URI, { min: 2, max: 2 });
  await pool.close();
  await assert.rejects(() => pool.warm(), /the pool is closed/);
  assert.equal(pool.stats().size, 0);
});

Deno.test("ConnectionPool: an acquire aborted while its connection opens rejects, and the connection is the next caller's", async () => {
  let go!: () => void;
  const opening = new Promise<void>((resolve) => go = resolve);
  let opened!: () => void;
  const openedNow = new Promise<void>((resolve) => opened = resolve);
  let opens = 0;
  await using pool = new ConnectionPool(URI, {
    max: 1,
    open: async (uri, options) => {
      opens++;
      await opening;
      const connection = await Connection.open(uri, options);
      opened();
      return connection;
    },
  });
  const controller = new AbortController();
  const aborted = pool.acquire({ signal: controller.signal });
  const outcome = aborted.then(() => "lease", (e) => e);
  controller.abort(new Error("not needed any more"));
  go();
  await openedNow;
  // from here on only microtasks run: the connection is never seen in flight on its way back
  for (let tick = 0; tick < 20 && pool.stats().opening > 0; tick++) await Promise.resolve();
  assert.equal(pool.stats().opening, 0);
  assert.equal(pool.stats().inFlight, 0); // without the fix: leased for a caller who is gone
  assert.match(String(await outcome), /not needed any more/); // without the fix: a lease nobody holds
  assert.equal(pool.stats().inFlight, 0);
  assert.equal(pool.stats().idle, 1);
  using lease = await pool.acquire();
  assert.equal(typeof (await lease.connection.hostname()), "string");
  assert.equal(opens, 1);
});

Deno.test("ConnectionPool.warm: connections it opens go to callers already queued, first come first served, before later callers", async () => {
  const N = 2, k = 3;
  let opened!: () => void;
  const gate = new Promise<void>((resolve) => opened = resolve);
  // each open waits for the gate, so that callers queue while warm() opens every slot
  const pool = new ConnectionPool(URI, {
    min: N,
    max: N,
    acquireTimeoutMs: 2_000,
    open: (uri, options) => gate.then(() => Connection.open(uri, options)),
  });
  try {
    const order: string[] = [];
    const warming = pool.warm();
    const queued = Array.from({ length: N + k }, (_, i) =>
      pool.use(async () => {
        order.push(`queued ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }));
    assert.equal(pool.stats().waiting, N + k, "every caller waits: warm() holds all N slots");
    opened();
    await warming;
    // a caller arriving once warm() is done comes after those who waited
    const late = pool.use(() => void order.push("late"));
    await Promise.all([...queued, late]);
    assert.deepEqual(order, [...Array.from({ length: N + k }, (_, i) => `queued ${i}`), "late"]);
    assert.equal(pool.stats().waiting, 0);
  } finally {
    await pool.close();
  }
});
