// migrateDomain on the in-process test driver, which has no migration: what does not need two real
// hosts (option checks, a refused migration wrapped with the guest's state at the source, progress
// decoding). Real migrations between the lab's two hosts: tests/integration/migrate_test.ts.
import assert from "node:assert/strict";
import {
  Connection,
  isNotSupported,
  lookupDomain,
  migrateDomain,
  MigrationError,
  migrationProgress,
} from "../mod.ts";

Deno.test("migrateDomain: bad options are refused before anything happens, naming the option", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await assert.rejects(() => migrateDomain(dom, "test:///default", { bandwidth: -1 }), /options\.bandwidth/);
  await assert.rejects(() => migrateDomain(dom, "test:///default", { bandwidth: 1.5 }), /options\.bandwidth/);
  await assert.rejects(
    () => migrateDomain(dom, "test:///default", { migrateUri: "10.0.0.2" }),
    /options\.migrateUri/,
  );
  await assert.rejects(
    () => migrateDomain(dom, "test:///default", { peerToPeer: false }),
    /must be a Connection/,
  );
  await assert.rejects(
    () => migrateDomain(dom, "test:///default", { progressIntervalMs: 1 }),
    /options\.progressIntervalMs/,
  );
  const aborted = AbortSignal.abort(new Error("not now"));
  await assert.rejects(() => migrateDomain(dom, "test:///default", { signal: aborted }), /not now/);
  assert.equal((await dom.state()).state, "running");
});

Deno.test("migrateDomain: a migration the source refuses is a MigrationError with libvirt's error and the source state", async () => {
  await using conn = await Connection.open("test:///default");
  await using destination = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  for (const [to, options] of [["test:///default", {}], [destination, { peerToPeer: false }]] as const) {
    const error = await migrateDomain(dom, to, options).then(() => undefined, (e) => e);
    assert.ok(error instanceof MigrationError, String(error));
    assert.ok(isNotSupported(error.cause), String(error.cause));
    assert.equal(error.sourceState, "running");
    assert.equal(error.aborted, false);
    assert.equal(error.destination, "test:///default");
    assert.match(
      error.message,
      /^Cannot migrate domain "test" to "test:\/\/\/default": .*it stays on the source \(running\)$/,
    );
  }
  assert.equal((await dom.state()).state, "running");
});

Deno.test("migrationProgress: job statistics as plain numbers", () => {
  const p = migrationProgress(2, {
    data_processed: 10n,
    data_remaining: 90n,
    data_total: 100n,
    memory_bps: 5n,
    memory_iteration: 2n,
    time_elapsed: 1234n,
  });
  assert.deepEqual({ ...p, stats: undefined }, {
    type: "unbounded",
    dataProcessed: 10,
    dataRemaining: 90,
    dataTotal: 100,
    memoryBps: 5,
    memoryIteration: 2,
    elapsedMs: 1234,
    stats: undefined,
  });
  assert.equal(migrationProgress(0, {}).type, "none");
  assert.equal(migrationProgress(0, {}).dataTotal, 0);
  assert.equal(migrationProgress(99, {}).type, "none");
});

Deno.test("Domain.migrate3: closing the destination while the call holds it waits for the call; libvirt reports no reference left", async () => {
  await using conn = await Connection.open("test:///default");
  const destination = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  // the call takes its libvirt reference on the destination when the source's gate admits it (now)
  const migration = dom.migrate3(destination, {}, {}).then(() => undefined, (e) => e);
  const closing = destination.close();
  assert.equal(destination.isAlive(), false, "reads as not alive at once");
  assert.deepEqual(await closing, { remainingReferences: 0, freedHandles: 0 });
  assert.ok(isNotSupported(await migration), "the call ran to its own end");
});

Deno.test("migrateDomain: a destination that is neither a URI nor an open Connection is refused before any libvirt call, naming it and what to pass", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const closed = await Connection.open("test:///default");
  await closed.close();
  const uriOrConnection =
    /pass the destination's libvirt URI \(a string such as "qemu\+tcp:\/\/10\.0\.0\.2\/system"\) or an open Connection to it/;
  const cases: [unknown, RegExp][] = [
    [{ uri: "test:///default" }, /^TypeError: Cannot migrate: destination is an object: /],
    [
      dom,
      /^TypeError: Cannot migrate: destination is a Domain: .*; a handle's own connection is its \.connection$/,
    ],
    [42, /^TypeError: Cannot migrate: destination is 42: /],
    [null, /^TypeError: Cannot migrate: destination is null: /],
    ["", /^TypeError: Cannot migrate: destination is "": /],
  ];
  for (const peerToPeer of [true, false]) {
    for (const [destination, message] of cases) {
      const error = await migrateDomain(dom, destination as Connection, { peerToPeer }).then(
        () => undefined,
        (e) => e,
      );
      assert.match(String(error), message);
      assert.match(String(error), uriOrConnection);
    }
    await assert.rejects(
      () => migrateDomain(dom, closed, { peerToPeer }),
      /^TypeError: Cannot migrate: destination is a closed Connection to "test:\/\/\/default": pass an open Connection to the destination \(or its URI\)$/,
    );
  }
  // refused before the first libvirt call: a freed domain would refuse that call ("freed Domain")
  const freed = await lookupDomain(conn, "test");
  freed.free();
  await assert.rejects(
    () => migrateDomain(freed, { uri: "x" } as unknown as Connection),
    /destination is an object/,
  );
});

Deno.test("Domain.migrate3: a dconn that is not a Connection is refused naming the argument and what to pass", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const closed = await Connection.open("test:///default");
  await closed.close();
  const wrong = (got: string, hint = "") =>
    new RegExp(
      `^TypeError: Cannot call virDomainMigrate3: argument dconn of virDomainMigrate3 must be a Connection \\(from Connection\\.open\\(\\) or a pool lease\\)${hint}, got ${got}$`,
    );
  await assert.rejects(() => dom.migrate3({} as Connection, {}), wrong("an object"));
  await assert.rejects(
    () => dom.migrate3(dom as unknown as Connection, {}),
    wrong("a Domain", "; a handle's own connection is its \\.connection"),
  );
  await assert.rejects(() => dom.migrate3(null as unknown as Connection, {}), wrong("null"));
  await assert.rejects(
    () => dom.migrate3(closed, {}),
    /^TypeError: Cannot pass a closed Connection to "test:\/\/\/default" as argument dconn of virDomainMigrate3: pass an open Connection$/,
  );
});
