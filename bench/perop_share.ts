/**
 * The library's share of one operation's client CPU, measured where load cannot blur it: in one process,
 * over one daemon, alternating blocks of the same operation made by the library (a `blocking: true,
 * eventLoop: false` connection, `states: false`, as bench/clients/domain_deno.ts `--lean`) and by bare
 * Deno.dlopen calls that decode the same answers (bench/_bare_calls.ts). Both run in the same minutes,
 * on the same core's caches, so their difference (the calling thread's CPU, CLOCK_THREAD_CPUTIME_ID)
 * is what the library adds above Deno's own floor, to about a microsecond even on a loaded machine,
 * where bench/perop_compare.ts's separate processes resolve 5-10%. Each operation runs in a fresh
 * process (its code is cold in V8 as in the per-operation benchmark), `--processes` times.
 *
 *   timeout 600 flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
 *     deno run --allow-all bench/perop_share.ts [--ops state,addresses,...] [--n 100] [--blocks 8]
 *     [--processes 3] [--uri test+unix:///default] [--root DIR] [--between sleep:US|memset:MIB]
 *
 * OP: lookup_info, state, define_undefine, start_destroy, addresses, stats_each (default: all), on the
 * test driver's domain "test" (start_destroy: a defined domain of its own, undefined at the end). A block
 * is `--n` operations; the first block of each side is cold (V8 interpreting, compiling), the later
 * ones are warm. `--root DIR`: the library of another checkout. Prints, per operation, µs per operation
 * of the calling thread: bare and library, cold (the first block) and warm (the median of the later
 * blocks), medians over the processes, and the library's share (library - bare).
 *
 * `--between`: before every operation of both sides, `sleep:US` sleeps US µs (usleep: the thread
 * blocks and resumes as after a round trip) or `memset:MIB` writes MIB MiB (evicting the caches);
 * each operation is then timed alone (two clock reads each, on both sides), what runs between left
 * out. With `sleep:200` on `--uri test:///default` the library's share comes near what it is over
 * libvirtd (2-4× its share in a warm loop; docs/benchmarks.md, Session h11-perop4), without the
 * daemon or its lock; runs of it vary by up to 2×, so alternate base and candidate (`--root`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { threadCpuNs } from "./_cpu.ts";
import { bareLibvirt, decodeAddresses, decodeInfo, decodeStats, infoBuffer } from "./_bare_calls.ts";

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "lookup_info,state,define_undefine,start_destroy,addresses,stats_each" },
    n: { type: "string", default: "100" },
    blocks: { type: "string", default: "8" },
    processes: { type: "string", default: "3" },
    uri: { type: "string", default: "test+unix:///default" },
    root: { type: "string" },
    child: { type: "string" },
    between: { type: "string", default: "none" },
  },
});
const uri = values.uri!;
const N = Number(values.n);
const blocks = Number(values.blocks);

/** One child's numbers, µs per operation of the calling thread: each block of each side, in order. */
interface ChildResult {
  op: string;
  bare: number[];
  library: number[];
}

/** One side of a child: the operation, and what removes what it made. */
interface Side {
  run: () => Promise<unknown>;
  end: () => Promise<void>;
}

const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;

/** The library's side: a lean connection's call of `op` (start_destroy defines its domain first). */
async function librarySide(op: string): Promise<Side> {
  const root = values.root
    ? new URL(`${values.root}/`, "file:///").href
    : new URL("../", import.meta.url).href;
  const lib = await import(`${root}mod.ts`) as typeof import("../mod.ts");
  const conn = await lib.Connection.open(uri, { blocking: true, eventLoop: false });
  const dom = await lib.lookupDomain(conn, "test");
  const stopped = op === "start_destroy"
    ? await lib.defineDomain(conn, domainXml("perop-share-stopped"))
    : undefined;
  const lean = { states: false };
  const calls: Record<string, () => Promise<unknown>> = {
    lookup_info: async () => {
      using d = await lib.lookupDomain(conn, "test");
      await d.info();
    },
    state: () => dom.state(),
    define_undefine: async () => {
      using d = await lib.defineDomain(conn, domainXml("perop-share-x"));
      await lib.undefineDomain(d, lean);
    },
    start_destroy: async () => {
      await lib.startDomain(stopped!, lean);
      await lib.destroyDomain(stopped!, lean);
    },
    addresses: () => dom.interfaceAddresses("lease"),
    stats_each: () => lib.domainStats(dom),
  };
  if (calls[op] === undefined) throw new Error(`unknown op ${op}`);
  return {
    run: calls[op],
    end: async () => {
      if (stopped !== undefined) {
        await lib.undefineDomain(stopped);
        stopped.free();
      }
      dom.free();
      await conn.close();
    },
  };
}

/**
 * The bare side, on a connection of its own: the C functions the library calls (libvirt-python's
 * create() and destroy() are virDomainCreate and virDomainDestroy: over the remote driver
 * virDomainCreate makes a second round trip, a lookup by UUID for the domain's new id).
 */
