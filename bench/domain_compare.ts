/**
 * Domain operations on 100 domains: this library (sequential, and 16 at once through a pool) versus
 * `virsh` subprocesses and libvirt-python, interleaved over rounds, against the test driver inside
 * libvirtd (a real RPC per call). Start/destroy pairs, state queries, and bulk statistics in one
 * call versus one call per domain.
 *
 * The per-operation table runs every contender as a process of its own (like libvirt-python and C
 * there), one connection, sequential: bench/clients/domain_python.py, bench/clients/domain_deno.ts
 * (library defaults, and `--lean`: blocking calls, no event loop, `states: false`), and the C client
 * for lookup+info. Each process times `--passes` passes over the 100 domains after `--warmup` untimed
 * ones (default 1; more shows the steady state, once V8 has compiled the hot paths) and
 * reports its fastest pass and its CPU time (user + system) per domain; the table gives the median
 * over rounds of both, with the spread, and their ratios to libvirt-python. The CPU column is what
 * each client spends itself, which the machine's other load disturbs far less than wall time.
 *
 *   deno run --allow-all bench/domain_compare.ts [--rounds 3] [--passes 3] [--warmup 1] [--only per-op|classic]
 *     [--baseline DIR]
 *
 * `--baseline DIR`: one more per-operation contender, the lean client of another checkout of this
 * repository (DIR/bench/clients/domain_deno.ts and its lib/, e.g. `git worktree add DIR main`), run
 * interleaved with the others: before/after numbers from one run, under the same load.
 *
 * One run of this table does not decide a 10% question on a shared machine (two identical copies
 * differed by up to 0.22: docs/benchmarks.md, "h11-perop2"). For a verdict use bench/perop_compare.ts
 * (paired rounds, an A/A control, confidence intervals); for the library's share above bare Deno FFI,
 * bench/perop_share.ts.
 *
 * @module
 */
import { parseArgs } from "node:util";
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

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    passes: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    only: { type: "string" },
    uri: { type: "string", default: "test+unix:///default" },
    baseline: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const passes = values.passes!;
const warmup = values.warmup!;
const count = 100;
const uri = values.uri!;
const keeper = await Connection.open(uri); // holds the daemon's shared test driver for every contender
const names = Array.from({ length: count }, (_, i) => `dombench-${String(i + 1).padStart(3, "0")}`);
for (const name of names) {
  (await defineDomain(
    keeper,
    `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>` +
      `<devices><interface type='network'><source network='default'/><mac address='52:54:00:77:${
        (Number(name.slice(-3)) >> 8).toString(16).padStart(2, "0")
      }:${(Number(name.slice(-3)) & 255).toString(16).padStart(2, "0")}'/></interface></devices></domain>`,
  )).free();
}
const here = new URL(".", import.meta.url).pathname;
await Deno.mkdir(`${here}.build`, { recursive: true });
const namesFile = `${here}.build/dombench_names.txt`;
await Deno.writeTextFile(namesFile, names.join("\n") + "\n");

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / count;
}

/** One per-operation sample: the fastest pass's wall time and the client's CPU time, ms per domain. */
interface Sample {
  wall: number;
  cpu?: number;
}

function sampleOf(stdout: Uint8Array): Sample {
  const record = JSON.parse(new TextDecoder().decode(stdout));
  return { wall: record.per_domain_ns / 1e6, cpu: record.cpu_ns_per_domain / 1e6 };
}

async function pythonSample(op: string, passCount = passes): Promise<Sample> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [`${here}clients/domain_python.py`, uri, namesFile, op, passCount, warmup],
    stdout: "piped",
  })
    .output();
  if (!out.success) throw new Error(`domain_python.py ${op} failed`);
  return sampleOf(out.stdout);
}

async function python(op: string): Promise<number> {
  return (await pythonSample(op, "1")).wall;
}

async function denoClient(op: string, lean: boolean, clients = `${here}clients/`): Promise<Sample> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${clients}domain_deno.ts`,
      uri,
      namesFile,
      op,
      ...(lean ? ["--lean"] : []),
      "--passes",
      passes,
      "--warmup",
      warmup,
    ],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`domain_deno.ts ${op} failed`);
  return sampleOf(out.stdout);
}

const cClient = `${here}.build/client`;
await new Deno.Command("gcc", {
  args: ["-O2", "-pthread", "-o", cClient, `${here}clients/client.c`, "-lvirt"],
})
  .output();
async function c(op: string): Promise<number> {
  const out = await new Deno.Command(cClient, {
    args: [
      "--uri",
      uri,
      "--op",
      op,
      "--iterations",
      String(count),
      "--warmup",
      "0",
      "--names-file",
      namesFile,
    ],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`client ${op} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).per_op_ns / 1e6;
}

async function virsh(commands: (name: string) => string[]): Promise<number> {
  const script = names.flatMap((n) => commands(n).map((c) => `virsh -q -c '${uri}' ${c} >/dev/null`)).join(
    "\n",
  );
  return await timed(async () => {
    const out = await new Deno.Command("sh", { args: ["-c", script] }).output();
    if (!out.success) throw new Error("virsh script failed");
  });
}

await using conn = await Connection.open(uri);
const handles: Domain[] = await Promise.all(names.map((n) => lookupDomain(conn, n)));
await using pool = new ConnectionPool(uri, { max: 16, min: 16 });
await pool.warm();
const pooled = (fn: (d: Domain) => Promise<unknown>) =>
  Promise.all(names.map((n) =>
    pool.use(async (c) => {
      using d = await lookupDomain(c, n);
      await fn(d);
    })
  ));

