/**
 * Per operation, sequential, one connection: this library's lean client against libvirt-python, with a
 * verdict that one run can decide. Issue 11's goal is "each operation within 1.1x of python"; on a
 * shared 2-core machine a single pair of processes differs by 20% for the same code, so this script
 * does not compare two numbers but estimates a ratio with its uncertainty:
 *
 * - **Paired, interleaved rounds.** Every round runs every contender once per operation, each as a
 *   process of its own (bench/clients/domain_python.py, bench/clients/domain_deno.ts `--lean`), in an
 *   order shuffled per round and operation (seeded), so load that comes and goes hits all alike. The
 *   ratio is taken per round (ours / python from the same minute), then summarised.
 * - **An A/A control in every run.** A byte-identical copy of this checkout's library at another path
 *   (bench/.build/perop_trees/aa) runs as one more contender. Its ratio to ours must come out 1.00 with
 *   a confidence interval inside +-5%: that is the run's own proof that it resolves a 10% question.
 *   (Deno compiles the copy apart: its own module cache entries, its own V8 work.)
 * - **Medians with a distribution-free 95% confidence interval.** Per operation and contender the median
 *   of the per-round ratios, and the order-statistic interval of that median (the sign test's: for n
 *   rounds the k-th smallest and k-th largest ratio, k the largest with P(Binomial(n, 1/2) < k) <= 2.5%;
 *   n = 15 gives the 4th and 12th, n = 21 the 6th and 16th). Verdict per operation: **met** when the
 *   interval's upper end is <= the goal, **missed** when its lower end is above it, else **undecided**
 *   (run more rounds). The verdict says so when the run's own A/A control does not back it: the
 *   copies' interval excludes 1, or is wider than +-5%.
 * - **Wall and CPU per thread.** Wall, two ways: "lap", each process's median over its timed passes of
 *   one domain's time (a moment of other load moves a few laps, not the median; the verdict's number),
 *   and "pass", its fastest of `--passes` timed passes over the 100 domains (after `--warmup` untimed
 *   ones; what bench/domain_compare.ts reports). CPU over the timed passes, per domain, from
 *   /proc/self/task/<tid>/schedstat: the client's main thread (where a blocking connection's calls and
 *   all JavaScript run) and its other threads (V8's compiler and GC, Deno's pool), and libvirtd's CPU
 *   over the whole process (/proc/<pid>/task), so a difference in the daemon's work shows.
 * - `--pin CPUS` runs every client under `taskset -c CPUS` (libvirtd is left where it is).
 *
 * Run it under the lab lock, against the lab's libvirtd (the default URI):
 *
 *   timeout 900 flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
 *     deno run --allow-all bench/perop_compare.ts [--rounds 80] [--ops state,addresses,...] [--passes 3]
 *     [--warmup 1] [--baseline DIR] [--no-aa] [--bare] [--pin 1] [--extra LABEL=ARGS]... [--goal 1.1] [--seed 1]
 *     [--json OUT.json] [--uri test+unix:///default] [--daemon-pid PID]
 *
 * - `--ops`: any of lookup_info, state, define_undefine, start_destroy, addresses, stats_each,
 *   stats_bulk (default: the first six, issue 11's).
 * - `--baseline DIR`: one more contender, the library of another checkout (DIR/lib, DIR/mod.ts) run by
 *   this checkout's client, so before/after come from one run under the same load.
 * - `--bare`: one more contender, bench/clients/domain_bare.ts: the same work in bare Deno.dlopen calls, no
 *   library (Deno's own floor; the lean client's time above it is the library's).
 * - `--extra LABEL=ARGS`: one more contender, this library with more client arguments (e.g.
 *   `--extra nolaps=--no-laps`), to compare a mode against the lean default in the same run.
 * - `--json`: every sample, for another analysis.
 *
 * How many rounds: on the project's shared 2-core machine at load 2-10 the A/A control's interval was
 * +-6-14% at 25 rounds, +-3-9% at 40 and +-4-6.5% at 80 (docs/benchmarks.md, "Session h11-perop3"), so the
 * default is 80: with the six operations and three contenders ~5 minutes, under the
 * lock's timeout; with more contenders, split `--ops` over runs. The first `--warm-rounds` (default 1)
 * rounds are run and dropped (module caches, page cache).
 * 100 domains `perop-NNN` are defined at the start and undefined at the end (a keeper connection holds the
 * daemon's test driver meanwhile).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Connection, defineDomain, lookupDomain, undefineDomain } from "../mod.ts";
import { processCpu } from "./_cpu.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "80" },
    "warm-rounds": { type: "string", default: "1" },
    ops: { type: "string", default: "lookup_info,state,define_undefine,start_destroy,addresses,stats_each" },
    passes: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    baseline: { type: "string" },
    "no-aa": { type: "boolean", default: false },
    bare: { type: "boolean", default: false },
    pin: { type: "string" },
    extra: { type: "string", multiple: true, default: [] },
    goal: { type: "string", default: "1.1" },
    seed: { type: "string", default: "1" },
    json: { type: "string" },
    uri: { type: "string", default: "test+unix:///default" },
    "daemon-pid": { type: "string" },
  },
});
const rounds = Number(values.rounds);
const warmRounds = Number(values["warm-rounds"]);
const ops = values.ops!.split(",").map((s) => s.trim()).filter(Boolean);
const goal = Number(values.goal);
const uri = values.uri!;
const count = 100;
const here = new URL(".", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const build = `${here}.build`;
await Deno.mkdir(build, { recursive: true });

function daemonPid(): number {
  if (values["daemon-pid"] !== undefined) return Number(values["daemon-pid"]);
  try {
    return Number(Deno.readTextFileSync("/run/libvirtd.pid").trim());
  } catch {
    return NaN;
  }
}
const daemon = daemonPid();

// --- the contenders ---------------------------------------------------------------------------------

/** A tree to run: a directory holding lib/, mod.ts and this checkout's client (bench/clients/domain_deno.ts). */
async function prepareTree(label: string, from: string): Promise<string> {
  const dir = `${build}/perop_trees/${label}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${dir}/bench/clients`, { recursive: true });
  const copy = async (src: string, dst: string) => {
    const out = await new Deno.Command("cp", { args: ["-r", src, dst] }).output();
    if (!out.success) throw new Error(`cp ${src} ${dst} failed`);
  };
  await copy(`${from}/lib`, `${dir}/lib`);
  await copy(`${from}/mod.ts`, `${dir}/mod.ts`);
  await copy(`${from}/deno.json`, `${dir}/deno.json`);
  await copy(`${from}/deno.lock`, `${dir}/deno.lock`); // the same npm versions, from the warm cache
  // the client and what it imports from bench/ (a new import here must be copied too)
  await copy(`${root}/bench/clients/domain_deno.ts`, `${dir}/bench/clients/domain_deno.ts`);
  await copy(`${root}/bench/clients/_domain_record.ts`, `${dir}/bench/clients/_domain_record.ts`);
  await copy(`${root}/bench/_cpu.ts`, `${dir}/bench/_cpu.ts`);
  return dir;
}