function bareSide(op: string): Side {
  const c = bareLibvirt();
  const encoder = new TextEncoder();
  const text = (s: string) => encoder.encode(s + "\0");
  const bconn = c.virConnectOpen(text(uri))!;
  const name = text("test");
  const bdom = c.virDomainLookupByName(bconn, name)!;
  const bstopped = op === "start_destroy"
    ? c.virDomainLookupByName(bconn, text("perop-share-stopped"))
    : null;
  const state = new Int32Array(2);
  const reason = state.subarray(1);
  const slot = new BigUint64Array(1);
  const list = new BigUint64Array([BigInt(Deno.UnsafePointer.value(bdom)), 0n]);
  const calls: Record<string, () => Promise<unknown>> = {
    lookup_info: () => {
      const d = c.virDomainLookupByName(bconn, name)!;
      c.virDomainGetInfo(d, infoBuffer);
      decodeInfo();
      c.virDomainFree(d);
      return Promise.resolve();
    },
    state: () => {
      c.virDomainGetState(bdom, state, reason, 0);
      return Promise.resolve([state[0], state[1]]);
    },
    define_undefine: () => {
      const d = c.virDomainDefineXML(bconn, text(domainXml("perop-share-x")))!;
      c.virDomainUndefineFlags(d, 0);
      c.virDomainFree(d);
      return Promise.resolve();
    },
    start_destroy: () => {
      c.virDomainCreateWithFlags(bstopped, 0);
      c.virDomainDestroyFlags(bstopped, 0);
      return Promise.resolve();
    },
    addresses: () =>
      Promise.resolve(decodeAddresses(c, slot, c.virDomainInterfaceAddresses(bdom, slot, 0, 0))),
    stats_each: () => Promise.resolve(decodeStats(c, slot, c.virDomainListGetStats(list, 0, slot, 0))),
  };
  return {
    run: calls[op],
    end: () => {
      if (bstopped !== null) c.virDomainFree(bstopped);
      c.virDomainFree(bdom);
      c.virConnectClose(bconn);
      return Promise.resolve();
    },
  };
}

/** What `--between` does before each operation (see the module doc). */
function betweenOperations(spec: string): (() => void) | undefined {
  const [kind, amount] = spec.split(":");
  if (kind === "none") return undefined;
  const n = Number(amount);
  if (!(n > 0) || (kind !== "sleep" && kind !== "memset")) {
    throw new Error(
      `perop_share: --between must be none, sleep:US or memset:MIB, got ${JSON.stringify(spec)}`,
    );
  }
  const libc = Deno.dlopen("libc.so.6", {
    usleep: { parameters: ["u32"], result: "i32" },
    memset: { parameters: ["buffer", "i32", "usize"], result: "pointer" },
  }).symbols;
  if (kind === "sleep") return () => void libc.usleep(n);
  const bytes = new Uint8Array(n << 20);
  const length = BigInt(bytes.length);
  let fill = 0;
  return () => void libc.memset(bytes, fill++ & 0xff, length);
}

async function child(op: string): Promise<ChildResult> {
  const between = betweenOperations(values.between!);
  const library = await librarySide(op); // first: start_destroy's bare side looks up the domain it defines
  const bare = bareSide(op);
  const result: ChildResult = { op, bare: [], library: [] };
  for (let b = 0; b < blocks; b++) {
    // alternate which side goes first, so neither always follows the other
    const sides: ["bare" | "library", Side][] = [["bare", bare], ["library", library]];
    if (b % 2 === 1) sides.reverse();
    for (const [label, side] of sides) {
      let ns = 0;
      if (between === undefined) {
        const t0 = threadCpuNs();
        for (let i = 0; i < N; i++) await side.run();
        ns = threadCpuNs() - t0;
      } else {
        // each operation timed alone, so that what runs between them is left out
        for (let i = 0; i < N; i++) {
          between();
          const t0 = threadCpuNs();
          await side.run();
          ns += threadCpuNs() - t0;
        }
      }
      result[label].push(ns / N / 1000);
    }
  }
  await bare.end(); // first: the library's end undefines the domain the bare side holds
  await library.end();
  return result;
}

if (values.child !== undefined) {
  console.log(JSON.stringify(await child(values.child)));
  Deno.exit(0);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const ops = values.ops!.split(",").map((s) => s.trim()).filter(Boolean);
const loads = [loadAverage()];
const started = new Date().toISOString().slice(11, 19);
const results = new Map<string, ChildResult[]>();
for (let p = 0; p < Number(values.processes); p++) {
  for (const op of ops) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL(import.meta.url).pathname,
        "--child",
        op,
        "--n",
        String(N),
        "--blocks",
        String(blocks),
        "--uri",
        uri,
        ...(values.root ? ["--root", values.root] : []),
        "--between",
        values.between!,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`perop_share child ${op} failed`);
    results.set(op, [...(results.get(op) ?? []), JSON.parse(new TextDecoder().decode(out.stdout))]);
  }
  loads.push(loadAverage());
}
console.log(
  `\n${values.processes} processes per operation, ${blocks} blocks of ${N} per side, ${started}-${
    new Date().toISOString().slice(11, 19)
  } UTC, load ${loads.join(" | ")}, between operations: ${values.between}\n`,
);
console.log(
  "Calling thread, µs per operation (medians over the processes): cold = the first block, warm = the median " +
    "of the later ones.\n",
);
console.log(
  "| operation | bare, cold | library, cold | share, cold | bare, warm | library, warm | share, warm |\n" +
    "|---|---:|---:|---:|---:|---:|---:|",
);
for (const op of ops) {
  const rs = results.get(op)!;
  const cold = (side: "bare" | "library") => median(rs.map((r) => r[side][0]));
  const warm = (side: "bare" | "library") => median(rs.map((r) => median(r[side].slice(1))));
  const f = (x: number) => x.toFixed(1);
  console.log(
    `| ${op} | ${f(cold("bare"))} | ${f(cold("library"))} | ${f(cold("library") - cold("bare"))} | ${
      f(warm("bare"))
    } | ${f(warm("library"))} | ${f(warm("library") - warm("bare"))} |`,
  );
}
