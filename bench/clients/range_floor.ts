/**
 * The bare-FFI floor of bench/range_compare.ts: the range job upRange/downRange do, with none of the
 * library: `Deno.dlopen` of libvirt, the calls declared `nonblocking` (each runs on Deno's blocking
 * pool, as the library's do), one connection per lane, every lane taking the next guest from a shared
 * queue. What this costs is what any Deno client built on nonblocking FFI pays on this machine; what
 * upRange/downRange spend above it is the library's (its checks, error attribution, bookkeeping).
 *
 *   deno run --allow-all bench/clients/range_floor.ts URI SPEC.json [LANES]
 *
 * SPEC.json is bench/clients/range_python.py's. The calls per guest are upRange's and downRange's, not
 * the python script's: up creates the overlay volume (its path from the pool's directory, read once),
 * defines, starts and reads the lease once (the test driver answers at once); down lists the domains
 * and the volumes once per lane (a handle belongs to the connection it was listed on), then per guest
 * destroys, undefines and deletes the volume. Prints range_python.py's JSON line with
 * "client": "floor". Exit 1 on a libvirt error (its message on stderr).
 *
 * @module
 */
import { processCpu, threadCpu } from "../_cpu.ts";

/** libvirtd's CPU time so far (ns), when the environment names its pid in DAEMON_PID (as range_python.py's). */
const daemonCpuNs = (): number | undefined => {
  const pid = Deno.env.get("DAEMON_PID");
  return pid ? processCpu(Number(pid)) : undefined;
};

const [uri, specFile, lanesArg] = Deno.args;
if (!uri || !specFile) {
  console.error("usage: range_floor.ts URI SPEC.json [LANES]");
  Deno.exit(2);
}
const lanes = Number(lanesArg ?? 8);
const spec = JSON.parse(Deno.readTextFileSync(specFile)) as {
  pool: string;
  network_xml: string;
  network: string;
  guests: { name: string; volume: string; volume_xml: string; domain_xml: string }[];
};

const rpc = { nonblocking: true } as const;
const lib = Deno.dlopen(Deno.env.get("DENO_LIBVIRT_PATH") ?? "libvirt.so.0", {
  virConnectOpen: { parameters: ["buffer"], result: "pointer" },
  virConnectClose: { parameters: ["pointer"], result: "i32" },
  virGetLastErrorMessage: { parameters: [], result: "pointer" },
  virConnGetLastError: { parameters: ["pointer"], result: "pointer" },
  virNetworkDefineXML: { parameters: ["pointer", "buffer"], result: "pointer", ...rpc },
  virNetworkCreate: { parameters: ["pointer"], result: "i32", ...rpc },
  virNetworkDestroy: { parameters: ["pointer"], result: "i32", ...rpc },
  virNetworkUndefine: { parameters: ["pointer"], result: "i32", ...rpc },
  virNetworkFree: { parameters: ["pointer"], result: "i32" },
  virStoragePoolLookupByName: { parameters: ["pointer", "buffer"], result: "pointer", ...rpc },
  virStoragePoolGetXMLDesc: { parameters: ["pointer", "u32"], result: "pointer", ...rpc },
  virStoragePoolListAllVolumes: { parameters: ["pointer", "buffer", "u32"], result: "i32", ...rpc },
  virStoragePoolFree: { parameters: ["pointer"], result: "i32" },
  virStorageVolCreateXML: { parameters: ["pointer", "buffer", "u32"], result: "pointer", ...rpc },
  virStorageVolGetName: { parameters: ["pointer"], result: "pointer" },
  virStorageVolDelete: { parameters: ["pointer", "u32"], result: "i32", ...rpc },
  virStorageVolFree: { parameters: ["pointer"], result: "i32" },
  virDomainDefineXML: { parameters: ["pointer", "buffer"], result: "pointer", ...rpc },
  virDomainCreate: { parameters: ["pointer"], result: "i32", ...rpc },
  virDomainInterfaceAddresses: { parameters: ["pointer", "buffer", "u32", "u32"], result: "i32", ...rpc },
  virDomainInterfaceFree: { parameters: ["pointer"], result: "void" },
  virConnectListAllDomains: { parameters: ["pointer", "buffer", "u32"], result: "i32", ...rpc },
  virDomainGetName: { parameters: ["pointer"], result: "pointer" },
  virDomainDestroy: { parameters: ["pointer"], result: "i32", ...rpc },
  virDomainUndefineFlags: { parameters: ["pointer", "u32"], result: "i32", ...rpc },
  virDomainFree: { parameters: ["pointer"], result: "i32" },
  free: { parameters: ["pointer"], result: "void" },
});
const s = lib.symbols;
const encoder = new TextEncoder();
const cstr = (text: string) => encoder.encode(`${text}\0`);

