// deno bench: domain lifecycle, state queries and statistics for 100 domains on the test driver inside
// libvirtd (test+unix:///default; every call is an RPC), sequentially on one connection versus
// concurrently through a ConnectionPool, and bulk statistics in one call versus one call per domain.
// Needs the lab's libvirtd (tests/integration/lab/lab.sh up). The comparison with virsh and
// libvirt-python lives in bench/compare.ts.
import {
  allDomainStats,
  Connection,
  ConnectionPool,
  defineDomain,
  destroyDomain,
  type Domain,
  domainStats,
  lookupDomain,
  startDomain,
  undefineDomain,
} from "../mod.ts";

const URI = "test+unix:///default";
const COUNT = 100;
const prefix = `bench-dom-${Deno.pid}`;
const keeper = await Connection.open(URI); // the daemon's test driver forgets everything without a client
const conn = await Connection.open(URI);
const pool = new ConnectionPool(URI, { min: 8, max: 8 });
await pool.warm();
const names = Array.from({ length: COUNT }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
const domains: Domain[] = [];
for (const name of names) {
  domains.push(
    await defineDomain(
      conn,
      `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
    ),
  );
}

Deno.bench(
  "start+destroy x100, sequential, one connection",
  { group: "lifecycle", baseline: true },
  async () => {
    for (const d of domains) {
      await startDomain(d);
      await destroyDomain(d);
    }
  },
);
Deno.bench("start+destroy x100, concurrent, 8-connection pool", { group: "lifecycle" }, async () => {
  await Promise.all(names.map((name) =>
    pool.use(async (c) => {
      using d = await lookupDomain(c, name);
      await startDomain(d);
      await destroyDomain(d);
    })
  ));
});

Deno.bench("state x100, sequential, one connection", { group: "state", baseline: true }, async () => {
  for (const d of domains) await d.state();
});
Deno.bench(
  "state x100, concurrent, 8-connection pool (lookup by name each)",
  { group: "state" },
  async () => {
    await Promise.all(names.map((name) =>
      pool.use(async (c) => {
        using d = await lookupDomain(c, name);
        await d.state();
      })
    ));
  },
);

Deno.bench(
  "stats of 100 domains, one virConnectGetAllDomainStats call",
  { group: "stats", baseline: true },
  async () => {
    const records = await allDomainStats(conn);
    if (records.length < COUNT) throw new Error(`only ${records.length} records`);
  },
);
Deno.bench("stats of 100 domains, one domainStats call each", { group: "stats" }, async () => {
  for (const d of domains) await domainStats(d);
});
Deno.bench(
  "stats of 100 domains, one domainStats call each, 8-connection pool",
  { group: "stats" },
  async () => {
    await Promise.all(names.map((name) =>
      pool.use(async (c) => {
        using d = await lookupDomain(c, name);
        await domainStats(d);
      })
    ));
  },
);

globalThis.addEventListener("unload", () => {
  // best effort: the daemon's test driver drops these anyway once its last client disconnects
  void (async () => {
    for (const d of domains) {
      await undefineDomain(d).catch(() => {});
      d.free();
    }
    await Promise.all([pool.close(), conn.close(), keeper.close()]);
  })();
});
