/**
 * Range `up` and `down` against a plain libvirt-python script doing the same work the way the CyRIS
 * fork does (bench/clients/range_python.py: one connection, sequential; network define+start, per
 * guest an overlay volume, define, start, lease address; then the reverse), on libvirtd's test driver,
 * for 100 and 1,000 guests, interleaved over rounds. Prints medians, spread and ratios (ours/python:
 * below 1.0 we are faster).
 *
 *   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
 *     deno run --allow-all bench/range_compare.ts [--rounds 3] [--sizes 100,1000] [--concurrency 8] \
 *       [--count-rpcs] [--json] [--floor] \
 *       [--modes default,noloop,noloop-blocking] [--cold]
 *
 * `--floor` adds bench/clients/range_floor.ts: the same calls as ours through bare nonblocking FFI, no
 * library (what Deno's FFI alone costs), a process per round.
 *
 * `--count-rpcs` also brings up and down one 100-guest range with every libvirt call counted
 * (see bench/_rpc_count.ts) and prints the calls per guest.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { Connection, type OpenOptions } from "../mod.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { guestXml, networkXml, volumeXml } from "../lib/range/_libvirt.ts";
import { downRange } from "../lib/range/down.ts";
import { upRange } from "../lib/range/up.ts";
import { countRpcs } from "./_rpc_count.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    sizes: { type: "string", default: "100,1000" },
    concurrency: { type: "string", default: "8" },
    uri: { type: "string", default: "test+unix:///default" },
    "count-rpcs": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    blocking: { type: "boolean", default: false },
    modes: { type: "string", default: "default" },
    child: { type: "string" },
    mode: { type: "string", default: "default" },
    cold: { type: "boolean", default: false },
    "daemon-pid": { type: "string" },
    floor: { type: "boolean", default: false },
  },
});
/**
 * How ours opens its connections: "default" (the pool's policy, `eventLoop: "auto"`: no loop for a
 * local URI; nonblocking calls), "loop" (`{ eventLoop: true }`: every connection on the event loop, as
 * pools opened before that policy), "noloop" (`{ eventLoop: false }`: no keepalive, no event-loop
 * wakeups per call, as libvirt-python runs without `virEventRegisterDefaultImpl`), "noloop-blocking"
 * (also `{ blocking: true }`). The loop is
 * process-wide, so with `--modes a,b` each of ours runs in a child process of its own (as python
 * does), its clock around up and down only.
 */
type Mode = "default" | "loop" | "noloop" | "noloop-blocking";
// a mode may name its own concurrency: "noloop-blocking:1"
const runs = values.modes!.split(",").map((spec) => {
  const [m, n] = spec.split(":");
  return { mode: m as Mode, concurrency: n === undefined ? Number(values.concurrency) : Number(n) };
});
const modes = runs.map((r) => r.mode);
for (const m of [...modes, values.mode as Mode]) {
  if (!["default", "loop", "noloop", "noloop-blocking"].includes(m)) {
    throw new TypeError(
      `--modes: unknown mode ${JSON.stringify(m)} (default, loop, noloop, noloop-blocking)`,
    );
  }
}
// this process's own mode: the child's, or the only one asked for
const mode = (values.child !== undefined ? values.mode : modes.length === 1 ? modes[0] : "default") as Mode;
const openOptions: OpenOptions = {
  ...(values.blocking || mode === "noloop-blocking" ? { blocking: true } : {}),
  ...(mode === "default" ? {} : { eventLoop: mode === "loop" }),
};
const rounds = Number(values.rounds);
const sizes = values.sizes!.split(",").map(Number);
const concurrency = values.child === undefined && runs.length === 1
  ? runs[0].concurrency
  : Number(values.concurrency);
const uri = values.uri!;
const here = new URL(".", import.meta.url).pathname;
await Deno.mkdir(`${here}.build`, { recursive: true });

/** Wall-clock and this process's CPU time (user + system) of up and down, ms. */
interface Times {
  up: number;
  down: number;
  upCpu: number;
  downCpu: number;
  /** libvirtd's CPU time over up and down, ms (NaN without its pid) */
  upDaemon: number;
  downDaemon: number;
}

/**
 * The CPU time libvirtd has spent so far, ms: the sum over its threads of /proc's schedstat (ns), or
 * NaN when the daemon's pid is unknown. `--daemon-pid`, else the pid file the lab's daemon writes.
 */
const daemonPid = values["daemon-pid"] ??
  (() => {
    try {
      return Deno.readTextFileSync("/run/libvirtd.pid").trim();
    } catch {
      return undefined;
    }
  })();
function daemonCpuMs(): number {
  if (daemonPid === undefined) return NaN;
  let ns = 0;
  try {
    for (const task of Deno.readDirSync(`/proc/${daemonPid}/task`)) {
      ns += Number(Deno.readTextFileSync(`/proc/${daemonPid}/task/${task.name}/schedstat`).split(" ")[0]);
    }
  } catch {
    return NaN;
  }
  return ns / 1e6;
}