/**
 * Throws with libvirt's message for a failed call. A nonblocking call fails on a thread of Deno's
 * blocking pool, and libvirt's last error is per thread, so the main thread's would be stale: the
 * connection's own copy (virConnGetLastError, which libvirt fills when a call on it fails) is the
 * one. Each lane has one call in flight on its connection, so the copy is that call's. A connection
 * that failed to open has none: virConnectOpen is a blocking call here, on this thread.
 */
function fail(what: string, conn?: Deno.PointerValue): never {
  let message: Deno.PointerValue = null;
  if (conn) {
    const error = s.virConnGetLastError(conn);
    // virError: int code; int domain; char *message; ...
    if (error) message = new Deno.UnsafePointerView(error).getPointer(8);
  } else {
    message = s.virGetLastErrorMessage();
  }
  throw new Error(`${what}: ${message ? Deno.UnsafePointerView.getCString(message) : "failed"}`);
}
function ok<T extends Deno.PointerValue | number>(
  what: string,
  value: T,
  conn?: Deno.PointerValue,
): NonNullable<T> {
  if (value === null || (typeof value === "number" && value < 0)) fail(what, conn);
  return value as NonNullable<T>;
}
/** A libvirt-allocated array of pointers, taken and freed. */
function pointers(slot: BigUint64Array, count: number): Deno.PointerObject[] {
  const array = Deno.UnsafePointer.create(slot[0])!;
  const view = new Deno.UnsafePointerView(array);
  const out: Deno.PointerObject[] = [];
  for (let i = 0; i < count; i++) out.push(view.getPointer(i * 8)!);
  s.free(array);
  return out;
}
const nameOf = (get: (p: Deno.PointerObject) => Deno.PointerValue, p: Deno.PointerObject) =>
  Deno.UnsafePointerView.getCString(get(p)!);

const conns = Array.from({ length: lanes }, () => ok("open", s.virConnectOpen(cstr(uri))));
const pools = await Promise.all(conns.map((c) => s.virStoragePoolLookupByName(c, cstr(spec.pool))));
pools.forEach((p, lane) => ok("look up the pool", p, conns[lane]));

/** Runs `fn` over the guests on every lane, each taking the next one. */
async function overGuests(
  fn: (lane: number, guest: (typeof spec.guests)[number]) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(conns.map(async (_, lane) => {
    while (next < spec.guests.length) await fn(lane, spec.guests[next++]);
  }));
}

const cpuNs = () => {
  const u = process.cpuUsage(); // µs
  return (u.user + u.system) * 1000;
};

