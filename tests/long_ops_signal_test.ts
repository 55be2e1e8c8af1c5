// `signal` on the long read operations (test:///default, in-process): rangeStatus, planRange,
// locateGuest, discoverMany, guestFileRead/guestFileWrite and sha256File. Each stops promptly with the
// signal's reason, also while it waits for a pooled connection (the pool is held full by the test), and
// leaves nothing behind: no caller left waiting in the pool, no guest file handle open, the file closed.
import assert from "node:assert/strict";
import { Connection, lookupDomain, PoolRegistry } from "../mod.ts";
import { discoverMany } from "../lib/ip/batch.ts";
import { guestFileRead, guestFileWrite } from "../lib/qemu/guest.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { sha256File } from "../lib/range/images.ts";
import { locateGuest } from "../lib/range/migrate.ts";
import { planRange } from "../lib/range/plan.ts";
import { rangeStatus } from "../lib/range/status.ts";

const URI = "test:///default";

function describe(): Range {
  const name = `ls${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri: URI }],
    storage: { pool: "default-pool" },
    networks: [{ name: `${name}-lan`, mode: "isolated", subnet: "10.73.2.0/24" }],
    guests: [{ id: "pc", memory: 64, count: 3, nics: [{ network: `${name}-lan` }] }],
  });
}

/**
 * Runs `operation` on a registry whose one connection the test holds: the operation waits for it, the
 * abort comes 50 ms later, and the operation must reject with the reason within 1 s of it. Then the
 * pool has nobody waiting and nothing in flight but the test's own lease.
 */
async function abortWhileWaiting(
  operation: (registry: PoolRegistry, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const registry = new PoolRegistry({ max: 1, acquireTimeoutMs: 60_000 });
  const hold = await registry.get(URI).acquire();
  try {
    const controller = new AbortController();
    const reason = new Error("stop now");
    const pending = operation(registry, controller.signal).then(() => "resolved", (e) => e);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(registry.get(URI).stats().waiting >= 1, "the operation waits for the held connection");
    const t0 = performance.now();
    controller.abort(reason);
    const outcome = await pending;
    assert.equal(outcome, reason, `rejects with the signal's reason, got ${String(outcome)}`);
    assert.ok(performance.now() - t0 < 1_000, `stopped ${performance.now() - t0} ms after the abort`);
    const stats = registry.get(URI).stats();
    assert.equal(stats.waiting, 0);
    assert.equal(stats.inFlight, 1, "only the test's lease");
  } finally {
    hold.release();
    await registry.closeAll();
  }
}

/** An already aborted signal: the operation rejects with the reason and runs no operation in a pool. */
async function abortedBefore(operation: (registry: PoolRegistry, signal: AbortSignal) => Promise<unknown>) {
  const registry = new PoolRegistry({ max: 2 });
  try {
    const reason = new Error("aborted before");
    await assert.rejects(operation(registry, AbortSignal.abort(reason)), (e) => e === reason);
    assert.equal(registry.get(URI).stats().operations, 0, "no pool operation ran");
  } finally {
    await registry.closeAll();
  }
}

const cases: [string, (registry: PoolRegistry, signal: AbortSignal) => Promise<unknown>][] = [
  ["rangeStatus", (registry, signal) => rangeStatus(describe(), registry, { signal })],
  ["planRange", (registry, signal) => planRange(describe(), registry, { signal })],
  ["locateGuest", (registry, signal) => {
    const range = describe();
    return locateGuest(range, registry, range.guests[0].name, { signal });
  }],
  [
    "discoverMany (named domains)",
    (registry, signal) => discoverMany([{ uri: URI, domains: ["test"] }], { registry, signal }),
  ],
  ["discoverMany (listing)", (registry, signal) => discoverMany([{ uri: URI }], { registry, signal })],
];

for (const [name, operation] of cases) {
  Deno.test(`signal: ${name} stops with the reason while it waits for a pooled connection`, async () => {
    await abortWhileWaiting(operation);
  });
  Deno.test(`signal: ${name} with an aborted signal does nothing`, async () => {
    await abortedBefore(operation);
  });
}

Deno.test("signal: without an abort the operations still answer as before", async () => {
  const registry = new PoolRegistry({ max: 2 });
  try {
    const range = describe();
    const signal = new AbortController().signal;
    const status = await rangeStatus(range, registry, { signal });
    assert.deepEqual(status.guests.map((g) => g.state), ["absent", "absent", "absent"]);
    assert.equal((await planRange(range, registry, { signal })).conflict, 0);
    assert.equal(await locateGuest(range, registry, range.guests[0].name, { signal }), undefined);
    const [entry] = await discoverMany([{ uri: URI, domains: ["test"] }], { registry, signal });
    assert.equal(entry.error, undefined, String(entry.error));
  } finally {
    await registry.closeAll();
  }
});

