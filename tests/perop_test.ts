// The per-operation paths at the cost of their call (issue 11): on a `blocking: true` connection,
// state(), info(), interfaceAddresses(), the one-call lifecycle functions and per-domain statistics
// make only their own C call (no reference pair around it, shared scratch buffers read at once),
// stay each call's own when calls on several connections interleave, and keep exact errors.
// In-process test driver only (every test:///default connection has a driver state of its own).
import assert from "node:assert/strict";
import {
  Connection,
  defineDomain,
  destroyDomain,
  domainStats,
  type InterfaceAddresses,
  LibvirtError,
  lookupDomain,
  NotFoundError,
  startDomain,
  undefineDomain,
} from "../mod.ts";
import { countRpcs } from "../bench/_rpc_count.ts";
import { ErrorCode } from "../lib/error_codes.ts";
import { testDomainXml } from "./_helpers.ts";

const lean = { blocking: true, eventLoop: false } as const;

Deno.test("on a blocking connection each one-call path makes only its own C call", async () => {
  await using conn = await Connection.open("test:///default", lean);
  using dom = await lookupDomain(conn, "test"); // running, one NIC on "default"
  const local = { local: true };
  const only = async (fn: () => Promise<unknown>) => Object.fromEntries(await countRpcs(fn, local));
  assert.deepEqual(await only(() => dom.state()), { virDomainGetState: 1 });
  assert.deepEqual(await only(() => dom.info()), { virDomainGetInfo: 1 });
  const addresses = await only(() => dom.interfaceAddresses("lease"));
  assert.deepEqual(Object.keys(addresses).sort(), ["virDomainInterfaceAddresses", "virDomainInterfaceFree"]);
  assert.equal(addresses.virDomainInterfaceAddresses, 1);
  void dom.uuid; // read once per handle (a local call); the statistics reuse it
  assert.deepEqual(await only(() => domainStats(dom)), {
    virDomainListGetStats: 1,
    virDomainStatsRecordListFree: 1,
  });
  assert.deepEqual(
    await only(async () => {
      await destroyDomain(dom, { states: false });
      await startDomain(dom, { states: false });
    }),
    { virDomainDestroyFlags: 1, virDomainCreateWithFlags: 1 },
  );
  // a nonblocking connection's calls run on another thread, but take no reference pair either: the
  // handle counts its calls in flight and a free() meanwhile waits for them (lib/_handle.ts)
  await using normal = await Connection.open("test:///default");
  using other = await lookupDomain(normal, "test");
  assert.deepEqual(await only(() => other.state()), { virDomainGetState: 1 });
});

Deno.test("interleaved calls on blocking and nonblocking connections each get their own result", async () => {
  await using a = await Connection.open("test:///default", lean);
  await using b = await Connection.open("test:///default", lean);
  await using c = await Connection.open("test:///default");
  const name = `perop-${crypto.randomUUID().slice(0, 8)}`;
  // test:///default is one driver state per process: "test" runs for all three, `name` is shut off
  const running = await lookupDomain(a, "test");
  const stopped = await defineDomain(b, testDomainXml(name, { memoryMiB: 32 }));
  using third = await lookupDomain(c, "test");
  try {
    const rounds = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
      const [sa, sb, sc] = await Promise.all([running.state(), stopped.state(), third.state()]);
      const [ia, ib] = await Promise.all([running.info(), stopped.info()]);
      const [aa, ab]: InterfaceAddresses[][] = await Promise.all([
        running.interfaceAddresses("lease"),
        i % 2 === 0 ? stopped.interfaceAddresses("lease").catch(() => []) : Promise.resolve([]),
      ]);
      const [ta, tb] = await Promise.all([domainStats(running), domainStats(stopped)]);
      return [
        sa.state,
        sb.state,
        sc.state,
        ia.memoryKiB,
        ib.memoryKiB,
        aa.length,
        ab.length,
        ta.name,
        ta.state?.state,
        tb.name,
        tb.state?.state,
      ];
    }));
    const testMemoryKiB = (await running.info()).memoryKiB;
    const expected = [
      "running",
      "shutoff",
      "running",
      testMemoryKiB,
      32 * 1024,
      1,
      0,
      "test",
      "running",
      name,
      "shutoff",
    ];
    for (const round of rounds) assert.deepEqual(round, expected);
  } finally {
    await undefineDomain(stopped, { states: false });
    running.free();
    stopped.free();
  }
});

