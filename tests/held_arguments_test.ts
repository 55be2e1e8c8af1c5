// Objects passed as arguments to another object's call (a clone's source volume, a console's stream, a
// migration's destination connection) are held until that call has returned: a free() or close() of
// them meanwhile, while C runs on Deno's thread pool, cannot free what C reads (lib/ffi/marshal.ts
// `holding`, the `kHold` of lib/_handle.ts, lib/objects/stream.ts and the connection's internals).
import assert from "node:assert/strict";
import {
  Connection,
  ConnectionPool,
  type Domain,
  lookupDomain,
  lookupStoragePool,
  newStream,
  qemuMonitorEvents,
  StorageVolume,
} from "../mod.ts";
import { kHold } from "../lib/_handle.ts";
import { kInternals } from "../lib/_internals.ts";
import { type HeldArgument, holding } from "../lib/ffi/marshal.ts";
import { libvirt } from "../lib/ffi/library.ts";
import { wrapHandle } from "../lib/objects/_registry.ts";

/** A fake object argument that records its holds and releases. */
function fakeArgument(log: string[], name: string, refuse = false) {
  return {
    [kHold](verb: string): HeldArgument {
      if (refuse) throw new TypeError(`Cannot ${verb.replace("{}", `freed ${name}`)}`);
      log.push(`hold ${name} (${verb})`);
      return { pointer: Deno.UnsafePointer.create(0x1000n)!, release: () => log.push(`release ${name}`) };
    },
  };
}

Deno.test("holding: a nonblocking call's arguments are released when its promise settles, not before", async () => {
  const log: string[] = [];
  let finish!: (value: number) => void;
  const result = holding(
    "virX",
    [[fakeArgument(log, "a"), "a", kHold], [null, "b", kHold, true]],
    (pointers) => {
      log.push(`call ${pointers.map((p) => p === null ? "null" : "ptr").join(",")}`);
      return new Promise<number>((resolve) => finish = resolve);
    },
  );
  await Promise.resolve();
  assert.deepEqual(
    log,
    ["hold a (pass {} as argument a of virX)", "call ptr,null"],
    "still held while C runs",
  );
  finish(7);
  assert.equal(await result, 7);
  assert.deepEqual(log.at(-1), "release a");

  const failed: string[] = [];
  const rejected = holding(
    "virY",
    [[fakeArgument(failed, "a"), "a", kHold]],
    () => Promise.reject(new Error("boom")),
  );
  await assert.rejects(rejected, /^Error: boom$/);
  assert.deepEqual(failed, ["hold a (pass {} as argument a of virY)", "release a"]);
});

Deno.test("holding: nothing stays held when a later hold or the call itself throws", () => {
  const log: string[] = [];
  assert.throws(
    () =>
      holding(
        "virX",
        [[fakeArgument(log, "a"), "a", kHold], [fakeArgument(log, "b", true), "b", kHold]],
        () => assert.fail("not called"),
      ),
    /^TypeError: Cannot pass freed b as argument b of virX$/,
  );
  assert.deepEqual(log, ["hold a (pass {} as argument a of virX)", "release a"]);
  log.length = 0;
  assert.throws(() =>
    holding("virX", [[fakeArgument(log, "a"), "a", kHold]], () => {
      throw new RangeError("sync");
    }), /^RangeError: sync$/);
  assert.deepEqual(log, ["hold a (pass {} as argument a of virX)", "release a"]);
  log.length = 0;
  assert.equal(holding("virX", [[fakeArgument(log, "a"), "a", kHold]], () => 3), 3);
  assert.deepEqual(
    log,
    ["hold a (pass {} as argument a of virX)", "release a"],
    "a synchronous call: released at once",
  );
  assert.throws(
    () => holding("virDomainMigrate3", [[{}, "dconn", kInternals]], () => 0),
    /^TypeError: Cannot call virDomainMigrate3: argument dconn of virDomainMigrate3 must be a libvirt object handle, got an object$/,
  );
});

// The holds themselves, made observable through libvirt's reference counts: a connection's close
// reports the references still open on it, and every held object keeps one.

