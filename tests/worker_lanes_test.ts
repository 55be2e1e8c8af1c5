import assert from "node:assert/strict";
import { ErrorCode, LibvirtError, NotFoundError, WorkerLanes } from "../mod.ts";
import type ops from "./fixtures/lane_ops.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

const URI = "test:///default";
const OPS = new URL("./fixtures/lane_ops.ts", import.meta.url);
const open = (options: Parameters<typeof WorkerLanes.open>[2] = {}, uri = URI) =>
  WorkerLanes.open<typeof ops>(OPS, uri, options);

Deno.test("WorkerLanes.run returns an operation's result, typed, bigints and NUL-led strings intact", async () => {
  await using lanes = await open({ workers: 2 });
  const info = await lanes.run("lookupInfo", ["test"]);
  assert.equal(info.state, "running");
  assert.equal(typeof info.cpuTimeNs, "bigint");
  assert.equal((await lanes.run("lookupInfoSync", ["test"])).vcpus, info.vcpus);
  const value = {
    big: -(2n ** 70n),
    s: "\0n12",
    t: "\0",
    nested: [1, null, { x: "y", u: undefined }],
    e: [],
  };
  assert.deepEqual(await lanes.run("echo", [value]), {
    big: -(2n ** 70n),
    s: "\0n12",
    t: "\0",
    nested: [1, null, { x: "y" }],
    e: [],
  });
  assert.equal(await lanes.run("nothing", []), undefined);
  assert.equal(await lanes.run("uri", []), URI);
  const big = "x".repeat(100_000) + "é";
  assert.equal(await lanes.run("echo", [big]), big); // beyond the first buffer: it grows
});

Deno.test("WorkerLanes.run rethrows the operation's error as the same class, attributed to the failed call", async () => {
  await using lanes = await open({ workers: 1 });
  const error = await lanes.run("lookupInfo", ["no-such-domain"]).catch((e) => e);
  assert.ok(error instanceof NotFoundError);
  assert.ok(error instanceof LibvirtError);
  assert.equal(error.code, ErrorCode.NO_DOMAIN);
  assert.equal(error.codeName, "NO_DOMAIN");
  assert.equal(error.operation, 'look up domain "no-such-domain"');
  assert.equal(error.message, 'Cannot look up domain "no-such-domain": Domain not found');
  assert.match(error.stack!, /lane_ops\.ts/); // where in the operation it failed
  await assert.rejects(
    lanes.run("throwTyped", ["bad value"]),
    (e) => e instanceof RangeError && e.message === "bad value",
  );
  // the lane goes on after a failure
  assert.equal((await lanes.run("lookupInfo", ["test"])).state, "running");
  const stats = lanes.stats();
  assert.equal(stats.operations, 3);
  assert.equal(stats.errors, 2);
  assert.deepEqual(stats.errorsByCode, { NO_DOMAIN: 1, RangeError: 1 });
});

Deno.test("WorkerLanes.run refuses what cannot cross: unknown operations, handles, Maps, NaN", async () => {
  await using lanes = await open({ workers: 1 });
  await assert.rejects(
    // @ts-expect-error: not an operation of the module
    lanes.run("noSuchOperation", []),
    {
      name: "TypeError",
      message: 'Cannot run lane operation "noSuchOperation": the module has no such operation',
    },
  );
  await assert.rejects(
    lanes.run("returnHandle", ["test"]),
    (e) =>
      e instanceof TypeError &&
      /result of operation "returnHandle".*a Domain, not a plain object/.test(e.message),
  );
  await assert.rejects(lanes.run("echo", [new Map()]), /the value\[0\] is a Map, not a plain object/);
  await assert.rejects(lanes.run("echo", [{ n: NaN }]), /the value\[0\]\.n is NaN, not a JSON number/);
  await assert.rejects(lanes.run("echo", [() => 1]), /the value\[0\] is a function/);
  await assert.rejects(lanes.run("echo", [new Date(0)]), /a Date, not a plain object/);
  // the refused handle was freed with the connection
  assert.deepEqual(await lanes.close(), { remainingReferences: 0, freedHandles: 1 });
});

