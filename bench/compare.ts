/**
 * The side-by-side comparison: the same libvirt operations through this library, a C client compiled
 * on the spot, libvirt-python, and `virsh` subprocesses, in one run, interleaved round by round so
 * that drift of the machine hits every contender alike. Prints medians and ratios to C; with
 * `--write` also records the table in docs/benchmarks.md.
 *
 *   deno run --allow-all bench/compare.ts [--rounds 5] [--quick] [--write] [--only OP@WHERE,...]
 *
 * `--only lookup_info@libvirtd` runs just that scenario (without --write: a partial table).
 * `--socket PATH` talks to a libvirtd listening on PATH (`test+unix:///...?socket=PATH`).
 * `--baseline DIR` adds the deno pool contenders once more from another checkout of the library (e.g.
 * `git worktree add /tmp/base main`), interleaved with these: before/after in one run.
 *
 * Next to wall time per operation the table gives client CPU per operation where the client reports
 * it (C: the whole process; the deno clients and the bare-FFI floor, bench/pool_floor.ts: every thread,
 * the main thread's share in brackets) and libvirtd's CPU per operation (its threads' schedstat over
 * the client's timed loop, read by the client), when /run/libvirtd.pid names the daemon.
 *
 * Needs root's libvirtd (tests/integration/lab/lab.sh up), gcc + libvirt-dev, python3-libvirt.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Connection } from "../mod.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    write: { type: "boolean", default: false },
    only: { type: "string" },
    socket: { type: "string" },
    baseline: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const scale = values.quick ? 0.1 : 1;
const here = new URL(".", import.meta.url).pathname;
const buildDir = `${here}.build`;
const decoder = new TextDecoder();

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

// --- setup --------------------------------------------------------------------------------------
await Deno.mkdir(buildDir, { recursive: true });
await run("gcc", ["-O2", "-pthread", "-o", `${buildDir}/client`, `${here}clients/client.c`, "-lvirt"]);
const nodeFile = `${buildDir}/node100.xml`;
await run("/usr/bin/python3", [`${here}clients/make_node_xml.py`, "100", nodeFile]);
// test+unix:///default forgets its state when its last client leaves: hold it for the whole run.
const daemon = (uri: string) => values.socket ? `${uri}?socket=${values.socket}` : uri;
const keeper = await Connection.open(daemon("test+unix:///default"));

interface Scenario {
  op: "open_close" | "lookup_info" | "list_all";
  uri: string;
  where: string;
  iterations: number;
  virsh: string[];
}
const scenarios: Scenario[] = [
  { op: "open_close", uri: "test:///default", where: "in-process", iterations: 200, virsh: ["uri"] },
  {
    op: "open_close",
    uri: daemon("test+unix:///default"),
    where: "libvirtd",
    iterations: 200,
    virsh: ["uri"],
  },
  {
    op: "lookup_info",
    uri: "test:///default",
    where: "in-process",
    iterations: 200000,
    virsh: ["dominfo", "test"],
  },
  {
    op: "lookup_info",
    uri: daemon("test+unix:///default"),
    where: "libvirtd",
    // 8,000: a pool's run of 2,000 (~0.1 s) swung by 2x on the shared 2-core machine
    iterations: 8000,
    virsh: ["dominfo", "test"],
  },
  {
    op: "list_all",
    uri: `test://${nodeFile}`,
    where: "in-process",
    iterations: 500,
    virsh: ["list", "--all", "--name"],
  },
  {
    op: "list_all",
    uri: daemon(`test+unix://${nodeFile}`),
    where: "libvirtd",
    iterations: 300,
    virsh: ["list", "--all", "--name"],
  },
];

const only = values.only?.split(",");
if (only) {
  if (values.write) throw new TypeError("--only gives a partial table: do not combine it with --write");
  scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => only.includes(`${s.op}@${s.where}`)));
  if (scenarios.length === 0) {
    throw new TypeError(`--only ${values.only}: no such scenario (e.g. lookup_info@libvirtd)`);
  }
}

interface Contender {
  name: string;
  applies: (s: Scenario) => boolean;
  measure: (s: Scenario, n: number) => Promise<number>; // ns per operation
}

/** Client CPU per operation (ns) the last run of a contender reported, by sample key. */
const cpuReported = new Map<string, number[]>();
let lastCpu: number | undefined;
/** The main thread's share of it (deno clients) and libvirtd's CPU per operation over the timed loop. */
let lastMain: number | undefined;
let lastDaemon: number | undefined;
const mainReported = new Map<string, number[]>();
const clientArgs = (s: Scenario, n: number) => ["--uri", s.uri, "--op", s.op, "--iterations", String(n)];
const perOp = (json: string) => {
  const line = JSON.parse(json.trim().split("\n").at(-1)!);
  lastCpu = line.cpu_ns_per_op ??
    (line.cpu_main_ns_per_op === undefined ? undefined : line.cpu_main_ns_per_op + line.cpu_other_ns_per_op);
  lastMain = line.cpu_main_ns_per_op;
  lastDaemon = line.daemon_cpu_ns_per_op;
  return line.per_op_ns as number;
};
const denoRun = (script: string, args: string[]) =>
  run(Deno.execPath(), [
    "run",
    // the project's config and lockfile, and only what is cached: the lab's namespace has no network
    `--config=${here}../deno.json`,
    `--lock=${here}../deno.lock`,
    "--frozen",
    "--cached-only",
    "--allow-all",
    script,
    ...args,
  ]).then(perOp);
