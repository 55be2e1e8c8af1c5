// IP discovery through the real call path (libvirt's test driver answers lease, agent and ARP alike
// with 192.168.122.3/24) and with injected sources and clocks for what the test driver cannot do.
import assert from "node:assert/strict";
import {
  Connection,
  ConnectionPool,
  createDomain,
  destroyDomain,
  type Domain,
  isTimeout,
  lookupDomain,
  startDomain,
} from "../mod.ts";
import { discoverMany } from "../lib/ip/batch.ts";
import { AddressCache } from "../lib/ip/cache.ts";
import { discover } from "../lib/ip/discover.ts";
import { type AddressSource, type Sighting, type SourceName, SourceSkipped } from "../lib/ip/types.ts";
import { AddressTimeoutError, waitForAddress } from "../lib/ip/wait.ts";
import { denoChildArgs, REPO_ROOT, runDeno, writeNodeFile } from "./_helpers.ts";

const MAC = "aa:bb:cc:dd:ee:ff"; // the test driver's default domain "test"

function fake(
  name: SourceName,
  answer: () => Promise<Sighting[]> | Sighting[],
  calls?: SourceName[],
): AddressSource {
  return {
    name,
    discover: async () => {
      calls?.push(name);
      return await answer();
    },
  };
}
const sighting = (source: SourceName, address: string, mac = MAC): Sighting => ({
  source,
  mac,
  address,
  family: address.includes(":") ? "ipv6" : "ipv4",
});

Deno.test("discover on test:///default: every source's verdict, the address, the timings", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const result = await discover(dom);
  assert.equal(result.domain.name, "test");
  assert.equal(result.best?.address, "192.168.122.3");
  assert.equal(result.best?.prefix, 24);
  assert.equal(result.best?.mac, MAC);
  assert.deepEqual(result.best?.sources.sort(), ["arp", "lease"]);
  const status = Object.fromEntries(result.sources.map((s) => [s.source, s.status]));
  assert.deepEqual(status, {
    lease: "ok",
    agent: "skipped",
    "network-lease": "failed",
    arp: "ok",
    plan: "skipped",
  });
  const reasons = Object.fromEntries(result.sources.map((s) => [s.source, s.reason]));
  assert.match(reasons.agent!, /no guest agent channel/);
  assert.match(reasons["network-lease"]!, /^not supported by this driver/);
  assert.match(reasons.plan!, /no planned address/);
  assert.ok(result.tookMs > 0 && result.sources.every((s) => s.tookMs >= 0));
  assert.equal(result.cached, false);
});