Deno.test("WorkerLanes bounds concurrency to its workers and queues the rest first come first served", async () => {
  await using lanes = await open({ workers: 2 });
  const started = performance.now();
  const runs = [1, 2, 3, 4, 5].map((i) => lanes.run("sleep", [40 + i]));
  const during = lanes.stats();
  assert.equal(during.busy, 2);
  assert.equal(during.waiting, 3);
  assert.deepEqual(await Promise.all(runs), [41, 42, 43, 44, 45]);
  assert.ok(
    performance.now() - started >= 40 * 3 - 5,
    "five 40-ms operations on two lanes take three rounds",
  );
  assert.deepEqual({ ...lanes.stats(), errorsByCode: undefined }, {
    workers: 2,
    busy: 0,
    waiting: 0,
    operations: 5,
    errors: 0,
    errorsByCode: undefined,
    reconnects: 0,
  });
});

Deno.test("WorkerLanes waits are bounded: timeout, abort signal, maxWaiting", async () => {
  await using lanes = await open({ workers: 1, maxWaiting: 2, acquireTimeoutMs: 20 });
  const busy = lanes.run("sleep", [200]);
  await assert.rejects(
    lanes.run("nothing", []),
    (e) => e instanceof DOMException && e.name === "TimeoutError",
  );
  const controller = new AbortController();
  const aborted = lanes.run("nothing", [], { signal: controller.signal, timeoutMs: 10_000 });
  const waiting = lanes.run("nothing", [], { timeoutMs: 10_000 });
  await assert.rejects(
    lanes.run("nothing", [], { timeoutMs: 10_000 }),
    /2 callers are already waiting \(maxWaiting\)/,
  );
  controller.abort(new Error("stop waiting"));
  await assert.rejects(aborted, /stop waiting/);
  await assert.rejects(
    lanes.run("nothing", [], { signal: AbortSignal.abort(new Error("already")) }),
    /already/,
  );
  assert.equal(await busy, 200);
  assert.equal(await waiting, undefined);
});

Deno.test("WorkerLanes.close lets running operations finish, rejects waiting ones, reports leaks", async () => {
  const lanes = await open({ workers: 1 });
  await lanes.run("leak", ["test"]);
  const running = lanes.run("sleep", [50]);
  const waiting = lanes.run("nothing", []);
  const closed = lanes.close();
  assert.equal(lanes.close(), closed, "close is idempotent");
  await assert.rejects(waiting, /were closed/);
  assert.equal(await running, 50);
  assert.deepEqual(await closed, { remainingReferences: 0, freedHandles: 1 });
  await assert.rejects(lanes.run("nothing", []), /the lanes are closed/);
});

Deno.test("WorkerLanes reopens a worker's connection that is gone before the next operation", async () => {
  await using lanes = await open({ workers: 1 });
  await lanes.run("closeConnection", []);
  assert.equal((await lanes.run("lookupInfo", ["test"])).state, "running");
  assert.equal(lanes.stats().reconnects, 1);
});

Deno.test("WorkerLanes.open fails cleanly: a URI libvirt refuses, a module without operations", async () => {
  await assert.rejects(
    WorkerLanes.open(OPS, "test:///nonexistent/node.xml", { workers: 2 }),
    (e) => e instanceof LibvirtError && /Cannot open connection/.test(e.message),
  );
  await assert.rejects(
    WorkerLanes.open(new URL("./fixtures/lane_ops_bad.ts", import.meta.url), URI, { workers: 1 }),
    /"notAFunction" is not a function/,
  );
  await assert.rejects(WorkerLanes.open(OPS, URI, { workers: 0 }), RangeError);
});

Deno.test("WorkerLanes over libvirtd (test+unix:///default): results and typed errors", async () => {
  requireDaemon();
  await using lanes = await open({ workers: 4 }, DAEMON_URI);
  const infos = await Promise.all(Array.from({ length: 32 }, () => lanes.run("lookupInfo", ["test"])));
  assert.ok(infos.every((info) => info.state === "running"));
  await assert.rejects(lanes.run("lookupInfo", ["no-such-domain"]), NotFoundError);
  assert.deepEqual(await lanes.close(), { remainingReferences: 0, freedHandles: 0 });
});