Deno.test("signal: discoverMany's abort during the address wait ends the batch with the reason", async () => {
  const controller = new AbortController();
  const reason = new Error("enough");
  let progress = 0;
  const pending = discoverMany([{ uri: URI, domains: ["test"] }], {
    wait: true,
    minConfidence: 1, // never reached on the test driver: without the abort this waits the timeout
    timeoutMs: 3_600_000,
    signal: controller.signal,
    onProgress: () => progress++,
  }).then(() => "resolved", (e) => e);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  controller.abort(reason);
  assert.equal(await pending, reason);
  assert.ok(performance.now() - t0 < 2_000, `stopped ${performance.now() - t0} ms after the abort`);
  assert.equal(progress, 0, "an aborted batch reports no progress");
});

/**
 * A test:///default domain whose agent is a script: each guest-file command is answered here, so the
 * chunk loops can be stopped half-way without a guest.
 */
async function withScriptedAgent(
  fn: (
    dom: Awaited<ReturnType<typeof lookupDomain>>,
    log: string[],
    abortAfter: (n: number) => AbortSignal,
  ) => Promise<void>,
): Promise<void> {
  await using conn = await Connection.open(URI);
  using dom = await lookupDomain(conn, "test");
  const log: string[] = [];
  let controller = new AbortController();
  let abortAt = Infinity;
  let chunks = 0;
  (dom as unknown as { qemuAgentCommand: (text: string) => Promise<string> }).qemuAgentCommand = (text) => {
    const request = JSON.parse(text) as { execute: string; arguments: Record<string, unknown> };
    log.push(request.execute);
    const answer = (value: unknown) => Promise.resolve(JSON.stringify({ return: value }));
    switch (request.execute) {
      case "guest-file-open":
        return answer(7);
      case "guest-file-close":
        return answer({});
      case "guest-file-write":
      case "guest-file-read":
        if (++chunks === abortAt) controller.abort(new Error("stop after this chunk"));
        return request.execute === "guest-file-write"
          ? answer({ count: (atob(request.arguments["buf-b64"] as string)).length })
          : answer({ count: 4, "buf-b64": btoa("abcd"), eof: false });
      default:
        return Promise.reject(new Error(`unexpected ${request.execute}`));
    }
  };
  await fn(dom, log, (n) => {
    controller = new AbortController();
    abortAt = n;
    chunks = 0;
    log.length = 0;
    return controller.signal;
  });
}

Deno.test("signal: guestFileWrite and guestFileRead stop between chunks and close the guest's handle", async () => {
  await withScriptedAgent(async (dom, log, abortAfter) => {
    // write 10 chunks of 4 bytes; the abort comes with the second: no third is sent
    let signal = abortAfter(2);
    await assert.rejects(
      guestFileWrite(dom, "/tmp/f", new Uint8Array(40), { chunkBytes: 4, signal }),
      (e) => e === signal.reason,
    );
    assert.deepEqual(log, ["guest-file-open", "guest-file-write", "guest-file-write", "guest-file-close"]);
    // read an endless file (eof never comes): the abort with the third chunk ends it
    signal = abortAfter(3);
    await assert.rejects(guestFileRead(dom, "/tmp/f", { signal }), (e) => e === signal.reason);
    assert.deepEqual(log, [
      "guest-file-open",
      "guest-file-read",
      "guest-file-read",
      "guest-file-read",
      "guest-file-close",
    ]);
    // an aborted signal: not even the open is sent
    signal = abortAfter(Infinity);
    const reason = new Error("before");
    await assert.rejects(
      guestFileRead(dom, "/tmp/f", { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    await assert.rejects(
      guestFileWrite(dom, "/tmp/f", new Uint8Array(1), { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    assert.deepEqual(log, []);
  });
});

Deno.test("signal: sha256File stops between chunks of a whole image and closes the file", async () => {
  const file = await Deno.makeTempFile({ prefix: "sha-signal-" });
  try {
    await Deno.writeFile(file, new Uint8Array(8 << 20)); // 8 chunks of 1 MiB
    const controller = new AbortController();
    const reason = new Error("image no longer wanted");
    // abort once the first chunk's read has been asked for: the rest is not read
    const pending = sha256File(file, { signal: controller.signal });
    queueMicrotask(() => controller.abort(reason));
    await assert.rejects(pending, (e) => e === reason);
    await assert.rejects(sha256File(file, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    // the file was closed (no resource left open) and the digest without a signal is unchanged
    assert.equal((await sha256File(file)).bytes, 8 << 20);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("signal: discoverMany's one-domain path (its own connection, no pool) rejects with the reason", async () => {
  const reason = new Error("not now");
  await assert.rejects(
    discoverMany([{ uri: URI, domains: ["test"] }], { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  // and an abort while the sources run: the batch rejects, no entry with an error
  const controller = new AbortController();
  const pending = discoverMany([{ uri: URI, domains: ["test"] }], { signal: controller.signal });
  controller.abort(reason);
  const outcome = await pending.then((entries) => entries, (error) => error);
  // the query may have finished before the abort landed; if not, the rejection is the reason itself
  if (!Array.isArray(outcome)) assert.equal(outcome, reason);
});