Deno.test("discover: an agent channel with no state set is asked; the test driver answers", async () => {
  await using conn = await Connection.open("test:///default");
  const dom = await createDomain(
    conn,
    `<domain type='test'><name>ip-agent</name><memory>65536</memory><os><type>hvm</type></os>
    <devices><interface type='network'><source network='default'/><mac address='52:54:00:10:00:01'/></interface>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>`,
  );
  try {
    const result = await discover(dom, { pool: undefined });
    assert.equal(result.sources.find((s) => s.source === "agent")?.status, "ok");
    assert.ok(result.nics[0].addresses[0].sources.includes("agent"));
    // the test driver answers lease, agent and arp from one invented table: counted once, not 0.99
    const best = result.nics[0].addresses[0];
    assert.equal(best.confidence, 0.9, "lease + agent + arp are one answer on the test driver");
    assert.ok(best.flags.includes("same-origin"), best.flags.join());
    assert.match(best.explanation, /lease 0\.8, agent 0\.9, arp 0\.5 count once \(libvirt's test driver/);
  } finally {
    await destroyDomain(dom);
    dom.free();
  }
});

Deno.test("discover through a pool runs each source on its own connection, same answer", async () => {
  await using pool = new ConnectionPool("test:///default", { max: 5 });
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const result = await discover(dom, { pool });
  assert.equal(result.best?.address, "192.168.122.3");
  assert.ok(pool.stats().opened >= 2, `sources used ${pool.stats().opened} pooled connections`);
});

Deno.test("discover: a hung source times out alone; the others still answer", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  let release!: () => void;
  const hung = new Promise<Sighting[]>((resolve) => release = () => resolve([]));
  const result = await discover(dom, {
    sourceTimeoutMs: 50,
    sourceImplementations: [fake("agent", () => hung), fake("lease", () => [sighting("lease", "10.9.9.9")])],
  });
  release();
  const agent = result.sources.find((s) => s.source === "agent")!;
  assert.equal(agent.status, "timeout");
  assert.ok(agent.tookMs >= 45 && agent.tookMs < 1000, `${agent.tookMs} ms`);
  assert.equal(result.best?.address, "10.9.9.9");
});

Deno.test("discover fast mode asks in order and stops once confident", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const calls: SourceName[] = [];
  const sources = [
    fake("plan", () => [sighting("plan", "192.168.122.7")], calls),
    fake("arp", () => [sighting("arp", "192.168.122.7")], calls),
    fake("agent", () => {
      throw new SourceSkipped("the guest agent is not connected");
    }, calls),
    fake("lease", () => [sighting("lease", "192.168.122.7")], calls),
    fake("network-lease", () => [sighting("network-lease", "192.168.122.7")], calls),
  ];
  const result = await discover(dom, { mode: "fast", sourceImplementations: sources });
  assert.deepEqual(calls, ["lease"], "the lease alone is confident enough");
  assert.equal(result.best?.confidence, 0.8);
  assert.deepEqual(result.sources.map((s) => `${s.source}:${s.status}`), [
    "lease:ok",
    "agent:not-run",
    "network-lease:not-run",
    "arp:not-run",
    "plan:not-run",
  ]);
  calls.length = 0;
  const slow = await discover(dom, { mode: "fast", fastConfidence: 0.85, sourceImplementations: sources });
  assert.deepEqual(
    calls,
    ["lease", "agent", "network-lease", "arp", "plan"],
    "on the test driver lease + arp are one answer (0.8, not 0.9): only the plan adds to it",
  );
  assert.equal(slow.best?.confidence, 0.88);
});

Deno.test("AddressCache: hits, TTL expiry on an injected clock, invalidation by lifecycle", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  let now = 1_000_000;
  await using cache = new AddressCache({ ttlMs: 10_000, now: () => now, invalidateOnEvents: false });
  let asked = 0;
  const sources = [fake("lease", () => (asked++, [sighting("lease", "192.168.122.5")]))];
  const first = await discover(dom, { cache, sourceImplementations: sources });
  const second = await discover(dom, { cache, sourceImplementations: sources });
  assert.equal(asked, 1);
  assert.equal(first.cached, false);
  assert.equal(second.cached, true);
  assert.equal(second.best?.address, "192.168.122.5");
  now += 10_001;
  await discover(dom, { cache, sourceImplementations: sources });
  assert.equal(asked, 2, "expired after the TTL");
  cache.observe({
    kind: "lifecycle",
    uri: conn.uri,
    domain: { name: "test", uuid: dom.uuid },
    event: "suspended",
    detail: "paused",
    at: new Date(),
  });
  await discover(dom, { cache, sourceImplementations: sources });
  assert.equal(asked, 2, "a pause does not change addresses");
  cache.observe({
    kind: "lifecycle",
    uri: conn.uri,
    domain: { name: "test", uuid: dom.uuid },
    event: "started",
    detail: "booted",
    at: new Date(),
  });
  await discover(dom, { cache, sourceImplementations: sources });
  assert.equal(asked, 3, "a restart does");
  cache.observe({
    kind: "lifecycle",
    uri: conn.uri,
    domain: { name: "test", uuid: dom.uuid },
    event: "resumed",
    detail: "from-snapshot",
    at: new Date(),
  });
  cache.observe({ kind: "gap", uri: conn.uri, at: new Date() });
  assert.deepEqual(cache.stats(), { hits: 2, misses: 3, invalidations: 2, expirations: 1, entries: 0 });
});