const deno = (mode: string, extra: string[] = [], root = `${here}..`) => (s: Scenario, n: number) =>
  denoRun(`${root}/bench/clients/client_deno.ts`, [...clientArgs(s, n), "--mode", mode, ...extra]);
const baseline = values.baseline;
const notOpen = (s: Scenario) => s.op !== "open_close";

const contenders: Contender[] = [
  {
    name: "C",
    applies: () => true,
    measure: (s, n) => run(`${buildDir}/client`, clientArgs(s, n)).then(perOp),
  },
  {
    name: "libvirt-python",
    applies: () => true,
    measure: (s, n) => run("/usr/bin/python3", [`${here}clients/client.py`, ...clientArgs(s, n)]).then(perOp),
  },
  ...[16, 32].map((threads): Contender => ({
    name: `C, ${threads} threads (a connection each)`,
    applies: (s) => notOpen(s) && s.where === "libvirtd",
    measure: (s, n) =>
      run(`${buildDir}/client`, [...clientArgs(s, n), "--concurrency", String(threads)]).then(perOp),
  })),
  { name: "deno sync", applies: () => true, measure: deno("sync") },
  { name: "deno async", applies: () => true, measure: deno("async") },
  { name: "deno pool, 16 in flight", applies: notOpen, measure: deno("pool", ["--inflight", "16"]) },
  { name: "deno pool, 32 in flight", applies: notOpen, measure: deno("pool", ["--inflight", "32"]) },
  {
    name: "deno pool, 32 in flight, no event loop",
    applies: (s) => notOpen(s) && s.where === "libvirtd",
    measure: deno("pool", ["--inflight", "32", "--no-event-loop"]),
  },
  {
    // the pool's connections on the event loop: what every pool did before the "auto" policy
    name: "deno pool, 32 in flight, eventLoop: true",
    applies: (s) => notOpen(s) && s.where === "libvirtd",
    measure: deno("pool", ["--inflight", "32", "--event-loop"]),
  },
  {
    // the same two calls as bare nonblocking FFI calls, no library: the floor under the pool's figure
    name: "bare nonblocking FFI, 16 in flight (bench/pool_floor.ts)",
    applies: (s) => s.op === "lookup_info" && s.where === "libvirtd",
    measure: (s, n) =>
      denoRun(`${here}pool_floor.ts`, [...clientArgs(s, n), "--inflight", "16", "--rounds", "1"]),
  },
  ...(baseline === undefined ? [] : [16, 32].map((inflight): Contender => ({
    name: `deno pool, ${inflight} in flight (baseline ${baseline})`,
    applies: notOpen,
    measure: deno("pool", ["--inflight", String(inflight)], baseline),
  }))),
  {
    name: "virsh subprocess",
    applies: () => true,
    measure: async (s, _n) => {
      const count = Math.max(3, Math.round(10 * scale));
      const started = performance.now();
      for (let i = 0; i < count; i++) await run("virsh", ["-q", "-c", s.uri, ...s.virsh]);
      return ((performance.now() - started) * 1e6) / count;
    },
  },
];

// --- measurement: rounds outermost, contender order rotated every round -------------------------
/** libvirtd's CPU per operation (ns) during each timed loop, by sample key. */
const daemonCpuPerOp = new Map<string, number[]>();
const samples = new Map<string, number[]>();
const key = (s: Scenario, c: Contender) => `${s.op}|${s.uri}|${c.name}`;
for (let round = 0; round < rounds; round++) {
  for (const scenario of scenarios) {
    const active = contenders.filter((c) => c.applies(scenario));
    const order = active.map((_, i) => active[(i + round) % active.length]);
    for (const contender of order) {
      const n = Math.max(10, Math.round(scenario.iterations * scale));
      lastCpu = lastMain = lastDaemon = undefined;
      const ns = await contender.measure(scenario, n);
      const k = key(scenario, contender);
      const add = (map: Map<string, number[]>, x: number | undefined) => {
        if (x !== undefined) map.set(k, [...map.get(k) ?? [], x]);
      };
      add(samples, ns);
      add(cpuReported, lastCpu);
      add(mainReported, lastMain);
      add(daemonCpuPerOp, lastDaemon);
    }
  }
  console.error(`round ${round + 1}/${rounds} done`);
}
await keeper.close();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ns: number) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;