type Contender = [string, () => Promise<number | Sample>];
const perOp = (op: string, withC = false): Contender[] => [
  ["libvirt-python", () => pythonSample(op)],
  ...(withC ? [["C", () => c("lookup_info_many")] as Contender] : []),
  ["deno_libvirt, defaults", () => denoClient(op, false)],
  ["deno_libvirt, lean (blocking, no event loop, states: false)", () => denoClient(op, true)],
  ...(values.baseline === undefined ? [] : [[
    `deno_libvirt, lean, baseline ${values.baseline}`,
    () => denoClient(op, true, `${values.baseline}/bench/clients/`),
  ] as Contender]),
];
const perOpScenarios: Record<string, Contender[]> = {
  "per-op: lookup + info": perOp("lookup_info", true),
  "per-op: state": perOp("state"),
  "per-op: define + undefine": perOp("define_undefine"),
  "per-op: start + destroy": perOp("start_destroy"),
  "per-op: addresses (lease)": perOp("addresses"),
  "per-op: stats, one call per domain": perOp("stats_each"),
  "per-op: stats, one bulk call": perOp("stats_bulk"),
};
const allScenarios: Record<string, Contender[]> = {
  "start + destroy": [
    ["virsh start; virsh destroy (2 processes)", () => virsh((n) => [`start ${n}`, `destroy ${n}`])],
    ["libvirt-python, sequential", () => python("start_destroy")],
    ["deno_libvirt, sequential", () =>
      timed(async () => {
        for (const d of handles) {
          await startDomain(d);
          await destroyDomain(d);
        }
      })],
    ["deno_libvirt, 16 at once (pool)", () =>
      timed(() =>
        pooled(async (d) => {
          await startDomain(d);
          await destroyDomain(d);
        })
      )],
  ],
  "state query": [
    ["virsh domstate", () => virsh((n) => [`domstate ${n}`])],
    ["libvirt-python, sequential", () => python("state")],
    ["deno_libvirt, sequential", () =>
      timed(async () => {
        for (const d of handles) await d.state();
      })],
    ["deno_libvirt, 16 at once (pool, lookup included)", () => timed(() => pooled((d) => d.state()))],
  ],
  "statistics": [
    ["libvirt-python, one call per domain", () => python("stats_each")],
    ["libvirt-python, one bulk call", () => python("stats_bulk")],
    ["deno_libvirt, one call per domain", () =>
      timed(async () => {
        for (const d of handles) await domainStats(d);
      })],
    ["deno_libvirt, one bulk call", () => timed(() => allDomainStats(conn))],
  ],
};

const scenarios = values.only === "per-op"
  ? perOpScenarios
  : values.only === "classic"
  ? allScenarios
  : { ...allScenarios, ...perOpScenarios };
const samples = new Map<string, number[]>();
const cpuSamples = new Map<string, number[]>();
const loads: string[] = [await loadAverage()];
for (let r = 0; r < rounds; r++) {
  for (const [scenario, contenders] of Object.entries(scenarios)) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, run] = contenders[(i + r) % contenders.length];
      const key = `${scenario}|${name}`;
      const sample = await run();
      const wall = typeof sample === "number" ? sample : sample.wall;
      samples.set(key, [...(samples.get(key) ?? []), wall]);
      if (typeof sample !== "number" && sample.cpu !== undefined && !Number.isNaN(sample.cpu)) {
        cpuSamples.set(key, [...(cpuSamples.get(key) ?? []), sample.cpu]);
      }
    }
  }
  loads.push(await loadAverage());
  console.error(`round ${r + 1}/${rounds}, load ${loads.at(-1)}`);
}

async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
}
for (const d of handles) d.free();
for (const name of names) {
  using d = await lookupDomain(keeper, name);
  await undefineDomain(d);
}
await keeper.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
for (const [scenario, contenders] of Object.entries(scenarios)) {
  const base = median(samples.get(`${scenario}|${contenders[0][0]}`)!);
  const all = (name: string) => samples.get(`${scenario}|${name}`)!;
  console.log(`\n#### ${scenario}, ${count} domains over libvirtd, per domain\n`);
  if (scenario.startsWith("per-op")) {
    const cpu = (name: string) => cpuSamples.get(`${scenario}|${name}`);
    const cpuBase = median(cpu(contenders[0][0]) ?? [NaN]);
    const spread = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
    console.log(
      `| client | wall per domain, median | spread | × ${
        contenders[0][0]
      } | client CPU per domain | spread | × |\n` +
        `|---|---:|---:|---:|---:|---:|---:|`,
    );
    for (const [name] of contenders) {
      const m = median(all(name));
      const cpus = cpu(name);
      const cm = cpus ? median(cpus) : undefined;
      console.log(
        `| ${name} | ${fmt(m)} | ${spread(all(name))} | ${(m / base).toFixed(2)} | ${
          cm === undefined ? "" : fmt(cm)
        } | ${cpus ? spread(cpus) : ""} | ${cm === undefined ? "" : (cm / cpuBase).toFixed(2)} |`,
      );
    }
    continue;
  }
  console.log(`| client | per domain | vs ${contenders[0][0]} |\n|---|---:|---:|`);
  for (const [name] of contenders) {
    const m = median(all(name));
    console.log(`| ${name} | ${fmt(m)} | ${(base / m).toFixed(1)}× |`);
  }
}
console.log(`\nload average (1, 5, 15 min) before and after each round: ${loads.join(" | ")}`);
