#!/usr/bin/env -S deno run --allow-ffi --allow-env=DENO_LIBVIRT_PATH --allow-read
/**
 * The demo: opens libvirt's embedded test hypervisor through a connection pool, lists its domains
 * concurrently, and prints them with the pool's statistics. Needs nothing but libvirt0.
 *
 *   deno run --allow-ffi --allow-env=DENO_LIBVIRT_PATH --allow-read scripts/demo.ts [--uri URI]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ConnectionPool, listAllDomains, lookupDomain } from "../mod.ts";

const { values } = parseArgs({
  options: { uri: { type: "string", default: "test:///default" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log("usage: demo.ts [--uri URI]   (default test:///default, libvirt's embedded test hypervisor)");
  Deno.exit(0);
}

const started = performance.now();
await using pool = new ConnectionPool(values.uri!, { min: 2, max: 4 });
await pool.warm();
const hypervisor = await pool.use(async (conn) => ({
  type: await conn.hypervisorType(),
  libvirt: (await conn.libVersion()).text,
  host: await conn.hostname(),
}), { idempotent: true });
console.log(
  `${values.uri}: ${hypervisor.type} hypervisor on ${hypervisor.host}, libvirt ${hypervisor.libvirt}`,
);

// One listing, then every domain's info looked up concurrently through the pool.
const names = await pool.use(async (conn) => {
  const domains = await listAllDomains(conn);
  try {
    return domains.map((d) => d.name);
  } finally {
    for (const d of domains) d.free();
  }
}, { idempotent: true });

const rows = await Promise.all(names.map((name) =>
  pool.use(async (conn) => {
    using domain = await lookupDomain(conn, name);
    const info = await domain.info();
    return {
      name,
      id: domain.id ?? "-",
      state: info.state,
      vcpus: info.vcpus,
      memoryMiB: info.memoryKiB / 1024,
    };
  }, { idempotent: true })
));
console.table(rows);

const stats = pool.stats();
console.log(
  `pool: ${stats.opened} connections opened, ${stats.reused} reuses, ${stats.operations} operations, ` +
    `latency p50 ${stats.latencyMs.p50.toFixed(3)} ms, p95 ${stats.latencyMs.p95.toFixed(3)} ms, ` +
    `errors ${JSON.stringify(stats.errorsByCode)}`,
);
const report = await pool.close();
console.log(
  `closed ${report.closed} connections, ${report.remainingReferences} libvirt references left; ` +
    `${(performance.now() - started).toFixed(1)} ms in all`,
);
