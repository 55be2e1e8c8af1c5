/**
 * deno_libvirt side of bench/domain_compare.ts's per-operation table, the same work as
 * bench/clients/domain_python.py, over one connection, sequentially, in a process of its own:
 *
 *   deno run --allow-all bench/clients/domain_deno.ts URI NAMES_FILE OP [--lean] [--passes P] [--warmup W]
 *
 * OP as in domain_python.py. Default: the library's defaults (nonblocking calls, the event loop
 * running, lifecycle calls reading the state before and after). `--lean`: what a sequential script on
 * a local socket should ask for: `{ blocking: true, eventLoop: false }` at open and `{ states: false }`
 * on lifecycle calls. W (default 1) untimed passes, then P (default 1) timed passes. Prints the same record as
 * domain_python.py: {"client":"deno"|"deno-lean","op":OP,"domains":N,"passes":P,"total_ns":T,
 * "per_domain_ns":T/N,"passes_ns":[...],"cpu_ns_per_domain":C,"main_ns_per_domain":M,"other_ns_per_domain":O},
 * T the fastest pass, C the process's CPU time (getrusage: user + system, every thread) over the timed
 * passes, per domain; M and O the same split by thread (/proc/self/task schedstat): the main thread (the
 * calls of a blocking connection, JavaScript) and every other (Deno's pool: nonblocking calls; V8's
 * compiler and GC; libvirt's event loop); "median_lap_ns": the median over the timed passes of one
 * domain's time (for stats_bulk: the call's, per domain), which a moment of other load moves less;
 * `--no-laps` leaves the per-domain clock reads out (the record then has no median lap: null).
 *
 * @module
 */
import { allDomainStats } from "../../lib/stats.ts";
import { domainStats } from "../../lib/stats.ts";
import { Connection } from "../../lib/connection.ts";
import { defineDomain, destroyDomain, lookupDomain, startDomain, undefineDomain } from "../../lib/domain.ts";
import { threadCpu } from "../_cpu.ts";
import { countOption, printDomainRecord, processCpuNs } from "./_domain_record.ts";

const [uri, namesFile, op] = Deno.args;
const lean = Deno.args.includes("--lean");
const passes = countOption("--passes", 1);
const warmup = countOption("--warmup", 1);
const names = (await Deno.readTextFile(namesFile)).split("\n").map((n) => n.trim()).filter(Boolean);
const conn = await Connection.open(uri, lean ? { blocking: true, eventLoop: false } : {});
const doms = await Promise.all(names.map((n) => lookupDomain(conn, n)));
const states = lean ? { states: false } : {};
// the test driver answers addresses for running domains only
if (op === "addresses") { for (const d of doms) await startDomain(d, { states: false }); }
// per-domain latencies of the timed passes: `tick()` after each domain's work
const laps: number[] = [];
let lapStart = 0;
let timing = false;
function tick(): void {
  if (!timing) return;
  const now = performance.now();
  laps.push(now - lapStart);
  lapStart = now;
}
async function run(): Promise<void> {
  lapStart = performance.now();
  switch (op) {
    case "lookup_info":
      for (const n of names) {
        // lookupDomain by name always asks libvirt (only UUID lookups are cached)
        using d = await lookupDomain(conn, n);
        await d.info();
        tick();
      }
      break;
    case "state":
      for (const d of doms) {
        await d.state();
        tick();
      }
      break;
    case "define_undefine":
      for (const n of names) {
        using d = await defineDomain(
          conn,
          `<domain type='test'><name>${n}-x</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`,
        );
        await undefineDomain(d, states);
        tick();
      }
      break;
    case "start_destroy":
      for (const d of doms) {
        await startDomain(d, states);
        await destroyDomain(d, states);
        tick();
      }
      break;
    case "addresses":
      for (const d of doms) {
        await d.interfaceAddresses("lease");
        tick();
      }
      break;
    case "stats_bulk":
      await allDomainStats(conn);
      tick();
      break;
    case "stats_each":
      for (const d of doms) {
        await domainStats(d);
        tick();
      }
      break;
    default:
      console.error(`unknown op ${op}`);
      Deno.exit(2);
  }
}
for (let pass = 0; pass < warmup; pass++) await run(); // untimed: every contender is timed warm
const times: number[] = [];
const cpu0 = processCpuNs();
const threads0 = threadCpu();
timing = !Deno.args.includes("--no-laps"); // --no-laps: no clock read per domain (its cost, measured)
for (let pass = 0; pass < passes; pass++) {
  const t0 = performance.now();
  await run();
  times.push((performance.now() - t0) * 1e6);
}
timing = false;
const cpu = processCpuNs() - cpu0;
const threads1 = threadCpu();
if (op === "addresses") { for (const d of doms) await destroyDomain(d, { states: false }); }
for (const d of doms) d.free();
await conn.close();
printDomainRecord({
  client: lean ? "deno-lean" : "deno",
  op,
  domains: names.length,
  times,
  cpu,
  threads: [threads0, threads1],
  laps,
});
