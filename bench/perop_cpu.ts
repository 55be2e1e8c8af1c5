/**
 * CPU per call of one per-operation path, split by thread: the calling thread's (clock_gettime
 * CLOCK_THREAD_CPUTIME_ID) and every other thread's of the process (/proc/self/task/<tid>/schedstat:
 * V8's background compiler and GC). What bench/domain_compare.ts's CPU column sums, taken apart.
 *
 *   deno run --allow-all bench/perop_cpu.ts URI OP [N] [WARM] [--root DIR] [--bare]
 *   /usr/bin/python3 bench/clients/domain_cpu_python.py URI OP [N] [WARM]   (the same for libvirt-python)
 *
 * OP: state, lookup_info, define_undefine, start_destroy, addresses (lease), stats_each, on the domain
 * "test" (test:///default in-process, or test+unix:///default over the lab's libvirtd). WARM untimed
 * calls (default 100), then N timed ones (default 300): the regime of domain_compare's lean client, one
 * warm-up pass and three timed passes over 100 domains. `--root DIR`: the library of another checkout
 * (before/after). `--bare`: the same C calls straight through Deno.dlopen (lookup+info, define+undefine
 * and stats include the frees the library makes), no library: the floor for Deno. Prints one JSON line:
 * {"op", "main_us", "other_us", "wall_us"} per call.
 *
 * @module
 */
import { threadCpuNs } from "./_cpu.ts";
import { domainXml, libraryCalls as sharedCalls, type PeropCalls } from "./_perop_calls.ts";

const args = Deno.args.filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--root");
const [uri, op] = args;
const N = Number(args[2] ?? 300);
const WARM = Number(args[3] ?? 100);
const rootAt = Deno.args.indexOf("--root");
const root = rootAt < 0
  ? new URL("..", import.meta.url).href
  : new URL(`${Deno.args[rootAt + 1]}/`, "file:///").href;
const bare = Deno.args.includes("--bare");

function otherThreadsNs(): number {
  let sum = 0;
  for (const task of Deno.readDirSync("/proc/self/task")) {
    if (task.name === String(Deno.pid)) continue;
    try {
      sum += Number(Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

const xml = domainXml("perop-cpu-x");
const stoppedXml = domainXml("perop-cpu-stopped");
const once = bare ? await bareCalls() : await libraryCalls();

async function libraryCalls(): Promise<PeropCalls> {
  const lib = await import(`${root}mod.ts`) as typeof import("../mod.ts");
  const conn = await lib.Connection.open(uri, { blocking: true, eventLoop: false });
  return sharedCalls(lib, conn, op, "perop-cpu");
}

function bareCalls(): PeropCalls {
  const { symbols: c } = Deno.dlopen("libvirt.so.0", {
    virConnectOpen: { parameters: ["buffer"], result: "pointer" },
    virConnectClose: { parameters: ["pointer"], result: "i32" },
    virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer" },
    virDomainGetState: { parameters: ["pointer", "buffer", "buffer", "u32"], result: "i32" },
    virDomainGetInfo: { parameters: ["pointer", "buffer"], result: "i32" },
    virDomainFree: { parameters: ["pointer"], result: "i32" },
    virDomainDefineXML: { parameters: ["pointer", "buffer"], result: "pointer" },
    virDomainUndefineFlags: { parameters: ["pointer", "u32"], result: "i32" },
    virDomainCreateWithFlags: { parameters: ["pointer", "u32"], result: "i32" },
    virDomainDestroyFlags: { parameters: ["pointer", "u32"], result: "i32" },
    virDomainInterfaceAddresses: { parameters: ["pointer", "buffer", "u32", "u32"], result: "i32" },
    virDomainListGetStats: { parameters: ["buffer", "u32", "buffer", "u32"], result: "i32" },
    virDomainStatsRecordListFree: { parameters: ["pointer"], result: "void" },
  });
  const text = (s: string) => new TextEncoder().encode(s + "\0");
  const conn = c.virConnectOpen(text(uri))!;
  const name = text("test");
  const dom = c.virDomainLookupByName(conn, name)!;
  const stopped = op === "start_destroy" ? c.virDomainDefineXML(conn, text(stoppedXml)) : null;
  const state = new Int32Array(2);
  const reason = state.subarray(1);
  const info = new Uint8Array(64);
  const slot = new BigUint64Array(1);
  const list = new BigUint64Array([BigInt(Deno.UnsafePointer.value(dom)), 0n]);
  const calls: Record<string, () => unknown> = {
    state: () => c.virDomainGetState(dom, state, reason, 0),
    lookup_info: () => {
      const d = c.virDomainLookupByName(conn, name)!;
      c.virDomainGetInfo(d, info);
      c.virDomainFree(d);
    },
    define_undefine: () => {
      const d = c.virDomainDefineXML(conn, text(xml))!;
      c.virDomainUndefineFlags(d, 0);
      c.virDomainFree(d);
    },
    start_destroy: () => {
      c.virDomainCreateWithFlags(stopped, 0);
      c.virDomainDestroyFlags(stopped, 0);
    },
    addresses: () => c.virDomainInterfaceAddresses(dom, slot, 0, 0), // (leaks the few bytes it returns)
    stats_each: () => {
      c.virDomainListGetStats(list, 0, slot, 0);
      c.virDomainStatsRecordListFree(Deno.UnsafePointer.create(slot[0]));
    },
  };
  const call = calls[op];
  return {
    call: () => Promise.resolve(call()), // awaited like the library's calls
    end: () => {
      if (stopped !== null) c.virDomainUndefineFlags(stopped, 0);
      c.virDomainFree(dom);
      c.virConnectClose(conn);
      return Promise.resolve();
    },
  };
}

if (once.call === undefined) throw new Error(`unknown op ${op}`);
for (let i = 0; i < WARM; i++) await once.call();
const other0 = otherThreadsNs();
const main0 = threadCpuNs();
const t0 = performance.now();
for (let i = 0; i < N; i++) await once.call();
const t1 = performance.now();
const main1 = threadCpuNs();
const other1 = otherThreadsNs();
await once.end();
const perCall = (ns: number) => Math.round(ns / N / 10) / 100;
console.log(JSON.stringify({
  op,
  client: bare ? "deno-bare" : "deno-lean",
  main_us: perCall(main1 - main0),
  other_us: perCall(other1 - other0),
  wall_us: perCall((t1 - t0) * 1e6),
}));