Deno.test("AddressCache follows real lifecycle events: a destroyed and restarted domain loses its entry", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  await using cache = new AddressCache();
  await discover(dom, { cache });
  assert.equal((await discover(dom, { cache })).cached, true);
  try {
    await destroyDomain(dom);
  } finally {
    // the process's shared "test" domain: every later test expects it running
    await startDomain(dom, { ifNeeded: true });
  }
  const deadline = Date.now() + 2_000;
  while (cache.stats().entries > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(cache.stats().entries, 0);
  assert.ok(cache.stats().invalidations >= 1);
  assert.equal((await discover(dom, { cache })).cached, false);
});

Deno.test("waitForAddress resolves once a source sees the address, waking early", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  let round = 0;
  const found = await waitForAddress(dom, {
    pollMs: 10,
    sourceImplementations: [fake("lease", () => ++round < 4 ? [] : [sighting("lease", "192.168.122.5")])],
  });
  assert.equal(found.address.address, "192.168.122.5");
  assert.equal(found.rounds, 4);
});

Deno.test("waitForAddress: a timeout explains per NIC and per source what was seen", async () => {
  await using conn = await Connection.open("test:///default");
  using dom: Domain = await lookupDomain(conn, "test");
  const error = await waitForAddress(dom, {
    timeoutMs: 150,
    pollMs: 20,
    minConfidence: 0.6,
    sourceImplementations: [
      fake("lease", () => []),
      fake("agent", () => {
        throw new SourceSkipped("the guest agent is not connected");
      }),
      fake("arp", () => [sighting("arp", "192.168.122.5")]),
    ],
  }).catch((e) => e);
  assert.ok(error instanceof AddressTimeoutError);
  assert.ok(isTimeout(error));
  assert.match(
    error.message,
    /^Timed out after 150 ms \(\d+ rounds\) waiting for an address with confidence >= 0.6 of domain "test":/,
  );
  assert.match(error.message, /NIC aa:bb:cc:dd:ee:ff \(network default testnet0\):/);
  assert.match(error.message, /192\.168\.122\.5 from arp \[arp-only\]: confidence 0.5 < 0.6/);
  assert.match(error.message, /agent: skipped: the guest agent is not connected/);
  assert.equal(error.last?.nics[0].addresses[0].address, "192.168.122.5");
});

Deno.test("waitForAddress: an address outside the NIC's network does not qualify, and the timeout says why", async () => {
  await using conn = await Connection.open("test:///default");
  using dom: Domain = await lookupDomain(conn, "test");
  const error = await waitForAddress(dom, {
    timeoutMs: 150,
    pollMs: 20,
    sourceImplementations: [fake("lease", () => [sighting("lease", "10.9.9.9")])],
  }).catch((e) => e);
  assert.ok(error instanceof AddressTimeoutError, String(error));
  assert.match(
    error.message,
    /10\.9\.9\.9 from lease \[outside-subnet\]: confidence 0\.24 < 0\.5 \(lease 0\.8; outside 192\.168\.122\.0\/24, the subnet of network default: x0\.3 = 0\.24\)/,
  );
  assert.deepEqual(error.last?.nics[0].nic.subnets, ["192.168.122.0/24"], "read from the network's XML");
});

Deno.test("waitForAddress: abort rejects with the signal's reason; a NIC that does not exist is named", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const controller = new AbortController();
  const reason = new Error("stop");
  const waiting = waitForAddress(dom, {
    pollMs: 10,
    sourceImplementations: [fake("lease", () => [])],
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(reason), 30);
  await assert.rejects(() => waiting, (e) => e === reason);
  await assert.rejects(
    () =>
      waitForAddress(dom, {
        timeoutMs: 30,
        nic: "52:54:00:99:99:99",
        sourceImplementations: [fake("lease", () => [])],
      }),
    /the domain has no NIC with MAC 52:54:00:99:99:99 \(it has aa:bb:cc:dd:ee:ff\)/,
  );
});

