/**
 * CPU per operation of the nonblocking path (connections opened with default options but
 * `eventLoop: false`, calls awaited), by thread: the main thread (clock_gettime
 * CLOCK_THREAD_CPUTIME_ID), Deno's tokio threads (where nonblocking FFI calls run) and V8's worker
 * threads (compiler, GC), from /proc/self/task/<tid>/schedstat.
 *
 *   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
 *     deno run -A bench/call_cpu.ts URI OP [--conns K] [--n N] [--warm W] [--root DIR | --bare | --ab DIR]
 *
 * OP: state, lookup_info, define_undefine, start_destroy (lifecycle `states: false`), vol_create_delete
 * (default-pool), addresses (lease), stats_each (domainStats of one domain), on the domain "test". K lanes
 * (a connection each) all in flight, N operations in all after W warm ones. `--root DIR`: the library of
 * another checkout; `--bare`: the same C calls as bare nonblocking Deno.dlopen symbols (the floor);
 * `--ab DIR`: DIR's library, this one's and the bare calls in one process, alternating blocks of
 * calls (the same minutes; the V8 column is then not attributable: the heap and its GC are shared).
 * Prints one JSON line per contender: µs per operation.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { threadCpuNs } from "./_cpu.ts";
import { domainXml, libraryCalls, type PeropCalls } from "./_perop_calls.ts";
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    conns: { type: "string", default: "1" },
    n: { type: "string", default: "800" },
    warm: { type: "string", default: "200" },
    root: { type: "string" },
    bare: { type: "boolean", default: false },
    blocking: { type: "boolean", default: false },
    "event-loop": { type: "boolean", default: false },
    ab: { type: "string" },
  },
});
const [uri, op] = positionals;
const K = Number(values.conns), N = Number(values.n), WARM = Number(values.warm);
const root = values.root ? new URL(`${values.root}/`, "file:///").href : new URL("../", import.meta.url).href;

function groups(): { tokio: number; v8: number; other: number } {
  const g = { tokio: 0, v8: 0, other: 0 };
  for (const t of Deno.readDirSync("/proc/self/task")) {
    if (t.name === String(Deno.pid)) continue;
    try {
      const comm = Deno.readTextFileSync(`/proc/self/task/${t.name}/comm`);
      const ns = Number(Deno.readTextFileSync(`/proc/self/task/${t.name}/schedstat`).split(" ")[0]);
      if (comm.startsWith("tokio")) g.tokio += ns;
      else if (comm.startsWith("V8")) g.v8 += ns;
      else g.other += ns;
    } catch { /* gone */ }
  }
  return g;
}

const volXml = (name: string) => `<volume><name>${name}</name><capacity unit='KiB'>64</capacity></volume>`;

type Lane = PeropCalls;

async function libraryLane(lib: typeof import("../mod.ts"), i: number): Promise<Lane> {
  const conn = await lib.Connection.open(uri, { eventLoop: values["event-loop"], blocking: values.blocking });
  return libraryCalls(lib, conn, op, `cc-${i}`);
}

// the C calls of --bare: the library's calls, as bare nonblocking symbols (local ones blocking)
const nb = { nonblocking: true } as const;
const BARE_SYMBOLS = {
  virConnectOpen: { parameters: ["buffer"], result: "pointer" },
  virConnectClose: { parameters: ["pointer"], result: "i32" },
  virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer", ...nb },
  virDomainGetState: { parameters: ["pointer", "buffer", "buffer", "u32"], result: "i32", ...nb },
  virDomainGetInfo: { parameters: ["pointer", "buffer"], result: "i32", ...nb },
  virDomainFree: { parameters: ["pointer"], result: "i32" },
  virDomainDefineXML: { parameters: ["pointer", "buffer"], result: "pointer", ...nb },
  virDomainUndefineFlags: { parameters: ["pointer", "u32"], result: "i32", ...nb },
  virDomainCreateWithFlags: { parameters: ["pointer", "u32"], result: "i32", ...nb },
  virDomainDestroyFlags: { parameters: ["pointer", "u32"], result: "i32", ...nb },
  virDomainInterfaceAddresses: { parameters: ["pointer", "buffer", "u32", "u32"], result: "i32", ...nb },
  virDomainListGetStats: { parameters: ["buffer", "u32", "buffer", "u32"], result: "i32", ...nb },
  virDomainStatsRecordListFree: { parameters: ["pointer"], result: "void" },
  virStoragePoolLookupByName: { parameters: ["pointer", "buffer"], result: "pointer" },
  virStoragePoolFree: { parameters: ["pointer"], result: "i32" },
  virStorageVolCreateXML: { parameters: ["pointer", "buffer", "u32"], result: "pointer", ...nb },
  virStorageVolDelete: { parameters: ["pointer", "u32"], result: "i32", ...nb },
  virStorageVolFree: { parameters: ["pointer"], result: "i32" },
} as const;