interface Contender {
  label: string;
  argv: (op: string) => string[];
}

const pinned = (argv: string[]) => values.pin === undefined ? argv : ["taskset", "-c", values.pin, ...argv];
const namesFile = `${build}/perop_names.txt`;
const passes = values.passes!;
const warmup = values.warmup!;
const deno = (tree: string, extra: string[] = []) => (op: string) =>
  pinned([
    Deno.execPath(),
    "run",
    "--allow-all",
    `${tree}/bench/clients/domain_deno.ts`,
    uri,
    namesFile,
    op,
    "--lean",
    "--passes",
    passes,
    "--warmup",
    warmup,
    ...extra,
  ]);
const contenders: Contender[] = [
  {
    label: "python",
    argv: (op) =>
      pinned([
        "/usr/bin/python3",
        `${root}/bench/clients/domain_python.py`,
        uri,
        namesFile,
        op,
        passes,
        warmup,
      ]),
  },
  { label: "ours", argv: deno(root) },
];
if (!values["no-aa"]) contenders.push({ label: "aa", argv: deno(await prepareTree("aa", root)) });
if (values.bare) {
  contenders.push({
    label: "bare",
    argv: (op) =>
      pinned([
        Deno.execPath(),
        "run",
        "--allow-all",
        `${root}/bench/clients/domain_bare.ts`,
        uri,
        namesFile,
        op,
        "--passes",
        passes,
        "--warmup",
        warmup,
      ]),
  });
}
if (values.baseline !== undefined) {
  contenders.push({ label: "baseline", argv: deno(await prepareTree("baseline", values.baseline)) });
}
for (const spec of values.extra!) {
  const at = spec.indexOf("=");
  if (at < 1) throw new Error(`--extra wants LABEL=ARGS, got ${JSON.stringify(spec)}`);
  contenders.push({
    label: spec.slice(0, at),
    argv: deno(root, spec.slice(at + 1).split(" ").filter(Boolean)),
  });
}