Deno.test("discoverMany: two hosts, listed and named domains, progress, failures as entries", async () => {
  const node = await writeNodeFile(5, { prefix: "rng" });
  try {
    const progress: number[] = [];
    const entries = await discoverMany([
      { uri: `test://${node}` },
      { uri: "test:///default", domains: ["test", "missing"] },
    ], { concurrency: 3, onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(entries.map((e) => e.domain), [
      "rng-001",
      "rng-002",
      "rng-003",
      "rng-004",
      "rng-005",
      "test",
      "missing",
    ]);
    assert.ok(entries.slice(0, 6).every((e) => e.result?.best?.address.startsWith("192.168.122.")));
    assert.match(entries[6].error!.message, /Cannot look up domain "missing"/);
    assert.deepEqual(progress.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
  } finally {
    await Deno.remove(node);
  }
});

Deno.test("discoverMany: one domain on one host (no pool): result, progress, failures as entries", async () => {
  const progress: number[] = [];
  const [found] = await discoverMany([{ uri: "test:///default", domains: ["test"] }], {
    onProgress: (p) => progress.push(p.done, p.total),
  });
  assert.equal(found.result?.best?.address, "192.168.122.3");
  assert.deepEqual(progress, [1, 1]);
  const [missing] = await discoverMany([{ uri: "test:///default", domains: ["missing"] }]);
  assert.match(missing.error!.message, /Cannot look up domain "missing"/);
  const [unreachable] = await discoverMany([{ uri: "test:///nonexistent.xml", domains: ["test"] }]);
  assert.match(unreachable.error!.message, /Cannot open connection to "test:\/\/\/nonexistent\.xml"/);
});

Deno.test("scripts/vm_ip.ts: table, JSON, and exit codes", async () => {
  const script = `${REPO_ROOT}scripts/vm_ip.ts`;
  const found = await runDeno(
    denoChildArgs("run", "--allow-ffi", script, "test", "--uri", "test:///default"),
  );
  assert.equal(found.code, 0, found.stderr);
  assert.match(
    found.stdout,
    /^DOMAIN\s+HOST\s+MAC\s+ADDRESS\s+CONF\s+SOURCES\ntest\s+test:\/\/\/default\s+aa:bb:cc:dd:ee:ff\s+192\.168\.122\.3\s+0\.80\s+lease\+arp/,
  );
  const json = await runDeno(denoChildArgs(
    "run",
    "--allow-ffi",
    script,
    "--all",
    "--uri",
    "test:///default",
    "--json",
    "--wait",
    "--timeout",
    "5",
  ));
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout)[0].address, "192.168.122.3");
  const none = await runDeno(denoChildArgs(
    "run",
    "--allow-ffi",
    script,
    "test",
    "--uri",
    "test:///default",
    "--source",
    "plan",
  ));
  assert.equal(none.code, 1, "no address: exit 1");
  assert.match(none.stdout, /test aa:bb:cc:dd:ee:ff: plan: no planned address/);
  const unknown = await runDeno(
    denoChildArgs("run", "--allow-ffi", script, "nosuch", "--uri", "test:///default"),
  );
  assert.equal(unknown.code, 2);
  const usage = await runDeno(denoChildArgs("run", "--allow-ffi", script, "--source", "bogus", "x"));
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown source "bogus"/);
  const unreachable = await runDeno(denoChildArgs(
    "run",
    "--allow-ffi",
    script,
    "--all",
    "--uri",
    "qemu+tcp://127.0.0.1:1/system",
  ));
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stdout, /Connection refused/);
});
