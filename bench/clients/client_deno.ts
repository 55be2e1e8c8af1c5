// The Deno FFI client of the comparison (bench/compare.ts), with the same contract as client.c and
// client.py (bench/clients/README.md), plus a mode:
//   --mode sync    synchronous FFI on the main thread (in-process drivers' fast path)
//   --mode async   nonblocking FFI, one call in flight
//   --mode pool    nonblocking FFI through a ConnectionPool with --inflight operations in flight
import { parseArgs } from "node:util";
import {
  Connection,
  ConnectionPool,
  listAllDomains,
  listAllDomainsSync,
  lookupDomain,
  lookupDomainSync,
  setEventLoopEnabled,
} from "../../mod.ts";
import { processCpu, type ThreadCpu, threadCpu } from "../_cpu.ts";

const { values } = parseArgs({
  options: {
    uri: { type: "string" },
    op: { type: "string" },
    iterations: { type: "string" },
    warmup: { type: "string" },
    mode: { type: "string", default: "async" },
    inflight: { type: "string", default: "1" },
    concurrency: { type: "string", default: "1" },
    "no-event-loop": { type: "boolean", default: false },
    // --mode pool: open the pool's connections with the event loop (eventLoop: true) instead of the
    // pool's default policy ("auto": no loop for a local URI)
    "event-loop": { type: "boolean", default: false },
  },
});
const uri = values.uri!;
const op = values.op!;
const iterations = Number(values.iterations);
const warmup = values.warmup === undefined ? Math.max(1, Math.floor(iterations / 10)) : Number(values.warmup);
const mode = values.mode!;
const inflight = Number(values.inflight);
if (!uri || !op || !(iterations > 0) || !["sync", "async", "pool"].includes(mode)) {
  console.error(
    "usage: client_deno.ts --uri URI --op OP --iterations N [--warmup W] [--mode sync|async|pool] [--inflight N]",
  );
  Deno.exit(2);
}

if (values["no-event-loop"]) setEventLoopEnabled(false);
let domains = 0;

async function run(count: number): Promise<void> {
  if (mode === "pool") {
    await using pool = new ConnectionPool(uri, {
      max: inflight,
      min: inflight,
      ...(values["event-loop"] ? { eventLoop: true } : {}),
    });
    await pool.warm();
    const step = op === "lookup_info"
      ? (c: Connection) => lookupDomain(c, "test").then(async (d) => (await d.info(), d.free()))
      : (c: Connection) => listAllDomains(c).then((ds) => (domains = ds.length, ds.forEach((d) => d.free())));
    let next = 0;
    const worker = async () => {
      while (next++ < count) await pool.use(step);
    };
    const started = mark();
    await Promise.all(Array.from({ length: inflight }, worker));
    report(started, count);
    return;
  }
  if (op === "open_close") {
    const t = mark();
    for (let i = 0; i < count; i++) {
      if (mode === "sync") Connection.openSync(uri).closeSync();
      else await (await Connection.open(uri)).close();
    }
    report(t, count);
    return;
  }
  const conn = mode === "sync" ? Connection.openSync(uri) : await Connection.open(uri);
  const started = mark();
  if (mode === "sync") {
    if (op === "lookup_info") {
      for (let i = 0; i < count; i++) {
        const d = lookupDomainSync(conn, "test");
        d.infoSync();
        d.free();
      }
    } else {
      for (let i = 0; i < count; i++) {
        const ds = listAllDomainsSync(conn);
        domains = ds.length;
        for (const d of ds) d.free();
      }
    }
  } else {
    if (op === "lookup_info") {
      for (let i = 0; i < count; i++) {
        const d = await lookupDomain(conn, "test");
        await d.info();
        d.free();
      }
    } else {
      for (let i = 0; i < count; i++) {
        const ds = await listAllDomains(conn);
        domains = ds.length;
        for (const d of ds) d.free();
      }
    }
  }
  report(started, count);
  await conn.close();
}

let measuring = false;
// libvirtd's threads' CPU (bench/compare.ts runs the daemon as root, its pid in /run/libvirtd.pid)
const daemonPid = (() => {
  try {
    return Number(Deno.readTextFileSync("/run/libvirtd.pid").trim());
  } catch {
    return NaN;
  }
})();
const daemonCpu = () => Number.isFinite(daemonPid) ? processCpu(daemonPid) : NaN;

interface Mark {
  at: number;
  cpu: ThreadCpu;
  daemon: number;
}
/** Where the timed loop starts: the clock, this process's threads' CPU, libvirtd's. */
function mark(): Mark {
  return { cpu: threadCpu(), daemon: daemonCpu(), at: performance.now() };
}

function report(start: Mark, count: number): void {
  const ms = performance.now() - start.at;
  const cpu = threadCpu();
  const daemon = daemonCpu() - start.daemon;
  if (!measuring) return;
  const total = Math.round(ms * 1e6);
  const cpuBefore = start.cpu;
  console.log(JSON.stringify({
    client: `deno-${mode}${mode === "pool" ? inflight : ""}${values["no-event-loop"] ? "-noloop" : ""}${
      values["event-loop"] ? "-loop" : ""
    }`,
    op,
    uri,
    iterations: count,
    total_ns: total,
    per_op_ns: Number((total / count).toFixed(3)),
    ...(op === "list_all" ? { domains } : {}),
    // the process's CPU per operation: the main (JavaScript) thread, and every other thread
    cpu_main_ns_per_op: Math.round((cpu.main - cpuBefore.main) / count),
    cpu_other_ns_per_op: Math.round((cpu.other - cpuBefore.other) / count),
    ...(Number.isFinite(daemon) ? { daemon_cpu_ns_per_op: Math.round(daemon / count) } : {}),
  }));
}

if (warmup > 0) await run(warmup);
measuring = true;
await run(iterations);
