// The event-loop start policy (issue 11): pools open local URIs without the loop ("auto"), remote
// transports and an explicit keepalive with it, a default Connection.open with it; a connection
// without the loop makes blocking streams and refuses nonblocking ones and consoles, naming the fix.
// The tests run in order in this file's own isolate: nothing has asked for the loop before the first.
import assert from "node:assert/strict";
import { eventLoopRequested } from "../lib/event_loop.ts";
import { Connection, ConnectionPool, lookupDomain, newStream, PoolRegistry } from "../mod.ts";

Deno.test("a pool on a local URI opens without the event loop; its streams are blocking", async () => {
  assert.equal(eventLoopRequested(), false);
  await using pool = new ConnectionPool("test:///default", { max: 2 });
  await pool.use(async (conn) => {
    assert.equal(conn.eventLoop, false);
    await using stream = newStream(conn);
    assert.equal(stream.nonblocking, false);
    assert.throws(
      () => newStream(conn, { nonblocking: true }),
      (e: unknown) =>
        e instanceof TypeError && /opened without the event loop/.test(e.message) &&
        /\{ eventLoop: true \}/.test(e.message),
    );
    using dom = await lookupDomain(conn, "test");
    // a console needs the loop: refused before any call, with the fix named
    await assert.rejects(() => dom.openConsole(), /opened without the event loop/);
    assert.equal(pool.stats().onEventLoop, 0, "stats: no connection on the loop");
  });
  assert.equal(eventLoopRequested(), false, "the pool started no loop");
});

Deno.test("auto: a +unix URI is local (no loop), whether or not it opens", async () => {
  await assert.rejects(() =>
    Connection.open("test+unix:///default?socket=/nonexistent/s4-policy-sock", { eventLoop: "auto" })
  );
  assert.equal(eventLoopRequested(), false);
  const registry = new PoolRegistry();
  await registry.get("test:///default").use((conn) => Promise.resolve(assert.equal(conn.eventLoop, false)));
  await registry.closeAll();
  assert.equal(eventLoopRequested(), false);
});

Deno.test("auto: a remote transport starts the loop (keepalive detects a dead peer)", async () => {
  // nothing listens on port 1 of loopback: the open fails, after the policy started the loop
  await assert.rejects(() => Connection.open("test+tcp://127.0.0.1:1/default", { eventLoop: "auto" }));
  assert.equal(eventLoopRequested(), true);
});

Deno.test("once the loop runs, every new connection is attached: pools' too, and streams are nonblocking", async () => {
  await using conn = await Connection.open("test:///default");
  assert.equal(conn.eventLoop, true);
  await using pool = new ConnectionPool("test:///default", { max: 1 });
  await pool.use(async (c) => {
    assert.equal(c.eventLoop, true);
    assert.equal(
      pool.stats().onEventLoop,
      1,
      "stats: the pool's connection rides on the loop another open started",
    );
    await using stream = newStream(c);
    assert.equal(stream.nonblocking, true);
  });
  await using opted = await Connection.open("test:///default", { eventLoop: false });
  assert.equal(opted.eventLoop, true, "an opted-out open still uses the running loop");
});
