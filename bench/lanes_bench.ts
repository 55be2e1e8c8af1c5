/**
 * WorkerLanes (lib/lanes/worker_lanes.ts) on the pool benchmark's operation: lookup+info+free
 * (tests/fixtures/lane_ops.ts `lookupInfo`, the library's own lookupDomain and Domain.info on each
 * worker's blocking connection), N operations in flight on N workers. Same output contract as
 * bench/pool_floor.ts and bench/pool_workers.ts, so that bench/compare.ts and throwaway runners can
 * put it next to the 32-thread C client and the floor (docs/benchmarks.md, "Session h11-pool3").
 *
 *   deno run --allow-all bench/lanes_bench.ts [--uri test+unix:///default] [--inflight 16]
 *     [--iterations 4000] [--rounds 3] [--sync]
 *
 * `--sync` runs `lookupInfoSync` (the `...Sync` API) instead of the promise-returning one.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { WorkerLanes } from "../mod.ts";
import type ops from "../tests/fixtures/lane_ops.ts";
import { processCpu, threadCpu } from "./_cpu.ts";

const { values } = parseArgs({
  options: {
    uri: { type: "string", default: "test+unix:///default" },
    inflight: { type: "string", default: "16" },
    iterations: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    sync: { type: "boolean", default: false },
    op: { type: "string", default: "lookup_info" },
  },
});
if (values.op !== "lookup_info") throw new TypeError(`--op ${values.op}: only lookup_info`);
const inflight = Number(values.inflight);
const iterations = Number(values.iterations);
const operation = values.sync ? "lookupInfoSync" : "lookupInfo";

const daemonPid = (() => {
  try {
    return Number(Deno.readTextFileSync("/run/libvirtd.pid").trim());
  } catch {
    return NaN;
  }
})();
const daemonCpu = () => Number.isFinite(daemonPid) ? processCpu(daemonPid) : NaN;

await using lanes = await WorkerLanes.open<typeof ops>(
  new URL("../tests/fixtures/lane_ops.ts", import.meta.url),
  values.uri!,
  { workers: inflight },
);

async function run(count: number): Promise<number> {
  let next = 0;
  const drive = async () => {
    while (next++ < count) await lanes.run(operation, ["test"]);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inflight }, drive));
  return performance.now() - started;
}

await run(Math.max(inflight * 4, iterations / 10));
for (let round = 0; round < Number(values.rounds); round++) {
  const daemonBefore = daemonCpu();
  const before = threadCpu();
  const ms = await run(iterations);
  const after = threadCpu();
  const daemon = daemonCpu() - daemonBefore;
  console.log(JSON.stringify({
    client: `lanes${inflight}${values.sync ? "-sync" : ""}`,
    op: "lookup_info",
    uri: values.uri,
    iterations,
    per_op_ns: Math.round(ms * 1e6 / iterations),
    cpu_main_ns_per_op: Math.round((after.main - before.main) / iterations),
    cpu_other_ns_per_op: Math.round((after.other - before.other) / iterations),
    ...(Number.isFinite(daemon) ? { daemon_cpu_ns_per_op: Math.round(daemon / iterations) } : {}),
    load: Deno.loadavg()[0],
  }));
}