Deno.test("a blocking connection's one-call paths keep exact errors", async () => {
  await using conn = await Connection.open("test:///default", lean);
  const name = `perop-gone-${crypto.randomUUID().slice(0, 8)}`;
  using dom = await defineDomain(conn, testDomainXml(name));
  using twin = await lookupDomain(conn, name);
  await undefineDomain(twin, { states: false }); // `dom` now names a domain that is gone
  const gone = (operation: string) => (e: unknown) => {
    assert.ok(e instanceof NotFoundError, `${operation}: ${e}`);
    assert.equal(e.code, ErrorCode.NO_DOMAIN);
    assert.ok(e.message.startsWith(`Cannot ${operation} domain "${name}": `), e.message);
    return true;
  };
  await assert.rejects(() => dom.state(), gone("get the state of"));
  await assert.rejects(() => dom.info(), gone("get info of"));
  await assert.rejects(() => dom.interfaceAddresses("lease"), gone("get the lease addresses of"));
  await assert.rejects(() => startDomain(dom, { states: false }), gone("start"));
  await assert.rejects(() => destroyDomain(dom, { states: false }), gone("destroy"));
  await assert.rejects(() => undefineDomain(dom, { states: false }), gone("undefine"));
  // virDomainListGetStats skips a domain that is gone: an empty record, as on every connection
  const empty = await domainStats(dom);
  assert.deepEqual([empty.name, empty.raw.size, empty.state], [name, 0, undefined]);
  // on an idle blocking connection a call runs at once: made before a free(), it has its result
  using live = await lookupDomain(conn, "test");
  const ran = [live.state(), live.info(), domainStats(live), live.interfaceAddresses("lease")] as const;
  live.free();
  const [state, info, stats, addresses] = await Promise.all(ran);
  assert.deepEqual([state.state, info.state, stats.state?.state, addresses.length], [
    "running",
    "running",
    "running",
    1,
  ]);
  // queued behind a call in flight, it runs after the free(): it refuses instead of using the pointer
  using queued = await lookupDomain(conn, "test");
  const first = conn.hostname(); // holds the gate until its promise settles
  const pending = [queued.state(), queued.info(), domainStats(queued), queued.interfaceAddresses("lease")];
  queued.free();
  await first;
  for (const call of pending) {
    await assert.rejects(
      () => call,
      (e: unknown) => e instanceof TypeError && /freed Domain "test"/.test(e.message),
    );
  }
});

Deno.test("error attribution over 4 blocking connections, 1,500 interleaved calls, 1,000 failing: zero mismatches", async () => {
  const conns = await Promise.all(Array.from({ length: 4 }, () => Connection.open("test:///default", lean)));
  let mismatches = 0;
  try {
    await Promise.all(Array.from({ length: 1500 }, async (_, i) => {
      const conn = conns[i % conns.length];
      if (i % 3 === 0) {
        const token = `bogus-os-${i}`;
        const xml = `<domain type='test'><name>attr-${i}</name><memory unit='MiB'>8</memory>` +
          `<os><type>${token}</type></os></domain>`;
        try {
          (await defineDomain(conn, xml)).free();
          mismatches++;
        } catch (e) {
          if (!(e instanceof LibvirtError) || !e.libvirtMessage.includes(`'${token}'`)) mismatches++;
        }
      } else if (i % 3 === 1) {
        try {
          (await lookupDomain(conn, `missing-${i}`)).free();
          mismatches++;
        } catch (e) {
          if (
            !(e instanceof NotFoundError) || !e.message.startsWith(`Cannot look up domain "missing-${i}": `)
          ) {
            mismatches++;
          }
        }
      } else {
        using dom = await lookupDomain(conn, "test");
        const [state, info, stats] = await Promise.all([dom.state(), dom.info(), domainStats(dom)]);
        if (state.state !== "running" || info.state !== "running" || stats.state?.state !== "running") {
          mismatches++;
        }
      }
    }));
  } finally {
    for (const conn of conns) await conn.close();
  }
  assert.equal(mismatches, 0);
});
