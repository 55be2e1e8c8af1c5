/**
 * Domain operations on 100 domains: this library (sequential, and 16 at once through a pool) versus
 * `virsh` subprocesses and libvirt-python, interleaved over rounds, against the test driver inside
 * libvirtd (a real RPC per call). Start/destroy pairs, state queries, and bulk statistics in one
 * call versus one call per domain.
 *
 * The per-operation table runs every contender as a process of its own (like libvirt-python and C
 * there), one connection, sequential: bench/clients/domain_python.py, bench/clients/domain_deno.ts
 * (library defaults, and `--lean`: blocking calls, no event loop, `states: false`), and the C client
 * for lookup+info.
 *
 *   deno run --allow-all bench/domain_compare.ts [--rounds 3] [--only per-op|classic]
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
    only: { type: "string" },
    uri: { type: "string", default: "test+unix:///default" },
  },
});
const rounds = Number(values.rounds);
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

async function python(op: string): Promise<number> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [`${here}clients/domain_python.py`, uri, namesFile, op],
    stdout: "piped",
  })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).per_domain_ns / 1e6;
}

async function denoClient(op: string, lean: boolean): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${here}clients/domain_deno.ts`,
      uri,
      namesFile,
      op,
      ...(lean ? ["--lean"] : []),
    ],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`domain_deno.ts ${op} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout)).per_domain_ns / 1e6;
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

const perOp = (op: string, withC = false): [string, () => Promise<number>][] => [
  ["libvirt-python", () => python(op)],
  ...(withC ? [["C", () => c("lookup_info_many")] as [string, () => Promise<number>]] : []),
  ["deno_libvirt, defaults", () => denoClient(op, false)],
  ["deno_libvirt, lean (blocking, no event loop, states: false)", () => denoClient(op, true)],
];
const perOpScenarios: Record<string, [string, () => Promise<number>][]> = {
  "per-op: lookup + info": perOp("lookup_info", true),
  "per-op: state": perOp("state"),
  "per-op: define + undefine": perOp("define_undefine"),
  "per-op: start + destroy": perOp("start_destroy"),
  "per-op: addresses (lease)": perOp("addresses"),
  "per-op: stats, one call per domain": perOp("stats_each"),
  "per-op: stats, one bulk call": perOp("stats_bulk"),
};
const allScenarios: Record<string, [string, () => Promise<number>][]> = {
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
for (let r = 0; r < rounds; r++) {
  for (const [scenario, contenders] of Object.entries(scenarios)) {
    for (let i = 0; i < contenders.length; i++) {
      const [name, run] = contenders[(i + r) % contenders.length];
      const key = `${scenario}|${name}`;
      samples.set(key, [...(samples.get(key) ?? []), await run()]);
    }
  }
  console.error(`round ${r + 1}/${rounds}`);
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
    console.log(`| client | per domain, median | spread | × ${contenders[0][0]} |\n|---|---:|---:|---:|`);
    for (const [name] of contenders) {
      const m = median(all(name));
      console.log(
        `| ${name} | ${fmt(m)} | ${fmt(Math.min(...all(name)))}-${fmt(Math.max(...all(name)))} | ${
          (m / base).toFixed(2)
        } |`,
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
