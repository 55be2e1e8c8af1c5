// The per-call cost of a generated one-call method against the hand-written path it replaces and
// against libvirt-python's same call, in-process on test:///default. Interleaved rounds, medians:
// the machine is shared, so only ratios within one run mean anything.
//
//   deno run --allow-all bench/methods_compare.ts
import { Connection, lookupDomain } from "../mod.ts";

const ROUNDS = 15;
const SYNC_CALLS = 20_000;
const ASYNC_CALLS = 1_000;

const conn = Connection.openSync("test:///default");
const dom = await lookupDomain(conn, "test");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function perCall(calls: number, body: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const r = body();
    if (r instanceof Promise) await r;
  }
  return ((performance.now() - start) * 1000) / calls; // µs
}

const cases: [string, number, () => unknown][] = [
  ["generated dom.getStateSync() (virDomainGetState)", SYNC_CALLS, () => dom.getStateSync()],
  ["generated dom.getInfoSync() (virDomainGetInfo)", SYNC_CALLS, () => dom.getInfoSync()],
  ["hand-written dom.infoSync() (virDomainGetInfo)", SYNC_CALLS, () => dom.infoSync()],
  ["generated dom.getState(), nonblocking", ASYNC_CALLS, () => dom.getState()],
  ["hand-written dom.state(), nonblocking", ASYNC_CALLS, () => dom.state()],
];
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (const [, calls, body] of cases) await perCall(calls / 10, body); // warm up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, calls, body] of cases) samples.get(name)!.push(await perCall(calls, body));
}

const python = new Deno.Command("/usr/bin/python3", {
  args: [
    "-c",
    `import libvirt, time
libvirt.registerErrorHandler(lambda *a: None, None)
c = libvirt.open("test:///default"); d = c.lookupByName("test")
res = []
for r in range(${ROUNDS}):
    t = time.perf_counter()
    for i in range(${SYNC_CALLS}): d.state()
    res.append((time.perf_counter() - t) * 1e6 / ${SYNC_CALLS})
res.sort(); print(res[len(res)//2])
res = []
for r in range(${ROUNDS}):
    t = time.perf_counter()
    for i in range(${SYNC_CALLS}): d.info()
    res.append((time.perf_counter() - t) * 1e6 / ${SYNC_CALLS})
res.sort(); print(res[len(res)//2])`,
  ],
  stdout: "piped",
}).outputSync();
const [pyState, pyInfo] = new TextDecoder().decode(python.stdout).trim().split("\n").map(Number);

console.log("| call (in-process test:///default) | µs/call (median) |");
console.log("| --- | --- |");
for (const [name] of cases) console.log(`| ${name} | ${median(samples.get(name)!).toFixed(2)} |`);
console.log(`| libvirt-python dom.state() (virDomainGetState) | ${pyState.toFixed(2)} |`);
console.log(`| libvirt-python dom.info() (virDomainGetInfo) | ${pyInfo.toFixed(2)} |`);
conn.closeSync();