function bareLane(i: number): Lane {
  const { symbols: c } = Deno.dlopen("libvirt.so.0", BARE_SYMBOLS);
  const text = (s: string) => new TextEncoder().encode(s + "\0");
  const conn = c.virConnectOpen(text(uri))!;
  const name = text("test");
  let dom: Deno.PointerValue = null;
  let stopped: Deno.PointerValue = null;
  const pool = op === "vol_create_delete" ? c.virStoragePoolLookupByName(conn, text("default-pool")) : null;
  const state = new Int32Array(2), reason = state.subarray(1);
  const info = new Uint8Array(64), slot = new BigUint64Array(1);
  let list = new BigUint64Array(2);
  const x = text(domainXml(`cc-x-${i}`)), v = text(volXml(`cc-vol-${i}`));
  const calls: Record<string, () => Promise<unknown>> = {
    state: () => c.virDomainGetState(dom, state, reason, 0),
    lookup_info: async () => {
      const d = await c.virDomainLookupByName(conn, name);
      await c.virDomainGetInfo(d, info);
      c.virDomainFree(d);
    },
    define_undefine: async () => {
      const d = await c.virDomainDefineXML(conn, x);
      await c.virDomainUndefineFlags(d, 0);
      c.virDomainFree(d);
    },
    start_destroy: async () => {
      await c.virDomainCreateWithFlags(stopped, 0);
      await c.virDomainDestroyFlags(stopped, 0);
    },
    vol_create_delete: async () => {
      const vol = await c.virStorageVolCreateXML(pool, v, 0);
      await c.virStorageVolDelete(vol, 0);
      c.virStorageVolFree(vol);
    },
    addresses: () => c.virDomainInterfaceAddresses(dom, slot, 0, 0),
    stats_each: async () => {
      await c.virDomainListGetStats(list, 0, slot, 0);
      c.virDomainStatsRecordListFree(Deno.UnsafePointer.create(slot[0]));
    },
  };
  return {
    call: async () => {
      if (dom === null) {
        dom = await c.virDomainLookupByName(conn, name);
        list = new BigUint64Array([BigInt(Deno.UnsafePointer.value(dom)), 0n]);
        if (op === "start_destroy") {
          stopped = await c.virDomainDefineXML(conn, text(domainXml(`cc-stopped-${i}`)));
        }
      }
      return calls[op]();
    },
    end: async () => {
      if (stopped !== null) {
        await c.virDomainUndefineFlags(stopped, 0);
        c.virDomainFree(stopped);
      }
      if (pool !== null) c.virStoragePoolFree(pool);
      c.virDomainFree(dom);
      c.virConnectClose(conn);
    },
  };
}

// --ab: base, new and bare lanes in one process, alternating blocks of calls (same load, same minutes)
if (values.ab !== undefined) {
  const base = await import(
    `${new URL(`${values.ab}/`, "file:///").href}mod.ts`
  ) as typeof import("../mod.ts");
  const mine = await import(`${new URL("../", import.meta.url).href}mod.ts`) as typeof import("../mod.ts");
  const variants: [string, Lane[]][] = [];
  const mk = async (f: (i: number) => Promise<Lane> | Lane) => {
    const ls: Lane[] = [];
    for (let i = 0; i < K; i++) ls.push(await f(i));
    return ls;
  };
  variants.push(["base", await mk((i) => libraryLane(base, i))]);
  variants.push(["new", await mk((i) => libraryLane(mine, 100 + i))]);
  variants.push(["bare", await mk((i) => bareLane(200 + i))]);
  const runLanes = (lanes: Lane[], total: number) =>
    Promise.all(lanes.map(async (lane) => {
      for (let j = 0; j < total / K; j++) await lane.call();
    }));
  for (const [, ls] of variants) await runLanes(ls, WARM);
  const acc = new Map<string, { main: number; tokio: number; v8: number; wall: number }>();
  const BLOCKS = Number(Deno.env.get("BLOCKS") ?? 10);
  for (let b = 0; b < BLOCKS; b++) {
    const order = b % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, ls] of order) {
      const g0 = groups(), m0 = threadCpuNs(), t0 = performance.now();
      await runLanes(ls, N / BLOCKS);
      const t1 = performance.now(), m1 = threadCpuNs(), g1 = groups();
      const a = acc.get(name) ?? { main: 0, tokio: 0, v8: 0, wall: 0 };
      a.main += m1 - m0;
      a.tokio += g1.tokio - g0.tokio;
      a.v8 += g1.v8 - g0.v8;
      a.wall += (t1 - t0) * 1e6;
      acc.set(name, a);
    }
  }
  for (const [, ls] of variants) for (const lane of ls) await lane.end();
  const per = (ns: number) => Math.round(ns / N / 10) / 100;
  for (const [name, a] of acc) {
    console.log(
      JSON.stringify({
        op,
        client: name,
        conns: K,
        main: per(a.main),
        tokio: per(a.tokio),
        v8: per(a.v8),
        other: 0,
        wall: per(a.wall),
      }),
    );
  }
  Deno.exit(0);
}

const lib = values.bare ? undefined : await import(`${root}mod.ts`) as typeof import("../mod.ts");
const lanes: Lane[] = [];
for (let i = 0; i < K; i++) lanes.push(lib ? await libraryLane(lib, i) : bareLane(i));
const run = (total: number) =>
  Promise.all(lanes.map(async (lane) => {
    for (let j = 0; j < total / K; j++) await lane.call();
  }));
await run(WARM);
const g0 = groups(), m0 = threadCpuNs(), t0 = performance.now();
await run(N);
const t1 = performance.now(), m1 = threadCpuNs(), g1 = groups();
for (const lane of lanes) await lane.end();
const per = (ns: number) => Math.round(ns / N / 10) / 100;
console.log(JSON.stringify({
  op,
  client: values.bare ? "bare" : (values.root ? "base" : "new"),
  conns: K,
  main: per(m1 - m0),
  tokio: per(g1.tokio - g0.tokio),
  v8: per(g1.v8 - g0.v8),
  other: per(g1.other - g0.other),
  wall: per((t1 - t0) * 1e6),
}));