Deno.test("held arguments: a held handle, stream or connection outlives its free()/close() until released", async () => {
  // a handle: counted in flight, so its free() defers libvirt's free; the connection sees its reference
  // (virConnectClose says only whether references remain, not how many: one object per connection)
  const conn = await Connection.open("test:///default");
  const dom = await lookupDomain(conn, "test");
  const heldDomain = dom[kHold]("pass to a test");
  dom.free();
  assert.ok(dom.freed);
  assert.deepEqual(await conn.close(), { remainingReferences: 1, freedHandles: 0 }, "the held domain");
  heldDomain.release();
  heldDomain.release(); // idempotent: a second release frees nothing twice
  // a stream: counted, so its free() (abort and libvirt's free) waits for the release
  const streamConn = await Connection.open("test:///default");
  const stream = newStream(streamConn);
  const heldStream = stream[kHold]("pass to a test");
  stream.free();
  assert.deepEqual(await streamConn.close(), { remainingReferences: 1, freedHandles: 0 }, "the held stream");
  heldStream.release();
  heldStream.release();
  // without a hold the same frees leave nothing
  const plain = await Connection.open("test:///default");
  (await lookupDomain(plain, "test")).free();
  newStream(plain).free();
  assert.deepEqual(await plain.close(), { remainingReferences: 0, freedHandles: 0 });

  // a connection: a libvirt reference of its own, and its close waits for the release (the call that
  // holds it) so that nothing remains when libvirt closes it
  const dconn = await Connection.open("test:///default");
  const heldConnection = dconn[kInternals].hold("pass to a test");
  assert.throws(
    () => dconn.closeSync(),
    /^TypeError: Cannot close the connection to "test:\/\/\/default" synchronously: a call on another connection holds it as an argument \(a migration's destination\); use close\(\), which waits for that call$/,
  );
  let closed = false;
  const closing = dconn.close().then((report) => {
    closed = true;
    return report;
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(closed, false, "the close waits for the call that holds the connection");
  assert.equal(dconn.isAlive(), false, "but reads as not alive at once");
  assert.throws(
    () => dconn[kInternals].hold("pass {} as argument dconn of virDomainMigrate3"),
    /^TypeError: Cannot pass a closing Connection to "test:\/\/\/default" as argument dconn of virDomainMigrate3: close\(\) was called on it; pass an open Connection$/,
  );
  heldConnection.release();
  assert.deepEqual(await closing, { remainingReferences: 0, freedHandles: 0 });
  assert.throws(
    () => dconn[kInternals].hold("pass {} as argument dconn of virDomainMigrate3"),
    /^TypeError: Cannot pass a closed Connection to "test:\/\/\/default" as argument dconn of virDomainMigrate3: pass an open Connection$/,
  );

  // refused once freed, before anything is held
  await using again = await Connection.open("test:///default");
  const freed = await lookupDomain(again, "test");
  freed.free();
  assert.throws(
    () => freed[kHold]("pass {} as argument dom of virX"),
    /^TypeError: Cannot pass freed Domain "test" as argument dom of virX$/,
  );
  const closedStream = newStream(again);
  closedStream.free();
  assert.throws(
    () => closedStream[kHold]("pass {} as argument st of virX"),
    /^TypeError: Cannot pass freed Stream \(stream\) as argument st of virX$/,
  );
});

/** A private test-driver node file: one pool, "images", holding one volume, "base.img" (remove it after). */
async function imagesNode(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "deno_libvirt_held_", suffix: ".xml" });
  await Deno.writeTextFile(
    path,
    `<node><pool type='dir'><name>images</name><target><path>/images</path></target>
<volume type='file'><name>base.img</name><capacity unit='MiB'>64</capacity>
<target><path>/images/base.img</path></target></volume></pool></node>`,
  );
  return path;
}

Deno.test("held arguments: a clone's source volume freed while the clone runs, 400 rounds, never pulled away", async () => {
  const path = await imagesNode();
  try {
    const conn = await Connection.open(`test://${path}`);
    const pool = await lookupStoragePool(conn, "images");
    for (let i = 0; i < 400; i++) {
      const source = await pool.storageVolLookupByName("base.img");
      const clone = pool.storageVolCreateXmlFrom(
        `<volume><name>clone${i}.img</name><capacity unit='MiB'>64</capacity></volume>`,
        source,
      );
      for (let k = 0; k < i % 5; k++) await Promise.resolve();
      // the connection is idle, so the gate admits the clone at once: this free lands while C runs (or
      // after it returned); a free while the call is still queued: the test below
      source.free();
      const outcome = await clone.catch((error: Error) => error);
      if (outcome instanceof Error) {
        // only a free before the gate admitted the call may refuse it, in the argument's words
        assert.match(
          outcome.message,
          /^Cannot pass freed StorageVolume "base\.img" as argument clonevol of virStorageVolCreateXMLFrom$/,
        );
      } else {
        assert.ok(outcome instanceof StorageVolume);
        assert.equal(outcome.name, `clone${i}.img`);
        await outcome.delete();
        outcome.free();
      }
    }
    pool.free();
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 }, "no hold left behind");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("held arguments: a connection's hold released while its owner is open leaves no reference behind at once", async () => {
  // migrate3 returns, then the destination closes: the release must not still be dropping its
  // reference on Deno's thread pool (the close would report it as remaining, and the last reference,
  // a remote close, would go on in the background)
  for (let i = 0; i < 50; i++) {
    const dconn = await Connection.open("test:///default");
    dconn[kInternals].hold("pass to a test").release();
    assert.deepEqual(dconn.closeSync(), { remainingReferences: 0, freedHandles: 0 }, `round ${i}`);
  }
});

Deno.test("held arguments: a destination closed while a migration holds it frees the migrated domain's handle before libvirt's close", async () => {
  // virDomainMigrate3's shape (lib/objects/_generated/domain.ts): a call on the source's gate holds the
  // destination and returns a domain of the destination, wrapped as its handle. Closing the destination
  // meanwhile used to report the held reference as remaining, and the handle made afterwards belonged to
  // a closed connection that never freed it (nor did anything else: a reference on it for good).
  await using source = await Connection.open("test:///default");
  const destination = await Connection.open("test:///default");
  let finish!: () => void;
  const returned = new Promise<void>((resolve) => finish = resolve);
  const migrated = source[kInternals].call(
    () => "call virDomainMigrate3 on a test",
    () =>
      holding("virDomainMigrate3", [[destination, "dconn", kInternals]], async (held) => {
        await returned;
        // what the migration returns: a new domain pointer of the destination (a reference on it)
        return libvirt().symbols.virDomainLookupByName(held[0], new TextEncoder().encode("test\0"));
      }),
    (pointer) => pointer === null,
    (pointer) => wrapHandle<Domain>("virDomainPtr", destination, pointer!),
  );
  const closing = destination.close();
  await new Promise((resolve) => setTimeout(resolve, 10));
  finish();
  const domain = await migrated;
  assert.deepEqual(await closing, { remainingReferences: 0, freedHandles: 1 });
  assert.equal(domain.freed, true, "freed by the close, as every handle of the connection");
});

Deno.test("held arguments: a screenshot's stream freed while the call runs, 400 rounds, never pulled away", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const openFiles = () => [...Deno.readDirSync("/proc/self/fd")].length;
  const before = openFiles();
  for (let i = 0; i < 400; i++) {
    const stream = newStream(conn, { nonblocking: false });
    const shot = dom.screenshot(stream);
    for (let k = 0; k < i % 5; k++) await Promise.resolve();
    stream.free(); // while C runs: held, so libvirt's abort and free wait until the call returned
    assert.equal(await shot, "image/png", `round ${i}`);
  }
  // an abort run while C was still attaching the stream did nothing, and the file the screenshot
  // streams from stayed open (about one round in four); a few descriptors of the runtime's own may come
  assert.ok(openFiles() - before < 10, `${openFiles() - before} more file descriptors open`);
});

Deno.test("held arguments: an argument freed while its call is queued is refused, naming it", async () => {
  const path = await imagesNode();
  try {
    await using conn = await Connection.open(`test://${path}`);
    using pool = await lookupStoragePool(conn, "images");
    const source = await pool.storageVolLookupByName("base.img");
    const ahead = pool.refresh(); // holds the connection: the clone queues behind it
    const clone = pool.storageVolCreateXmlFrom(
      `<volume><name>queued.img</name><capacity unit='MiB'>64</capacity></volume>`,
      source,
    );
    source.free();
    await ahead;
    await assert.rejects(
      clone,
      /^TypeError: Cannot pass freed StorageVolume "base\.img" as argument clonevol of virStorageVolCreateXMLFrom$/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("held arguments: a pool lease's connection is held like its owner's, and refused once the lease is released", async () => {
  await using pool = new ConnectionPool("test:///default", { max: 1 });
  const lease = await pool.acquire();
  const view = lease.connection;
  const held = view[kInternals].hold("pass {} as argument dconn of virDomainMigrate3");
  lease.release(); // the next holder gets the same libvirt connection: the hold is a reference of its own
  held.release();
  assert.throws(
    () => view[kInternals].hold("pass {} as argument dconn of virDomainMigrate3"),
    /^TypeError: Cannot pass the connection to "test:\/\/\/default" as argument dconn of virDomainMigrate3: the lease on this connection was released$/,
  );
  const report = await pool.close();
  assert.equal(report.remainingReferences, 0, "the hold's reference went with its release");
});

Deno.test("held arguments: a freed domain filter is refused in the caller's words, before the worker registers it", async () => {
  await using conn = await Connection.open("test:///default");
  const dom = await lookupDomain(conn, "test");
  dom.free();
  await assert.rejects(
    () => qemuMonitorEvents(conn, { domain: dom }),
    /^TypeError: Cannot pass freed Domain "test" as argument options\.domain of virConnectDomainQemuMonitorEventRegister$/,
  );
});
