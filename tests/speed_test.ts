// The lean paths of issue 11: one-call lifecycle ({ states: false }), blocking connections, opens
// that do not start the event loop, lazily bound symbols. In-process test driver only.
import assert from "node:assert/strict";
import { kInternals } from "../lib/connection.ts";
import { eventLoopRequested } from "../lib/event_loop.ts";
import { libvirt, runBlocking } from "../lib/ffi/library.ts";
import {
  Connection,
  defineDomain,
  destroyDomain,
  domainEvents,
  lookupDomain,
  NotFoundError,
  OperationInvalidError,
  resumeDomain,
  startDomain,
  suspendDomain,
  undefineDomain,
} from "../mod.ts";
import { countRpcs } from "../bench/_rpc_count.ts";
import { nextEvent, testDomainXml } from "./_helpers.ts";

// first in this file (its own isolate): nothing has asked for the loop yet
Deno.test("open with eventLoop: false starts no event loop; a later default open does", async () => {
  assert.equal(eventLoopRequested(), false);
  const lean = await Connection.open("test:///default", { eventLoop: false });
  assert.equal(eventLoopRequested(), false, "the opt-out open left the loop alone");
  assert.equal((await lean.hostname()).length > 0, true);
  await assert.rejects(
    () => Connection.open("test:///default", { eventLoop: false, keepAlive: { interval: 5, count: 5 } }),
    /keepalive and eventLoop: false/,
  );
  // events work on a process whose connections opted out: the stream starts the loop itself
  await using events = domainEvents("test:///default", { kinds: ["lifecycle"] });
  await events.ready();
  assert.equal(eventLoopRequested(), true);
  using dom = await lookupDomain(lean, "test");
  await suspendDomain(dom, { states: false });
  const event = await nextEvent(events[Symbol.asyncIterator]());
  assert.equal(event.domain?.name, "test");
  await resumeDomain(dom, { states: false });
  const normal = await Connection.open("test:///default");
  await normal.close();
  await lean.close();
});

Deno.test("lifecycle with states: false is one call and reports what success implies", async () => {
  await using conn = await Connection.open("test:///default");
  const name = `lean-${crypto.randomUUID().slice(0, 8)}`;
  using dom = await defineDomain(conn, testDomainXml(name));
  const counts = await countRpcs(async () => {
    const started = await startDomain(dom, { states: false });
    assert.deepEqual(
      [started.before, started.after, started.changed, started.inferred],
      ["shutoff", "running", true, true],
    );
    const paused = await suspendDomain(dom, { states: false });
    assert.deepEqual([paused.after, paused.afterReason], ["paused", "user"]);
    const resumed = await resumeDomain(dom, { states: false });
    assert.deepEqual([resumed.before, resumed.after], ["paused", "running"]);
    const destroyed = await destroyDomain(dom, { states: false });
    assert.deepEqual([destroyed.before, destroyed.after, destroyed.afterReason], [
      "nostate",
      "shutoff",
      "destroyed",
    ]);
  });
  assert.deepEqual(Object.fromEntries(counts), {
    virDomainCreateWithFlags: 1,
    virDomainSuspend: 1,
    virDomainResume: 1,
    virDomainDestroyFlags: 1,
  });
  assert.deepEqual((await dom.state()).state, "shutoff");
  // libvirt refuses an invalid transition itself: still an OperationInvalidError, named for the verb
  await assert.rejects(
    () => destroyDomain(dom, { states: false }),
    (e: unknown) =>
      e instanceof OperationInvalidError && /Cannot destroy domain "lean-/.test(e.message) &&
      /not running/.test(e.message),
  );
  // ifNeeded: the refusal is read back once and turns into a no-op
  const noop = await destroyDomain(dom, { states: false, ifNeeded: true });
  assert.deepEqual([noop.changed, noop.before, noop.inferred], [false, "shutoff", undefined]);
  await startDomain(dom, { states: false });
  const again = await startDomain(dom, { states: false, ifNeeded: true });
  assert.deepEqual([again.changed, again.after], [false, "running"]);
  await destroyDomain(dom, { states: false });
  const undefined_ = await undefineDomain(dom, { states: false });
  assert.equal(undefined_.inferred, true);
  await assert.rejects(() => lookupDomain(conn, name), NotFoundError);
});

Deno.test("a blocking connection gives the same results and the same error attribution", async () => {
  await using fast = await Connection.open("test:///default", { blocking: true });
  await using normal = await Connection.open("test:///default");
  using a = await lookupDomain(fast, "test");
  using b = await lookupDomain(normal, "test");
  const [ia, ib] = [await a.info(), await b.info()];
  assert.deepEqual({ ...ia, cpuTime: 0, cpuTimeNs: 0n }, { ...ib, cpuTime: 0, cpuTimeNs: 0n });
  assert.deepEqual(await a.state(), await b.state());
  const errorOf = async (c: Connection) => {
    try {
      await lookupDomain(c, "no-such-domain");
    } catch (error) {
      return error as NotFoundError;
    }
    throw new Error("lookup succeeded");
  };
  const [x, y] = [await errorOf(fast), await errorOf(normal)];
  assert.ok(x instanceof NotFoundError);
  assert.deepEqual([x.message, x.code, x.domain], [y.message, y.code, y.domain]);
  // inside runBlocking an ...Async twin has done its work when it returns (the out-buffer is filled)
  const out = new BigUint64Array(1);
  const handle = Deno.UnsafePointer.create(fast[kInternals].pointerValue());
  const pending = runBlocking(() =>
    libvirt().symbols.virConnectGetLibVersionAsync(handle, new Uint8Array(out.buffer))
  );
  assert.ok(out[0] > 0n, "the version was written before the promise was awaited");
  assert.equal(await pending, 0);
  // a blocking call still queues behind the connection's lock like any other
  const both = await Promise.all([a.state(), a.info(), a.state()]);
  assert.equal(both[0].state, "running");
});
