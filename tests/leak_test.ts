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
