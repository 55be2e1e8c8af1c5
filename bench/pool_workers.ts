/**
 * An alternative to the pool's nonblocking FFI calls, measured against bench/pool_floor.ts (and not
 * built into the library: docs/benchmarks.md, "Session h11-pool2"): lookup+info made as *blocking* FFI
 * calls inside Web Workers (bench/_pool_worker.ts, one connection each), the main thread handing each
 * request over through a SharedArrayBuffer (Atomics.notify) and waiting with Atomics.waitAsync, no
 * postMessage per call.
 *
 *   deno run --allow-all bench/pool_workers.ts [--uri test+unix:///default] [--inflight 16]
 *     [--iterations 4000] [--rounds 3] [--mode call|op]
 *
 * `--mode call`: one round trip to the worker per libvirt call (what a general mechanism under the
 * object layer would do; the main thread frees the domain). `--mode op`: one round trip per operation
 * (the worker does lookup, info and free): the bound for batching a whole operation off the main thread.
 * Prints one JSON line per round, as bench/pool_floor.ts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { processCpu, threadCpu } from "./_cpu.ts";

const { values } = parseArgs({
  options: {
    uri: { type: "string", default: "test+unix:///default" },
    inflight: { type: "string", default: "16" },
    iterations: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    mode: { type: "string", default: "call" },
    op: { type: "string", default: "lookup_info" },
  },
});
if (values.op !== "lookup_info") throw new TypeError(`--op ${values.op}: only lookup_info`);
if (values.mode !== "call" && values.mode !== "op") throw new TypeError(`--mode ${values.mode}: call or op`);
const inflight = Number(values.inflight);
const iterations = Number(values.iterations);
const perOp = values.mode === "op";
const lib = Deno.dlopen(
  "libvirt.so.0",
  { virDomainFree: { parameters: ["pointer"], result: "i32" } } as const,
);

const daemonPid = (() => {
  try {
    return Number(Deno.readTextFileSync("/run/libvirtd.pid").trim());
  } catch {
    return NaN;
  }
})();
const daemonCpu = () => Number.isFinite(daemonPid) ? processCpu(daemonPid) : NaN;

// Atomics.waitAsync alone does not keep Deno's event loop alive: without a timer the process exits
// with the waits pending
const keepAlive = setInterval(() => {}, 1 << 30);

interface Lane {
  slots: Int32Array<SharedArrayBuffer>;
  domain: BigInt64Array<SharedArrayBuffer>;
  seq: number;
}
async function until(slots: Int32Array<SharedArrayBuffer>, index: number, value: number): Promise<void> {
  while (true) {
    const now = Atomics.load(slots, index);
    if (now === value) return;
    const wait = Atomics.waitAsync(slots, index, now);
    if (wait.async) await wait.value;
  }
}
const lanes: Lane[] = [];
const workers: Worker[] = [];
for (let i = 0; i < inflight; i++) {
  const sab = new SharedArrayBuffer(24);
  const worker = new Worker(new URL("./_pool_worker.ts", import.meta.url), { type: "module" });
  worker.postMessage({ sab, uri: values.uri });
  workers.push(worker);
  lanes.push({ slots: new Int32Array(sab), domain: new BigInt64Array(sab, 16, 1), seq: 0 });
}
for (const lane of lanes) {
  await until(lane.slots, 1, -2); // -3: the worker could not open the URI (then this waits: see stderr)
}

function call(lane: Lane, op: number): Promise<void> {
  const seq = ++lane.seq;
  lane.slots[2] = op;
  Atomics.store(lane.slots, 0, seq);
  Atomics.notify(lane.slots, 0);
  return until(lane.slots, 1, seq);
}

async function run(count: number): Promise<number> {
  let next = 0;
  const drive = async (lane: Lane) => {
    while (next++ < count) {
      if (perOp) {
        await call(lane, 3);
      } else {
        await call(lane, 1);
        if (lane.domain[0] === 0n) throw new Error("lookup failed");
        await call(lane, 2);
        lib.symbols.virDomainFree(Deno.UnsafePointer.create(lane.domain[0]));
      }
      if (lane.slots[3] < 0) throw new Error("info failed");
    }
  };
  const started = performance.now();
  await Promise.all(lanes.map(drive));
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
    client: `workers-${values.mode}${inflight}`,
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
for (const lane of lanes) {
  Atomics.store(lane.slots, 0, -1);
  Atomics.notify(lane.slots, 0);
}
clearInterval(keepAlive);
for (const worker of workers) worker.terminate();
lib.close();
