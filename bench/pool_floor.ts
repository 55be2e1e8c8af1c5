/**
 * The floor under the pool benchmark (bench/compare.ts, lookup_info through a ConnectionPool): the same
 * two libvirt calls (virDomainLookupByName, virDomainGetInfo, then virDomainFree) as bare nonblocking
 * Deno FFI calls, no library code at all, N connections with one operation in flight on each. What the
 * library adds on top is what `--mode pool` of bench/clients/client_deno.ts costs beyond this.
 *
 *   deno run --allow-all bench/pool_floor.ts [--uri test+unix:///default] [--inflight 16]
 *     [--iterations 4000] [--rounds 3] [--fnptr]
 *
 * Prints one JSON line per round (bench/clients/README.md's fields): wall time per operation and the
 * process's CPU per operation, split into the main (JavaScript) thread and every other thread (Deno's
 * blocking pool, libvirt's threads), from /proc/self/task/<tid>/schedstat.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { processCpu, threadCpu } from "./_cpu.ts";

const { values } = parseArgs({
  options: {
    uri: { type: "string", default: "test+unix:///default" },
    inflight: { type: "string", default: "16" },
    iterations: { type: "string", default: "4000" },
    rounds: { type: "string", default: "3" },
    fnptr: { type: "boolean", default: false },
    op: { type: "string", default: "lookup_info" }, // bench/clients/README.md's contract: the only op
  },
});
if (values.op !== "lookup_info") throw new TypeError(`--op ${values.op}: only lookup_info`);
const inflight = Number(values.inflight);
const iterations = Number(values.iterations);

const lib = Deno.dlopen(
  "libvirt.so.0",
  {
    virConnectOpen: { parameters: ["buffer"], result: "pointer" },
    virConnectClose: { parameters: ["pointer"], result: "i32" },
    virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer", nonblocking: true },
    virDomainGetInfo: { parameters: ["pointer", "buffer"], result: "i32", nonblocking: true },
    virDomainFree: { parameters: ["pointer"], result: "i32" },
  } as const,
);
// --fnptr: the two nonblocking calls through Deno.UnsafeFnPointer (bound from dlsym's address, as
// lib/ffi/_lazy.ts binds nonblocking symbols) instead of the dlopen'ed symbols
const viaPointer = <D extends Deno.ForeignFunction>(cName: string, def: D) => {
  const fn = new Deno.UnsafeFnPointer(
    Deno.UnsafePointer.create(BigInt(Deno.UnsafePointer.value(dlsym(cName)))) as Deno.PointerObject<D>,
    def,
  );
  return fn.call.bind(fn) as unknown as Deno.StaticForeignSymbol<D>;
};
const libc = Deno.dlopen(
  "libc.so.6",
  {
    dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
    dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  } as const,
);
const self = libc.symbols.dlopen(new TextEncoder().encode("libvirt.so.0\0"), 2);
const dlsym = (cName: string) => libc.symbols.dlsym(self, new TextEncoder().encode(cName + "\0"))!;
const s = values.fnptr
  ? {
    ...lib.symbols,
    virDomainLookupByName: viaPointer(
      "virDomainLookupByName",
      {
        parameters: ["pointer", "buffer"],
        result: "pointer",
        nonblocking: true,
      } as const,
    ),
    virDomainGetInfo: viaPointer(
      "virDomainGetInfo",
      {
        parameters: ["pointer", "buffer"],
        result: "i32",
        nonblocking: true,
      } as const,
    ),
  }
  : lib.symbols;
const cstr = (text: string) => new TextEncoder().encode(text + "\0");
const uri = cstr(values.uri!);
const name = cstr("test");

// libvirtd's threads' CPU, when /run/libvirtd.pid names it (the lab's daemon)
const daemonPid = (() => {
  try {
    return Number(Deno.readTextFileSync("/run/libvirtd.pid").trim());
  } catch {
    return NaN;
  }
})();
const daemonCpu = () => Number.isFinite(daemonPid) ? processCpu(daemonPid) : NaN;

const connections = Array.from({ length: inflight }, () => {
  const c = s.virConnectOpen(uri);
  if (c === null) throw new Error(`cannot open ${values.uri}`);
  return c;
});

async function run(count: number): Promise<number> {
  let next = 0;
  const worker = async (conn: Deno.PointerObject) => {
    const info = new Uint8Array(40);
    while (next++ < count) {
      const dom = await s.virDomainLookupByName(conn, name);
      if (dom === null) throw new Error("lookup failed");
      if (await s.virDomainGetInfo(dom, info) < 0) throw new Error("info failed");
      s.virDomainFree(dom);
    }
  };
  const started = performance.now();
  await Promise.all(connections.map(worker));
  return performance.now() - started;
}

await run(Math.max(inflight * 4, iterations / 10));
for (let round = 0; round < Number(values.rounds); round++) {
  const daemonBefore = daemonCpu();
  const before = threadCpu();
  const ms = await run(iterations);
  const after = threadCpu();
  const daemon = daemonCpu() - daemonBefore;
  console.log(JSON.stringify({
    client: `floor${inflight}${values.fnptr ? "-fnptr" : ""}`,
    op: "lookup_info",
    uri: values.uri,
    iterations,
    per_op_ns: Math.round(ms * 1e6 / iterations),
    cpu_main_ns_per_op: Math.round((after.main - before.main) / iterations),
    cpu_other_ns_per_op: Math.round((after.other - before.other) / iterations),
    ...(Number.isFinite(daemon) ? { daemon_cpu_ns_per_op: Math.round(daemon / iterations) } : {}),
    load: Deno.loadavg()[0],
  }));
}
for (const c of connections) s.virConnectClose(c);
lib.close();