// --- report --------------------------------------------------------------------------------------
const lines: string[] = [];
const results: Record<string, Record<string, number>> = {};
for (const scenario of scenarios) {
  const label = `${scenario.op} — ${scenario.where} (\`${scenario.uri.replace(nodeFile, "node100.xml")}\`)`;
  const c = median(samples.get(key(scenario, contenders[0]))!);
  lines.push(
    `\n#### ${label}\n`,
    "| client | median per op (min-max) | × C | client CPU per op (main thread) | libvirtd CPU per op |",
    "|---|---:|---:|---:|---:|",
  );
  results[label] = {};
  for (const contender of contenders.filter((x) => x.applies(scenario))) {
    const k = key(scenario, contender);
    const all = samples.get(k)!;
    const m = median(all);
    results[label][contender.name] = m;
    const cpu = cpuReported.get(k);
    const main = mainReported.get(k);
    const daemon = daemonCpuPerOp.get(k);
    lines.push(
      `| ${contender.name} | ${fmt(m)} (${fmt(Math.min(...all))}-${fmt(Math.max(...all))}) | ${
        (m / c).toFixed(2)
      } | ${cpu ? fmt(median(cpu)) : ""}${main ? ` (${fmt(median(main))})` : ""} | ${
        daemon ? fmt(median(daemon)) : ""
      } |`,
    );
  }
}

const goal = (text: string, ok: boolean) => lines.push(`- ${ok ? "met" : "**missed**"}: ${text}`);
const pick = (op: string, where: string) =>
  Object.entries(results).find(([k]) => k.startsWith(`${op} — ${where}`))?.[1];
lines.push("\n#### Goals\n");
if (!only) {
  const r = pick("lookup_info", "in-process")!;
  goal(
    `sync in-process lookup+info within 1.3× C: ${(r["deno sync"] / r["C"]).toFixed(2)}×`,
    r["deno sync"] / r["C"] <= 1.3,
  );
  for (const op of ["lookup_info", "list_all"]) {
    const d = pick(op, "libvirtd")!;
    const best = Math.min(d["deno pool, 16 in flight"], d["deno pool, 32 in flight"]);
    goal(
      `${op} over libvirtd, 16-32 in flight through the pool, at most 1.0× single-threaded C: ` +
        `${(d["deno pool, 16 in flight"] / d["C"]).toFixed(2)}× (16), ${
          (d["deno pool, 32 in flight"] / d["C"]).toFixed(2)
        }× (32)`,
      best / d["C"] <= 1.0,
    );
  }
}
{
  for (const op of ["lookup_info", "list_all"]) {
    const d = pick(op, "libvirtd");
    if (!d) continue;
    const c32 = d["C, 32 threads (a connection each)"];
    const best = Math.min(d["deno pool, 16 in flight"], d["deno pool, 32 in flight"]);
    goal(
      `${op} over libvirtd, the pool at 16-32 in flight within 1.3× a 32-thread C client: ` +
        `${(d["deno pool, 16 in flight"] / c32).toFixed(2)}× (16), ${
          (d["deno pool, 32 in flight"] / c32).toFixed(2)
        }× (32)`,
      best / c32 <= 1.3,
    );
    const floor = d["bare nonblocking FFI, 16 in flight (bench/pool_floor.ts)"];
    if (floor !== undefined) {
      lines.push(
        `- for reference: the same calls as bare nonblocking FFI calls (no library), 16 in flight: ${
          (floor / c32).toFixed(2)
        }× the 32-thread C client (the floor of Deno's nonblocking FFI)`,
      );
    }
  }
}
if (!only) {
  for (const [label, r] of Object.entries(results)) {
    if (label.startsWith("open_close")) continue;
    const speedup = r["virsh subprocess"] / r["deno async"];
    goal(
      `${label}: async per op ${speedup.toFixed(0)}× faster than a virsh subprocess (goal 50×)`,
      speedup >= 50,
    );
  }
}
const report = lines.join("\n");
console.log(report);

if (values.write) {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
  const libvirtVersion = (await run("virsh", ["-c", "test:///default", "version", "--daemon"])).match(
    /library: libvirt ([\d.]+)/,
  )?.[1];
  const header = `# Benchmarks

Recorded by \`deno task compare --write\` (bench/compare.ts) on ${new Date().toISOString().slice(0, 10)}: ` +
    `${navigator.hardwareConcurrency} cores (${cpu}), Debian ${
      (await Deno.readTextFile("/etc/debian_version")).trim()
    }, ` +
    `libvirt ${libvirtVersion}, Deno ${Deno.version.deno}, ${rounds} interleaved rounds, medians.

Every contender runs as its own process with the same contract (bench/clients/README.md) and times only
its loop. "in-process" is libvirt's test driver inside the client; "libvirtd" is the same driver inside
the daemon, over its UNIX socket (a real RPC per call). \`list_all\` lists 101 domains from a node file.
"deno sync" blocks the isolate (fine for in-process drivers); "deno async" is one nonblocking call in
flight; "deno pool" runs that many operations at once, one per connection. "no event loop" is the same
pool in a process that called \`setEventLoopEnabled(false)\` (no keepalive, no events): libvirt's
remote client wakes the event-loop thread twice per RPC, which the 2-core machine feels. The pools
open local URIs without the loop by default (\`eventLoop: "auto"\`); "eventLoop: true" is the same pool
with its connections on the loop, as every pool was before that policy.
`;
  await Deno.writeTextFile(new URL("../docs/benchmarks.md", import.meta.url), header + report + "\n");
  console.error("wrote docs/benchmarks.md");
}