// --- one sample ----------------------------------------------------------------------------------------

/** One process's numbers: ms per domain (wall: the fastest pass; CPU: over the timed passes). */
interface Sample {
  /** The median over the timed passes of one domain's time. */
  lap: number;
  /** The fastest pass, per domain. */
  wall: number;
  cpu: number;
  main: number;
  other: number;
  daemon: number;
}

async function sample(c: Contender, op: string): Promise<Sample> {
  const argv = c.argv(op);
  const d0 = processCpu(daemon);
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const d1 = processCpu(daemon);
  if (!out.success) {
    throw new Error(`${c.label} ${op} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  const perDomainOps = count * (Number(passes) + Number(warmup));
  return {
    lap: (r.median_lap_ns ?? NaN) / 1e6,
    wall: r.per_domain_ns / 1e6,
    cpu: r.cpu_ns_per_domain / 1e6,
    main: (r.main_ns_per_domain ?? NaN) / 1e6,
    other: (r.other_ns_per_domain ?? NaN) / 1e6,
    daemon: (d1 - d0) / perDomainOps / 1e6, // the whole process's daemon work (its set-up too), per domain-op
  };
}

// --- a seeded shuffle ------------------------------------------------------------------------------------

let state = (Number(values.seed) * 2654435761) >>> 0 || 1;
function random(): number { // xorshift32
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
}
function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// --- statistics -------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The sign test's 95% interval of the median: [k-th smallest, k-th largest], or undefined below 6 values. */
function medianInterval(xs: number[]): [number, number] | undefined {
  const n = xs.length;
  // P(Binomial(n, 1/2) <= j), summed exactly
  let k = 0;
  let cumulative = 0;
  let term = 1 / 2 ** n; // C(n, 0) / 2^n
  for (let j = 0; j < n; j++) {
    cumulative += term;
    if (cumulative > 0.025) break;
    k = j + 1; // P(B <= j) <= 2.5%: the (j+1)-th order statistic is a lower bound
    term = term * (n - j) / (j + 1);
  }
  if (k < 1) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return [s[k - 1], s[n - k]];
}

// --- the run ---------------------------------------------------------------------------------------------

const keeper = await Connection.open(uri); // holds the daemon's test driver for every contender
const names = Array.from({ length: count }, (_, i) => `perop-${String(i + 1).padStart(3, "0")}`);
for (const [i, name] of names.entries()) {
  const mac = `52:54:00:78:${((i + 1) >> 8).toString(16).padStart(2, "0")}:${
    ((i + 1) & 255).toString(16).padStart(2, "0")
  }`;
  (await defineDomain(
    keeper,
    `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>` +
      `<devices><interface type='network'><source network='default'/><mac address='${mac}'/></interface>` +
      `</devices></domain>`,
  )).free();
}
await Deno.writeTextFile(namesFile, names.join("\n") + "\n");

const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const samples = new Map<string, Sample[]>(); // `${op}|${label}` -> one per kept round
const loads = [loadAverage()];
const started = new Date();
try {
  for (let r = 0; r < warmRounds + rounds; r++) {
    for (const op of ops) {
      for (const c of shuffled(contenders)) {
        const s = await sample(c, op);
        if (r < warmRounds) continue;
        const key = `${op}|${c.label}`;
        samples.set(key, [...(samples.get(key) ?? []), s]);
      }
    }
    loads.push(loadAverage());
    console.error(
      `round ${r + 1}/${warmRounds + rounds}${r < warmRounds ? " (warm, dropped)" : ""}, load ${
        loads.at(-1)
      }`,
    );
  }
} finally {
  for (const name of names) {
    using d = await lookupDomain(keeper, name);
    await undefineDomain(d);
  }
  await keeper.close();
}
const ended = new Date();

if (values.json !== undefined) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({
      started,
      ended,
      loads,
      contenders: contenders.map((c) => c.label),
      samples: Object.fromEntries(samples),
    }),
  );
}

// --- the report --------------------------------------------------------------------------------------------

const us = (ms: number) => Number.isNaN(ms) ? "" : (ms * 1000).toFixed(1);
const ratioText = (xs: number[]) => {
  if (xs.some(Number.isNaN)) return "n/a"; // a contender without laps (domain_deno.ts --no-laps)
  const ci = medianInterval(xs);
  return `${median(xs).toFixed(3)} [${ci ? `${ci[0].toFixed(3)}, ${ci[1].toFixed(3)}` : "n/a"}]`;
};
const ratios = (op: string, label: string, of: string, field: keyof Sample) => {
  const a = samples.get(`${op}|${label}`)!;
  const b = samples.get(`${op}|${of}`)!;
  return a.map((s, i) => s[field] / b[i][field]);
};
/** The A/A control's word on an operation: its interval must hold 1 and lie within +-aaTolerance. */
const aaTolerance = 0.05;
const control = (op: string) => {
  if (values["no-aa"]) return "";
  const ci = medianInterval(ratios(op, "ours", "aa", "lap"));
  if (ci === undefined) return "";
  if (ci[0] > 1 || ci[1] < 1) return " (A/A control failed: the copies differ; this run does not count)";
  if (ci[0] < 1 - aaTolerance || ci[1] > 1 + aaTolerance) {
    return ` (A/A control wider than +-${
      aaTolerance * 100
    }%: this run resolves less than the goal asks; more rounds)`;
  }
  return "";
};
const verdict = (op: string) => {
  const ci = medianInterval(ratios(op, "ours", "python", "lap"));
  if (ci === undefined) return "too few rounds";
  return (ci[1] <= goal ? "met" : ci[0] > goal ? "missed" : "undecided") + control(op);
};

console.log(
  `\n${rounds} rounds (+${warmRounds} dropped), ${passes} timed passes of ${count} domains after ${warmup}, ` +
    `${started.toISOString().slice(11, 19)}-${ended.toISOString().slice(11, 19)} UTC, load ${loads[0]} -> ${
      loads.at(-1)
    } (max 1-min ${Math.max(...loads.map((l) => Number(l.split(" ")[0])))})${
      values.pin === undefined ? "" : `, clients pinned to CPU ${values.pin}`
    }\n`,
);
console.log(
  "Medians over rounds, µs per domain: wall (lap: a process's median time of one domain; pass: its fastest " +
    "pass), client CPU (main thread + other threads), libvirtd CPU.\n",
);
console.log(
  "| operation | client | wall, lap | wall, pass | CPU | main | other | libvirtd |\n" +
    "|---|---|---:|---:|---:|---:|---:|---:|",
);
for (const op of ops) {
  for (const c of contenders) {
    const s = samples.get(`${op}|${c.label}`)!;
    const m = (f: keyof Sample) => us(median(s.map((x) => x[f])));
    console.log(
      `| ${op} | ${c.label} | ${m("lap")} | ${m("wall")} | ${m("cpu")} | ${m("main")} | ${m("other")} | ${
        m("daemon")
      } |`,
    );
  }
}
console.log(
  `\nRatios per round, median [95% interval of the median]; the verdict compares the wall (lap) ratio of ours ` +
    `to python with ${goal}.\n`,
);
const others = contenders.filter((c) => c.label !== "python");
const columns: [string, string, string, keyof Sample][] = [ // header, numerator, denominator, field
  ...others.map((c) =>
    [`${c.label} / python, lap`, c.label, "python", "lap"] as [string, string, string, keyof Sample]
  ),
  ...others.map((c) =>
    [`${c.label} / python, pass`, c.label, "python", "wall"] as [string, string, string, keyof Sample]
  ),
  ...others.map((c) =>
    [`${c.label} / python, CPU`, c.label, "python", "cpu"] as [string, string, string, keyof Sample]
  ),
  ...(values["no-aa"] ? [] : [
    ["ours / aa, lap", "ours", "aa", "lap"],
    ["ours / aa, pass", "ours", "aa", "wall"],
    ["ours / aa, CPU", "ours", "aa", "cpu"],
  ] as [string, string, string, keyof Sample][]),
];
console.log(
  `| operation | ${columns.map((c) => c[0]).join(" | ")} | verdict (ours) |\n|---|${
    columns.map(() => "---:|").join("")
  }---|`,
);
for (const op of ops) {
  const cells = columns.map(([, a, b, f]) => ratioText(ratios(op, a, b, f)));
  console.log(`| ${op} | ${cells.join(" | ")} | ${verdict(op)} |`);
}
console.log(`\nload average (1, 5, 15 min) at the start and after each round: ${loads.join(" | ")}`);