// up
const th0 = threadCpu();
const t0 = performance.now(), c0 = cpuNs(), d0 = daemonCpuNs();
const net = ok("define the network", await s.virNetworkDefineXML(conns[0], cstr(spec.network_xml)), conns[0]);
ok("start the network", await s.virNetworkCreate(net), conns[0]);
const poolXml = ok("read the pool", await s.virStoragePoolGetXMLDesc(pools[0]!, 0), conns[0]);
const dir = /<target>\s*<path>([^<]*)<\/path>/.exec(Deno.UnsafePointerView.getCString(poolXml))![1];
s.free(poolXml);
let addresses = 0;
await overGuests(async (lane, g) => {
  const vol = ok(
    "create a volume",
    await s.virStorageVolCreateXML(pools[lane]!, cstr(g.volume_xml), 0),
    conns[lane],
  );
  s.virStorageVolFree(vol);
  const xml = g.domain_xml.replace("@VOLUME_PATH@", `${dir}/${g.volume}`);
  const dom = ok("define a domain", await s.virDomainDefineXML(conns[lane], cstr(xml)), conns[lane]);
  ok("start a domain", await s.virDomainCreate(dom), conns[lane]);
  const slot = new BigUint64Array(1);
  const n = ok("read a lease", await s.virDomainInterfaceAddresses(dom, slot, 0, 0), conns[lane]);
  for (const iface of pointers(slot, n)) {
    // virDomainInterface: name, hwaddr, naddrs (u32), addrs
    if (new Deno.UnsafePointerView(iface).getUint32(16) > 0) addresses++;
    s.virDomainInterfaceFree(iface);
  }
  s.virDomainFree(dom);
});
const up = performance.now() - t0, upCpu = cpuNs() - c0, d1 = daemonCpuNs(), th1 = threadCpu();

// down
const t1 = performance.now(), c1 = cpuNs();
const listed = await Promise.all(conns.map(async (c) => {
  const slot = new BigUint64Array(1);
  const all = pointers(slot, ok("list domains", await s.virConnectListAllDomains(c, slot, 0), c));
  return new Map(all.map((p) => [nameOf(s.virDomainGetName, p), p]));
}));
await overGuests(async (lane, g) => {
  const dom = listed[lane].get(g.name)!;
  ok("destroy a domain", await s.virDomainDestroy(dom), conns[lane]);
  ok("undefine a domain", await s.virDomainUndefineFlags(dom, 0), conns[lane]);
});
for (const m of listed) for (const p of m.values()) s.virDomainFree(p);
const volumes = await Promise.all(pools.map(async (p, lane) => {
  const slot = new BigUint64Array(1);
  const all = pointers(
    slot,
    ok("list volumes", await s.virStoragePoolListAllVolumes(p!, slot, 0), conns[lane]),
  );
  return new Map(all.map((v) => [nameOf(s.virStorageVolGetName, v), v]));
}));
await overGuests(async (lane, g) => {
  ok("delete a volume", await s.virStorageVolDelete(volumes[lane].get(g.volume)!, 0), conns[lane]);
});
for (const m of volumes) for (const v of m.values()) s.virStorageVolFree(v);
ok("destroy the network", await s.virNetworkDestroy(net), conns[0]);
ok("undefine the network", await s.virNetworkUndefine(net), conns[0]);
s.virNetworkFree(net);
const down = performance.now() - t1, downCpu = cpuNs() - c1, d2 = daemonCpuNs(), th2 = threadCpu();

for (const p of pools) s.virStoragePoolFree(p!);
for (const c of conns) s.virConnectClose(c);
console.log(JSON.stringify({
  client: "floor",
  guests: spec.guests.length,
  up_ns: Math.round(up * 1e6),
  down_ns: Math.round(down * 1e6),
  up_cpu_ns: upCpu,
  down_cpu_ns: downCpu,
  addresses,
  // the main thread's share (JavaScript, FFI call setup) and the other threads' (Deno's blocking pool)
  up_main_ns: th1.main - th0.main,
  up_other_ns: th1.other - th0.other,
  down_main_ns: th2.main - th1.main,
  down_other_ns: th2.other - th1.other,
  ...(d0 !== undefined ? { up_daemon_ns: d1! - d0, down_daemon_ns: d2! - d1! } : {}),
}));
