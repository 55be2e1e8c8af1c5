import assert from "node:assert/strict";
import {
  Connection,
  createDomain,
  destroyDomain,
  type Domain,
  isNotFound,
  lookupDomain,
  resumeDomain,
  startDomain,
  suspendDomain,
} from "../mod.ts";
import { domainEvents, waitForState } from "../lib/events.ts";
import { DAEMON_URI, denoChildArgs, nextEvent, requireDaemon, runDeno, testDomainXml } from "./_helpers.ts";

Deno.test("domainEvents: a change made on one connection reaches a subscriber on another", async () => {
  requireDaemon();
  // the daemon is shared: only this test's domain, under a name no other run uses
  const name = `events-relay-${crypto.randomUUID().slice(0, 8)}`;
  await using events = domainEvents(DAEMON_URI, { kinds: ["lifecycle"], domain: name });
  await events.ready();
  await using actor = await Connection.open(DAEMON_URI);
  // how fast is a benchmark's question (bench/events_bench.ts), not a unit test's
  const dom = await createDomain(actor, testDomainXml(name));
  try {
    const started = await nextEvent(events);
    assert.deepEqual([started.event, started.detail, started.domain?.name], [
      "started",
      "booted",
      name,
    ]);
    for (
      const [act, expected] of [
        [suspendDomain, ["suspended", "paused"]],
        [resumeDomain, ["resumed", "unpaused"]],
      ] as const
    ) {
      await act(dom);
      const event = await nextEvent(events);
      assert.deepEqual([event.event, event.detail], expected);
      assert.equal(event.uri, DAEMON_URI);
      assert.match(event.domain!.uuid, /^[0-9a-f-]{36}$/);
      assert.ok(event.at instanceof Date);
    }
    await destroyDomain(dom);
    const stopped = await nextEvent(events);
    assert.deepEqual([stopped.event, stopped.detail], ["stopped", "destroyed"]);
  } finally {
    // a failed assertion must not leave it running; a transient domain the test destroyed is gone
    await destroyDomain(dom, { ifNeeded: true }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    dom.free();
  }
});

Deno.test("domainEvents: the domain filter and the kinds filter", async () => {
  requireDaemon();
  await using mine = domainEvents(DAEMON_URI, { domain: "events-filter-a" });
  await using rebootsOnly = domainEvents(DAEMON_URI, { kinds: ["reboot"] });
  await Promise.all([mine.ready(), rebootsOnly.ready()]);
  await using actor = await Connection.open(DAEMON_URI);
  const b = await createDomain(actor, testDomainXml("events-filter-b"));
  const a = await createDomain(actor, testDomainXml("events-filter-a"));
  try {
    const event = await nextEvent(mine);
    assert.equal(event.domain?.name, "events-filter-a", "events of other domains are filtered out");
    await destroyDomain(a);
    await destroyDomain(b);
    assert.equal((await nextEvent(mine)).event, "stopped");
    // the test driver emits no reboot events: nothing may arrive on the reboot-only stream
    await assert.rejects(() => nextEvent(rebootsOnly, 200), /no event within 200 ms/);
  } finally {
    a.free();
    b.free();
  }
});

Deno.test("waitForState resolves on the event, at once when already there, and explains a timeout", async () => {
  requireDaemon();
  await using conn = await Connection.open(DAEMON_URI);
  const dom: Domain = await createDomain(conn, testDomainXml("events-wait"));
  try {
    assert.equal(await waitForState(dom, "running", { timeoutMs: 1_000 }), "running", "already running");
    const waiting = waitForState(dom, ["paused", "shutoff"], { timeoutMs: 2_000 });
    await new Promise((r) => setTimeout(r, 20));
    await suspendDomain(dom);
    assert.equal(await waiting, "paused");
    await assert.rejects(() => waitForState(dom, "running", { timeoutMs: 100 }), (e: unknown) => {
      assert.ok(e instanceof DOMException && e.name === "TimeoutError");
      assert.equal(
        e.message,
        'Timed out after 100 ms waiting for domain "events-wait" to be running; it is paused',
      );
      return true;
    });
    const reason = new Error("operator gave up");
    const controller = new AbortController();
    const aborted = waitForState(dom, "shutoff", { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(() => aborted, (e) => e === reason);
    await assert.rejects(
      () => waitForState(dom, "shutoff", { signal: AbortSignal.abort("early") }),
      (e) => e === "early",
    );
  } finally {
    await destroyDomain(dom).catch(() => {});
    dom.free();
  }
});

Deno.test("domainEvents: a signal ends the iteration, and the stream can be closed twice", async () => {
  requireDaemon();
  const controller = new AbortController();
  const events = domainEvents(DAEMON_URI, { signal: controller.signal });
  await events.ready();
  const pending = events.next();
  controller.abort();
  assert.deepEqual(await pending, { value: undefined, done: true });
  await events.close();
  await events.close();
});

Deno.test("domainEvents on the in-process test driver", async () => {
  await using events = domainEvents("test:///default");
  await events.ready();
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  try {
    await destroyDomain(dom);
    const event = await nextEvent(events);
    assert.deepEqual([event.event, event.detail, event.domain?.name], ["stopped", "destroyed", "test"]);
  } finally {
    // the process's shared "test" domain: every later test expects it running
    await startDomain(dom, { ifNeeded: true });
  }
});

Deno.test("domainEvents: a process exits by itself once it stops listening", async () => {
  requireDaemon();
  const fixture = new URL("./fixtures/events_exit.ts", import.meta.url).pathname;
  const started = performance.now();
  const { code, stdout, stderr } = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-read", fixture, DAEMON_URI),
  );
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "started exit-check");
  assert.equal(stderr, "");
  assert.ok(performance.now() - started < 10_000);
});

Deno.test("domainEvents: a bad URI rejects ready() and next() with the open error", async () => {
  const events = domainEvents("test+unix:///default?socket=/nonexistent/sock");
  await assert.rejects(() => events.ready(), /Cannot open connection to .*nonexistent/);
  await assert.rejects(() => events.next(), /Cannot open connection to .*nonexistent/);
  assert.deepEqual(await events.next(), { value: undefined, done: true });
});

Deno.test("domainEvents with the event loop disabled rejects next() instead of hanging", async () => {
  const fixture = new URL("./fixtures/events_disabled.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await runDeno(
    denoChildArgs("run", "--allow-ffi", "--allow-read", fixture),
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stdout.trim(),
    /^rejected: Cannot subscribe to events of "test:\/\/\/default": the event loop is disabled/,
  );
});
