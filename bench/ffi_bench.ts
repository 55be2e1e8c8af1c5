// deno bench: the library's own per-call costs. The comparison with C, libvirt-python and virsh lives in
// bench/compare.ts (separate processes, interleaved); these are for spotting regressions quickly.
// Needs the lab's libvirtd for the test+unix groups (tests/integration/lab/lab.sh up).
import {
  Connection,
  ConnectionPool,
  listAllDomains,
  listAllDomainsSync,
  lookupDomain,
  lookupDomainSync,
} from "../mod.ts";
import { libvirtSymbols } from "../lib/ffi/_generated/symbols.ts";
import { libvirt } from "../lib/ffi/library.ts";

const local = Connection.openSync("test:///default");
const daemonKeeper = await Connection.open("test+unix:///default");
const daemon = await Connection.open("test+unix:///default");
const localPool = new ConnectionPool("test:///default", { max: 16, min: 16 });
const daemonPool = new ConnectionPool("test+unix:///default", { max: 16, min: 16 });
await Promise.all([localPool.warm(), daemonPool.warm()]);

async function burst(pool: ConnectionPool, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, () =>
    pool.use(async (conn) => {
      using dom = await lookupDomain(conn, "test");
      await dom.info();
    })));
}

Deno.bench("lookup+info, sync, in-process", { group: "in-process", baseline: true }, () => {
  const d = lookupDomainSync(local, "test");
  d.infoSync();
  d.free();
});
Deno.bench("lookup+info, async, in-process", { group: "in-process" }, async () => {
  using d = await lookupDomain(local, "test");
  await d.info();
});
Deno.bench(
  "lookup+info x32 through a 16-connection pool, in-process (per 32)",
  { group: "in-process" },
  async () => {
    await burst(localPool, 32);
  },
);
Deno.bench("listAllDomains, sync, in-process", { group: "in-process" }, () => {
  for (const d of listAllDomainsSync(local)) d.free();
});
Deno.bench("open+close, sync, in-process", { group: "open" }, () => {
  Connection.openSync("test:///default").closeSync();
});
Deno.bench("open+close, async, libvirtd", { group: "open" }, async () => {
  await (await Connection.open("test+unix:///default")).close();
});
Deno.bench("lookup+info, async, libvirtd", { group: "libvirtd", baseline: true }, async () => {
  using d = await lookupDomain(daemon, "test");
  await d.info();
});
Deno.bench(
  "lookup+info x32 through a 16-connection pool, libvirtd (per 32)",
  { group: "libvirtd" },
  async () => {
    await burst(daemonPool, 32);
  },
);
Deno.bench("listAllDomains, async, libvirtd", { group: "libvirtd" }, async () => {
  for (const d of await listAllDomains(daemon)) d.free();
});

// The generated tables bind each symbol on first use (lib/ffi/_lazy.ts) instead of dlopen'ing the
// whole table at load: the per-call path must be no slower than an eagerly dlopen'ed table's, which is
// how the hand-written tables were loaded.
const lazy = libvirt().symbols;
const eager = Deno.dlopen(libvirt().path, libvirtSymbols).symbols;
const rawConn = lazy.virConnectOpen(new TextEncoder().encode("test:///default\0"));
const rawName = new TextEncoder().encode("test\0");
const rawInfo = new Uint8Array(40);
Deno.bench(
  "raw lookup+info+free, generated symbols bound lazily",
  { group: "symbols", baseline: true },
  () => {
    const dom = lazy.virDomainLookupByName(rawConn, rawName);
    lazy.virDomainGetInfo(dom, rawInfo);
    lazy.virDomainFree(dom);
  },
);
Deno.bench(
  "raw lookup+info+free, the same table dlopen'ed eagerly (the old loading)",
  { group: "symbols" },
  () => {
    const dom = eager.virDomainLookupByName(rawConn, rawName);
    eager.virDomainGetInfo(dom, rawInfo);
    eager.virDomainFree(dom);
  },
);

globalThis.addEventListener("unload", () => {
  local.closeSync();
  lazy.virConnectClose(rawConn);
  void Promise.all([daemon.close(), daemonKeeper.close(), localPool.close(), daemonPool.close()]);
});
