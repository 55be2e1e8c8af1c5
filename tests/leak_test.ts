// Handles and memory: 100k calls leave RSS flat and every connection closes with no reference left.
// A deliberately leaked virDomainPtr costs ~177 bytes per call (docs/design.md), so 100k leaked calls
// would add ~17 MB: the bound below is far from noise and far below a leak.
import assert from "node:assert/strict";
import { Connection, listAllDomainsSync, lookupDomainSync } from "../mod.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";

const MiB = 1024 * 1024;
const LEAK_BOUND = 4 * MiB;

function rss(): number {
  // deno's own counter; the kernel's view (VmRSS) is what a leak of native handles shows in
  return Number(/VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
}

Deno.test("leaks: 100,000 synchronous lookup+info calls keep RSS flat", () => {
  const conn = Connection.openSync("test:///default");
  const step = () => {
    const dom = lookupDomainSync(conn, "test");
    dom.infoSync();
    dom.free();
  };
  for (let i = 0; i < 20_000; i++) step(); // warm up the JIT and allocator
  const before = rss();
  for (let i = 0; i < 100_000; i++) step();
  for (let i = 0; i < 2_000; i++) for (const d of listAllDomainsSync(conn)) d.free();
  const grown = rss() - before;
  assert.ok(grown < LEAK_BOUND, `RSS grew by ${(grown / MiB).toFixed(1)} MiB over 100k calls`);
  assert.deepEqual(conn.closeSync(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("leaks: 100,000 pooled asynchronous calls keep the native heap flat and close clean", async () => {
  const fixture = new URL("./fixtures/leak_async.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await runDeno(denoChildArgs(
    "run",
    "--allow-all", // /proc/self/status counts as a special file: --allow-read is not enough
    "--v8-flags=--expose-gc",
    fixture,
  ));
  assert.equal(code, 0, stderr);
  const { mallocGrownBytes, rssGrownBytes, close } = JSON.parse(stdout);
  assert.ok(
    mallocGrownBytes < LEAK_BOUND,
    `native heap in use grew by ${(mallocGrownBytes / MiB).toFixed(1)} MiB over 100k calls ` +
      `(RSS by ${(rssGrownBytes / MiB).toFixed(1)} MiB)`,
  );
  assert.deepEqual(close, { closed: 16, remainingReferences: 0, freedHandles: 0 });
});

// A handle freed while an asynchronous call on it runs on Deno's thread pool: the handle reads as freed
// at once, but libvirt's reference is dropped only when the call has returned (lib/_handle.ts counts the
// calls in flight), so the call finishes on a valid pointer and nothing leaks: the connection closes with
// no reference left (a reference never dropped would keep the connection's count above 0) and no handle
// left for close to free.
Deno.test("leaks: free() during an in-flight call defers libvirt's free to the call's return", async () => {
  const { lookupDomain } = await import("../mod.ts");
  const conn = await Connection.open("test:///default");
  for (let i = 0; i < 2_000; i++) {
    const dom = await lookupDomain(conn, "test");
    const info = dom.info(); // admitted at once: the call is on its way to the thread pool
    // queued behind it on the connection's gate, refused once admitted (in the operation's words,
    // without touching the pointer)
    const xml = assert.rejects(dom.xmlDesc(), /Cannot .*freed Domain "test"/);
    dom.free();
    assert.ok(dom.freed);
    assert.equal(dom.name, "test"); // still readable after free
    assert.equal((await info).memoryKiB, 2097152); // the call ran on a live pointer
    await xml;
  }
  // several handles of one domain, all freed while the first one's call is in flight (the others
  // queue behind it on the gate: one call at a time per connection, and are refused once admitted)
  const doms = await Promise.all(Array.from({ length: 8 }, () => lookupDomain(conn, "test")));
  const states = Promise.allSettled(doms.map((d) => d.state()));
  for (const d of doms) d.free();
  const [first, ...queued] = await states;
  assert.equal(first.status === "fulfilled" && first.value.state, "running");
  for (const q of queued) assert.match(String(q.status === "rejected" && q.reason), /freed Domain "test"/);
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("leaks: free() during in-flight pooled calls over the thread pool, 16 at once", async () => {
  const { ConnectionPool, lookupDomain } = await import("../mod.ts");
  const pool = new ConnectionPool("test:///default", { max: 16 });
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < 4_000) {
      await pool.use(async (c) => {
        const dom = await lookupDomain(c, "test");
        const info = dom.info();
        dom.free(); // the call is in flight on a blocking-pool thread
        assert.equal((await info).vcpus, 2);
      });
    }
  }));
  assert.deepEqual(await pool.close(), { closed: 16, remainingReferences: 0, freedHandles: 0 });
});