let serial = 0;
function rangeOf(count: number): Range {
  const name = `rc${count}x${(serial++).toString(36)}${crypto.randomUUID().slice(0, 4)}`;
  return validateRange({
    name,
    hosts: [{ id: "h", uri }],
    storage: { pool: "default-pool" },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.88.0.0/16",
      dhcp: { start: "10.88.1.1", end: "10.88.250.250" },
    }],
    guests: [{ id: "g", memory: 64, count, nics: [{ network: `${name}-lan` }] }],
  });
}

/** Pools of `concurrency` connections; `--blocking` opens them with `{ blocking: true }`. */
function registry(): PoolRegistry {
  return new PoolRegistry({
    max: concurrency,
    ...(Object.keys(openOptions).length > 0
      ? { open: (u: string, o: OpenOptions) => Connection.open(u, { ...o, ...openOptions }) }
      : {}),
  });
}

/** Ours in a child process (`--child COUNT --mode MODE`), for a mode other than this process's. */
async function oursIn(m: Mode, n: number, count: number): Promise<Times> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "--child",
      String(count),
      "--mode",
      m,
      "--concurrency",
      String(n),
      "--uri",
      uri,
      ...(values.cold ? ["--cold"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ours (${m}) failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function ours(count: number): Promise<Times> {
  const range = rangeOf(count);
  const pools = registry();
  try {
    // the connections open before the clock starts, as python's does
    const leases = await Promise.all(Array.from({ length: concurrency }, () => pools.get(uri).acquire()));
    for (const lease of leases) lease.release();
    const c0 = process.cpuUsage();
    const d0 = daemonCpuMs();
    const t0 = performance.now();
    const up = await upRange(range, pools, { waitForAddresses: true, addressTimeoutMs: 30_000, concurrency });
    const upMs = performance.now() - t0;
    const c1 = process.cpuUsage();
    const d1 = daemonCpuMs();
    if (up.addresses.length !== count) {
      throw new Error(`upRange found ${up.addresses.length}/${count} addresses`);
    }
    const t1 = performance.now();
    await downRange(range, pools, { concurrency });
    const downMs = performance.now() - t1;
    const c2 = process.cpuUsage();
    const d2 = daemonCpuMs();
    const cpu = (a: { user: number; system: number }, b: typeof a) =>
      (b.user + b.system - a.user - a.system) / 1e3;
    return {
      up: upMs,
      down: downMs,
      upCpu: cpu(c0, c1),
      downCpu: cpu(c1, c2),
      upDaemon: d1 - d0,
      downDaemon: d2 - d1,
    };
  } finally {
    await pools.closeAll();
  }
}

/** The same work as bench/clients/range_python.py's, as its SPEC.json (written under bench/.build/). */
async function specFile(count: number): Promise<string> {
  const range = rangeOf(count);
  const spec = {
    pool: range.pool.name,
    network: range.description.networks![0].name,
    network_xml: networkXml(range, range.description.networks![0], "h"),
    guests: range.guests.map((g) => ({
      name: g.name,
      volume: g.volume,
      volume_xml: volumeXml(g),
      domain_xml: guestXml(range, g, "@VOLUME_PATH@"),
    })),
  };
  const file = `${here}.build/range_spec_${count}.json`;
  await Deno.writeTextFile(file, JSON.stringify(spec));
  return file;
}

/** Runs a client of range_python.py's interface (SPEC.json in, its JSON line out) on `count` guests. */
async function external(script: string, argv: (file: string) => string[], count: number): Promise<Times> {
  const file = await specFile(count);
  const out = await new Deno.Command(argv(file)[0], {
    args: argv(file).slice(1),
    stdout: "piped",
    stderr: "piped",
    ...(daemonPid === undefined ? {} : { env: { DAEMON_PID: daemonPid } }),
  }).output();
  if (!out.success) throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr)}`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  if (r.addresses !== count) throw new Error(`${script} found ${r.addresses}/${count} addresses`);
  return {
    up: r.up_ns / 1e6,
    down: r.down_ns / 1e6,
    upCpu: r.up_cpu_ns / 1e6,
    downCpu: r.down_cpu_ns / 1e6,
    upDaemon: (r.up_daemon_ns ?? NaN) / 1e6,
    downDaemon: (r.down_daemon_ns ?? NaN) / 1e6,
  };
}

const python = (count: number) =>
  external(
    "range_python.py",
    (file) => ["/usr/bin/python3", `${here}clients/range_python.py`, uri, file],
    count,
  );

/** `--floor`: the bare-FFI client (bench/clients/range_floor.ts), a process per round as python's. */
const floor = (count: number) =>
  external("range_floor.ts", (file) => [
    Deno.execPath(),
    "run",
    "--allow-all", // /proc/<libvirtd>/task: Deno reads nothing under /proc without it
    `${here}clients/range_floor.ts`,
    uri,
    file,
    String(concurrency),
  ], count);

if (values.child !== undefined) {
  // warm, like ours in the parent after its first round: one untimed up and down first (the JIT,
  // the symbols bound on first use, the event loop's start)
  if (!values.cold) await ours(Number(values.child));
  console.log(JSON.stringify(await ours(Number(values.child))));
  Deno.exit(0);
}

// test+unix:///default forgets its state when its last client leaves: hold it for the whole run
// (docs: shared/notes/ffi-design.md §4.6), and every contender finds the same driver. Never on the
// event loop: the keeper is not a contender, and a loop it started would carry ours too (libvirt
// attaches every later connection's socket to a running loop, whatever the pool's "auto" policy
// says), costing ours ~80-160 µs of client CPU per guest (docs/benchmarks.md, h11-range3).
const keeper = await Connection.open(uri, { eventLoop: false });
const contenders: [string, (n: number) => Promise<Times>][] = [
  ["libvirt-python, 1 connection, sequential", python],
  ...runs.map((r): [string, (n: number) => Promise<Times>] => [
    `deno_libvirt upRange/downRange, ${r.concurrency} connection${r.concurrency === 1 ? "" : "s"}${
      r.mode === "default" ? "" : `, ${r.mode}`
    }`,
    runs.length > 1 ? (n) => oursIn(r.mode, r.concurrency, n) : ours,
  ]),
  ...(values.floor
    ? [
      [`bare nonblocking FFI, no library, ${concurrency} connections`, floor] as [
        string,
        (n: number) => Promise<Times>,
      ],
    ]
    : []),
];
type Samples = { [K in keyof Times]: number[] };
const samples = new Map<string, Samples>();
for (let r = 0; r < rounds; r++) {
  for (const count of sizes) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, run] = contenders[(i + r) % contenders.length];
      const key = `${count}|${name}`;
      const s: Samples = samples.get(key) ??
        { up: [], down: [], upCpu: [], downCpu: [], upDaemon: [], downDaemon: [] };
      const t = await run(count);
      for (const k of Object.keys(s) as (keyof Times)[]) s[k].push(t[k]);
      samples.set(key, s);
    }
  }
  console.error(`round ${r + 1}/${rounds}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const report: Record<string, unknown>[] = [];
for (const count of sizes) {
  const py = samples.get(`${count}|${contenders[0][0]}`)!;
  console.log(`\n#### range up / down, ${count} guests, ${uri}, ${rounds} interleaved rounds\n`);
  console.log("| client | up, median (spread) | down, median (spread) | up ours/python | down ours/python |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name] of contenders) {
    const s = samples.get(`${count}|${name}`)!;
    const upRatio = median(s.up) / median(py.up);
    const downRatio = median(s.down) / median(py.down);
    console.log(
      `| ${name} | ${median(s.up).toFixed(0)} ms (${spread(s.up)}) | ${median(s.down).toFixed(0)} ms (${
        spread(s.down)
      }) | ${upRatio.toFixed(2)} | ${downRatio.toFixed(2)} |`,
    );
    report.push({
      count,
      name,
      up: s.up,
      down: s.down,
      upCpu: s.upCpu,
      downCpu: s.downCpu,
      upRatio,
      downRatio,
    });
  }
  console.log(
    "\nCPU per guest, median: the client process (user + system, all its threads) and libvirtd (all its" +
      " threads, /proc schedstat; — without its pid):\n",
  );
  console.log("| client | up, client | up, libvirtd | down, client | down, libvirtd |");
  console.log("|---|---:|---:|---:|---:|");
  const perGuest = (xs: number[]) =>
    Number.isNaN(median(xs)) ? "—" : `${(median(xs) / count * 1000).toFixed(0)} µs`;
  for (const [name] of contenders) {
    const s = samples.get(`${count}|${name}`)!;
    console.log(
      `| ${name} | ${perGuest(s.upCpu)} | ${perGuest(s.upDaemon)} | ${perGuest(s.downCpu)} | ${
        perGuest(s.downDaemon)
      } |`,
    );
  }
}

if (values["count-rpcs"]) {
  const count = 100;
  const range = rangeOf(count);
  const pools = registry();
  const up = await countRpcs(() => upRange(range, pools, { waitForAddresses: true }));
  const down = await countRpcs(() => downRange(range, pools));
  await pools.closeAll();
  for (const [phase, counts] of [["up", up], ["down", down]] as const) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(
      `\nlibvirt calls, range ${phase}, ${count} guests: ${total} (${(total / count).toFixed(1)} per guest)`,
    );
    for (const [symbol, n] of [...counts].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${symbol.padEnd(40)} ${String(n).padStart(6)}  ${(n / count).toFixed(2)}/guest`);
    }
  }
}
if (values.json) console.log(JSON.stringify(report));
await keeper.close();
