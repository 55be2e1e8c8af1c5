#!/usr/bin/env -S deno run --allow-ffi --allow-env=DENO_LIBVIRT_PATH --allow-read
/**
 * The demo: opens libvirt's embedded test hypervisor through a connection pool, lists its domains
 * concurrently, and prints them with the pool's statistics. Needs nothing but libvirt0.
 *
 *   deno run --allow-ffi --allow-env=DENO_LIBVIRT_PATH --allow-read scripts/demo.ts [--uri URI] [--json]
 *
 * Exit codes: 0 done; 1 the hypervisor or a call failed; 2 usage error.
 *
 * @module
 */
import { type Cli, startCli } from "./_cli.ts";
import { ConnectionPool, listAllDomains, lookupDomain } from "../mod.ts";

const cli: Cli = startCli({
  name: "demo",
  usage:
    "usage: demo.ts [--uri URI] [--json]   (default test:///default, libvirt's embedded test hypervisor)\n" +
    "  --json: the hypervisor, the domains and the pool's statistics as one JSON document",
  options: { uri: { type: "string", default: "test:///default" } },
});
const uri = cli.values.uri as string;
if (uri === "") cli.usageError("--uri needs a URI, e.g. --uri test:///default");
const json = cli.json;
/** Prints a line of the text report (nothing with --json: stdout is the JSON document). */
const say = (line: string) => {
  if (!json) console.log(line);
};

const started = performance.now();
try {
  await using pool = new ConnectionPool(uri, { min: 2, max: 4 });
  await pool.warm();
  const hypervisor = await pool.use(async (conn) => ({
    type: await conn.hypervisorType(),
    libvirt: (await conn.libVersion()).text,
    host: await conn.hostname(),
  }), { idempotent: true });
  say(`${uri}: ${hypervisor.type} hypervisor on ${hypervisor.host}, libvirt ${hypervisor.libvirt}`);

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
  if (!json) console.table(rows);

  const stats = pool.stats();
  say(
    `pool: ${stats.opened} connections opened, ${stats.reused} reuses, ${stats.operations} operations, ` +
      `latency p50 ${stats.latencyMs.p50.toFixed(3)} ms, p95 ${stats.latencyMs.p95.toFixed(3)} ms, ` +
      `errors ${JSON.stringify(stats.errorsByCode)}`,
  );
  const report = await pool.close();
  const tookMs = performance.now() - started;
  say(
    `closed ${report.closed} connections, ${report.remainingReferences} libvirt references left; ` +
      `${tookMs.toFixed(1)} ms in all`,
  );
  if (json) {
    console.log(JSON.stringify(
      {
        uri,
        hypervisor,
        domains: rows,
        pool: { opened: stats.opened, reused: stats.reused, operations: stats.operations },
        closed: report.closed,
        remainingReferences: report.remainingReferences,
        tookMs,
      },
      null,
      2,
    ));
  }
} catch (error) {
  // the command line was fine: the hypervisor or a call failed (no usage text; JSON with --json)
  cli.fail(error, 1);
}
