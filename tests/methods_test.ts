// Every generated one-call method runs at least once on the in-process test driver: it returns a
// value of the shape its signature promises, or throws a LibvirtError (NotSupportedError naming the
// C function when the driver lacks it) — never a TypeError, never a crash. The table comes from the
// generator (tests/_generated_methods.ts), so a new method is tested as soon as it is generated.
// Objects the test driver cannot create (secrets, nwfilters, bindings, network ports) are proven to
// fail with a clear NotSupportedError here, and their methods run against the lab's libvirtd in
// tests/integration/methods_lab_test.ts.
import assert from "node:assert/strict";
import { Connection, Domain, LibvirtError, lookupDomain, lookupNetwork, NotSupportedError } from "../mod.ts";
import * as lib from "../mod.ts";
import { kPointer } from "../lib/_handle.ts";
import { kInternals } from "../lib/connection.ts";
import { libvirtSymbol } from "../lib/ffi/optional.ts";
import { type GeneratedMethod, generatedMethods } from "./_generated_methods.ts";

const DOMAIN_XML = (name: string) =>
  `<domain type='test'><name>${name}</name><memory>131072</memory><vcpu>1</vcpu>` +
  `<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>` +
  `<source file='/guest/${name}.img'/><target dev='vda' bus='virtio'/></disk>` +
  `<interface type='network'><source network='default'/><target dev='vnet-${name}'/></interface>` +
  `</devices></domain>`;

/** Arguments that mean something to the test driver, by C function; the rest are synthesised. */
const knownArgs: Record<string, (fx: Fixture) => unknown[]> = {
  virDomainDefineXML: () => [DOMAIN_XML("fx-defined")],
  virDomainDefineXMLFlags: () => [DOMAIN_XML("fx-defined")],
  virDomainCreateXML: () => [DOMAIN_XML("fx-created")],
  virDomainCreateXMLWithFiles: () => [DOMAIN_XML("fx-created"), []],
  virNetworkDefineXML: () => [netXml("fx-net2")],
  virNetworkDefineXMLFlags: () => [netXml("fx-net2")],
  virNetworkCreateXML: () => [netXml("fx-net2")],
  virNetworkCreateXMLFlags: () => [netXml("fx-net2")],
  virStoragePoolDefineXML: () => [poolXml("fx-pool2")],
  virStoragePoolCreateXML: () => [poolXml("fx-pool2")],
  virStorageVolCreateXML: () => [volXml("fx-vol2")],
  virStorageVolCreateXMLFrom: (fx) => [volXml("fx-vol2"), fx.objects.StorageVolume],
  virDomainSnapshotCreateXML: () => ["<domainsnapshot><name>fx-snap2</name></domainsnapshot>"],
  virDomainCheckpointCreateXML: () => ["<domaincheckpoint><name>fx-cp2</name></domaincheckpoint>"],
  virDomainAttachDevice: () => [diskXml()],
  virDomainAttachDeviceFlags: () => [diskXml()],
  virDomainUpdateDeviceFlags: () => [diskXml()],
  virDomainSetMemoryParameters: () => [{ hard_limit: 1048576 }],
  virDomainSetBlockIoTune: () => ["vda", { total_bytes_sec: 1_000_000n }],
  virDomainSetBlkioParameters: () => [{ weight: 500 }],
  virDomainSetNumaParameters: () => [{ numa_nodeset: "0" }],
  virDomainSetSchedulerParametersFlags: () => [{ weight: 100 }],
  virDomainSetInterfaceParameters: () => ["vnet-fx", { "inbound.average": 1000 }],
  virDomainGetInterfaceParameters: () => ["vnet-fx"],
  virDomainSetPerfEvents: () => [{ cmt: false }],
  virConnectGetCPUModelNames: () => ["x86_64"],
  virDomainLookupByName: () => ["fx"],
  virNetworkLookupByName: () => ["default"],
  virStoragePoolLookupByName: () => ["default-pool"],
  virNodeDeviceLookupByName: () => ["computer"],
  virInterfaceLookupByName: () => ["eth1"],
  virStorageVolLookupByName: () => ["fx-vol"],
  virDomainSnapshotLookupByName: () => ["fx-snap"],
  virDomainCheckpointLookupByName: () => ["fx-cp"],
  virInterfaceLookupByMACString: () => ["aa:bb:cc:dd:ee:ff"],
  virDomainSendProcessSignal: () => [2_147_483_646, 0],
};

function netXml(name: string): string {
  return `<network><name>${name}</name><bridge name='${name}br'/><ip address='192.168.250.1' ` +
    `netmask='255.255.255.0'/></network>`;
}
function poolXml(name: string): string {
  return `<pool type='dir'><name>${name}</name><target><path>/${name}</path></target></pool>`;
}
function volXml(name: string): string {
  return `<volume><name>${name}</name><capacity unit='MiB'>1</capacity></volume>`;
}
function diskXml(): string {
  return `<disk type='file' device='disk'><source file='/guest/extra.img'/><target dev='vdb'/></disk>`;
}

interface Fixture {
  conn: Connection;
  objects: Record<string, object | undefined>;
  /** Why an object class has no instance on this driver. */
  missing: Record<string, unknown>;
  tmp: string;
  streams: Deno.PointerObject[];
}

async function attempt<T>(fx: Fixture, cls: string, make: () => Promise<T>): Promise<T | undefined> {
  try {
    return await make();
  } catch (error) {
    fx.missing[cls] = error;
    return undefined;
  }
}

/** A fresh in-process test driver (its state lives while a connection is open) with one of each object. */
async function fixture(tmp: string): Promise<Fixture> {
  const conn = Connection.openSync("test:///default");
  const fx: Fixture = { conn, objects: { Connection: conn }, missing: {}, tmp, streams: [] };
  const dom = await conn.domainDefineXml(DOMAIN_XML("fx"));
  await dom.create();
  fx.objects.Domain = dom;
  fx.objects.DomainSnapshot = await attempt(
    fx,
    "DomainSnapshot",
    () => dom.snapshotCreateXml("<domainsnapshot><name>fx-snap</name></domainsnapshot>"),
  );
  const cpDom = await conn.domainDefineXml(DOMAIN_XML("fx-cp"));
  await cpDom.create();
  fx.objects.DomainCheckpoint = await attempt(
    fx,
    "DomainCheckpoint",
    () => cpDom.checkpointCreateXml("<domaincheckpoint><name>fx-cp</name></domaincheckpoint>"),
  );
  const net = await lookupNetwork(conn, "default");
  fx.objects.Network = net;
  const pool = await conn.storagePoolLookupByName("default-pool");
  fx.objects.StoragePool = pool;
  fx.objects.StorageVolume = await pool.storageVolCreateXml(volXml("fx-vol"));
  fx.objects.NodeDevice = await conn.nodeDeviceLookupByName("scsi_host1");
  fx.objects.Interface = await conn.interfaceLookupByName("eth1");
  fx.objects.NetworkPort = await attempt(
    fx,
    "NetworkPort",
    () =>
      net.portCreateXml(
        "<networkport><owner><name>fx</name><uuid>" + dom.uuid + "</uuid></owner>" +
          "<mac address='52:54:00:00:00:01'/></networkport>",
      ),
  );
  fx.objects.Secret = await attempt(
    fx,
    "Secret",
    () => conn.secretDefineXml("<secret><usage type='volume'><volume>/fx</volume></usage></secret>"),
  );
  fx.objects.NWFilter = await attempt(
    fx,
    "NWFilter",
    () => conn.nwFilterDefineXml("<filter name='fx-filter'><rule action='drop' direction='in'/></filter>"),
  );
  fx.objects.NWFilterBinding = await attempt(
    fx,
    "NWFilterBinding",
    () =>
      conn.nwFilterBindingCreateXml(
        "<filterbinding><owner><name>fx</name><uuid>" + dom.uuid + "</uuid></owner>" +
          "<portdev name='vnet-fx'/><mac address='52:54:00:00:00:01'/><filterref filter='clean-traffic'/>" +
          "</filterbinding>",
      ),
  );
  return fx;
}

/** A stream to pass where a method takes one (streams are lib/stream.ts's; a raw one suffices here). */
function rawStream(fx: Fixture): object {
  const pointer = libvirtSymbol("virStreamNew")(
    Deno.UnsafePointer.create(fx.conn[kInternals].pointerValue()),
    0,
  )!;
  fx.streams.push(pointer);
  return { [kPointer]: () => pointer };
}

function synthesise(entry: GeneratedMethod, fx: Fixture): unknown[] {
  const known = knownArgs[entry.fn];
  if (known) return known(fx);
  return entry.params.filter((p) => !p.optional || p.type.includes("null")).map((p) => {
    const name = p.name.toLowerCase();
    if (p.type.endsWith("Options | number")) return undefined;
    if (p.type === "string" || p.type === "string | null") {
      if (p.type === "string | null") return null;
      if (/^(to|from|file|path|savefile)$/.test(name)) return `${fx.tmp}/${entry.method}.out`;
      if (name.includes("xml") || name === "metadata") return "<fx/>";
      if (name === "disk" || name === "path") return "vda";
      if (name === "device" || name === "dev" || name === "portdev") return "vnet-fx";
      if (name.includes("uuid")) return "00000000-0000-0000-0000-000000000000";
      if (name === "arch") return "x86_64";
      if (name.includes("uri")) return "test:///default";
      if (name === "macstr") return "52:54:00:00:00:01";
      return "fx-arg";
    }
    if (p.type === "number") return /fd|pid/.test(name) ? -1 : 0;
    if (p.type === "number | bigint") return /pid/.test(name) ? 2_147_483_646 : 0;
    if (p.type === "Uint8Array") return new Uint8Array(16);
    if (p.type === "readonly string[]" || p.type === "readonly number[]") return [];
    if (p.type === "Connection") return fx.conn;
    if (p.type === "ObjectHandle") return rawStream(fx);
    const cls = p.type.replace(" | null", "");
    if (cls in fx.objects) return fx.objects[cls];
    if (p.type.endsWith("<number | bigint>")) return {}; // typed parameters
    return 0; // a generated enum type: its first value
  });
}

const classes: Record<string, unknown> = lib as unknown as Record<string, unknown>;

function assertShape(type: string, value: unknown, where: string): void {
  type = type.trim();
  if (type === "void") return assert.equal(value, undefined, where);
  if (["boolean", "number", "bigint", "string"].includes(type)) {
    return assert.equal(typeof value, type, `${where}: ${String(value)}`);
  }
  if (type === "Uint8Array") return assert.ok(value instanceof Uint8Array, where);
  if (type.endsWith("[]")) {
    assert.ok(Array.isArray(value), `${where}: not an array`);
    for (const v of value as unknown[]) assertShape(type.slice(0, -2), v, `${where}[]`);
    return;
  }
  if (type.startsWith("{")) {
    assert.equal(typeof value, "object", where);
    for (const field of type.slice(1, -1).split(";").map((f) => f.trim()).filter(Boolean)) {
      const [key, t] = field.split(/:(.*)/s);
      assertShape(t, (value as Record<string, unknown>)[key.trim()], `${where}.${key.trim()}`);
    }
    return;
  }
  const cls = classes[type];
  if (typeof value === "number" && /^[A-Z]\w*$/.test(type) && typeof cls !== "function") return; // an enum
  if (typeof cls === "function") {
    return assert.ok(value instanceof (cls as new (...a: never[]) => unknown), `${where}: not a ${type}`);
  }
  // typed parameters: a plain object of typed values
  assert.equal(typeof value, "object", where);
  for (const [k, v] of Object.entries(value as object)) {
    const ok = (x: unknown) => ["number", "bigint", "boolean", "string"].includes(typeof x);
    assert.ok(ok(v) || (Array.isArray(v) && v.every(ok)), `${where}.${k}: ${String(v)}`);
  }
}

const tally = { returned: 0, libvirtError: 0, notSupported: 0, noInstance: 0 };
const tmp = Deno.makeTempDirSync({ prefix: "deno_libvirt_methods_" });

for (const entry of generatedMethods) {
  Deno.test(`${entry.object}.${entry.method} (${entry.fn}) returns its shape or throws a LibvirtError`, async () => {
    const fx = await fixture(tmp);
    try {
      const target = fx.objects[entry.object];
      if (target === undefined) {
        // the test driver cannot make one: the error that said so is a clear NotSupportedError
        const why = fx.missing[entry.object];
        assert.ok(why instanceof NotSupportedError, `${entry.object}: ${String(why)}`);
        tally.noInstance++;
        return;
      }
      const args = synthesise(entry, fx);
      const method = (target as Record<string, (...a: unknown[]) => unknown>)[entry.method];
      assert.equal(typeof method, "function", `${entry.object}.${entry.method} is missing`);
      let result: unknown;
      try {
        result = entry.async ? await method.apply(target, args) : method.apply(target, args);
      } catch (error) {
        if (!(error instanceof LibvirtError)) throw error; // a TypeError here is a bug in the binding
        if (error instanceof NotSupportedError) {
          assert.match(error.message, new RegExp(entry.fn), "a NotSupportedError names the function");
          tally.notSupported++;
        } else tally.libvirtError++;
        return;
      }
      assertShape(entry.returns, result, `${entry.object}.${entry.method}`);
      tally.returned++;
    } finally {
      for (const s of fx.streams) {
        libvirtSymbol("virStreamAbort")(s);
        libvirtSymbol("virStreamFree")(s);
      }
      fx.conn.closeSync();
    }
  });
}

Deno.test("every generated method ran (tally)", () => {
  Deno.removeSync(tmp, { recursive: true });
  const total = tally.returned + tally.libvirtError + tally.notSupported + tally.noInstance;
  console.log(`generated methods: ${JSON.stringify(tally)} of ${generatedMethods.length}`);
  assert.equal(total, generatedMethods.length);
  assert.ok(tally.returned > generatedMethods.length / 3, "most methods return on the test driver");
});

// ---------------------------------------------------------------------------------------------------
// Focused: typed parameters and flags options

Deno.test("Domain.setMemoryParameters/getMemoryParameters round-trip typed parameters", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    using dom = await lookupDomain(conn, "test");
    await dom.setMemoryParameters({ hard_limit: 2_097_152, soft_limit: 1_048_576n });
    const params = await dom.getMemoryParameters();
    assert.equal(params.hard_limit, 2_097_152n);
    assert.equal(params.soft_limit, 1_048_576n);
    assert.equal(typeof params.swap_hard_limit, "bigint");
  } finally {
    conn.closeSync();
  }
});

Deno.test("Domain.setBlockIoTune/getBlockIoTune round-trip, strings included", async () => {
  const conn2 = Connection.openSync("test:///default");
  try {
    const dom = await conn2.domainDefineXml(DOMAIN_XML("iotune"));
    await dom.create();
    await dom.setBlockIoTune("vda", {
      total_bytes_sec: 5_000_000,
      total_bytes_sec_max: 10_000_000n,
      group_name: "fx-group",
    });
    const tune = await dom.getBlockIoTune("vda");
    assert.equal(tune.total_bytes_sec, 5_000_000n);
    assert.equal(tune.total_bytes_sec_max, 10_000_000n);
    assert.equal(tune.group_name, "fx-group");
  } finally {
    conn2.closeSync();
  }
});

Deno.test("typed parameters: a wrong field or type names the function, the field and the fix", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    using dom = await lookupDomain(conn, "test");
    await assert.rejects(
      () => dom.setMemoryParameters({ hard_limt: 1 } as never),
      (e: Error) =>
        e instanceof TypeError && /virDomainSetMemoryParameters/.test(e.message) &&
        /"hard_limt"/.test(e.message) && /known fields: .*hard_limit/.test(e.message),
    );
    await assert.rejects(
      () => dom.setMemoryParameters({ hard_limit: "lots" } as never),
      (e: Error) => e instanceof TypeError && /expected an integer \(ullong\)/.test(e.message),
    );
    await assert.rejects(
      () => dom.setBlkioParameters({ weight: -1 }),
      (e: Error) => e instanceof RangeError && /out of range for uint/.test(e.message),
    );
  } finally {
    conn.closeSync();
  }
});

Deno.test("Domain.getJobStats on the test driver is a NotSupportedError naming virDomainGetJobStats", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    using dom = await lookupDomain(conn, "test");
    await assert.rejects(
      () => dom.getJobStats(),
      (e: Error) => e instanceof NotSupportedError && /virDomainGetJobStats/.test(e.message),
    );
  } finally {
    conn.closeSync();
  }
});

Deno.test("flags options: named booleans OR into flags; unknown keys are refused with the valid ones", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    const running = await conn.listAllDomains({ active: true });
    const inactive = await conn.listAllDomains({ inactive: true });
    const both = await conn.listAllDomains({ active: true, inactive: true });
    const raw = await conn.listAllDomains({ flags: 1 | 2 });
    assert.deepEqual(running.map((d) => d.name), ["test"]);
    assert.equal(inactive.length, 0);
    assert.equal(both.length, raw.length);
    assert.ok(running[0] instanceof Domain);
    await assert.rejects(
      () => conn.listAllDomains({ runing: true } as never),
      (e: Error) =>
        e instanceof TypeError && /unknown option "runing"/.test(e.message) && /active/.test(e.message),
    );
    using dom = await lookupDomain(conn, "test");
    const inactiveXml = await dom.getXmlDesc({ inactive: true, secure: true });
    assert.match(inactiveXml, /<domain/);
    // the undefine flags are typed: managedSave is VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    assert.equal(lib.DomainUndefineFlagsValuesBits.managedSave, 1);
  } finally {
    conn.closeSync();
  }
});

Deno.test("string arguments: a NUL is refused naming the argument and the function", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    await assert.rejects(
      () => conn.domainLookupByName("te\0st"),
      (e: Error) => e instanceof TypeError && /argument name of virDomainLookupByName/.test(e.message),
    );
  } finally {
    conn.closeSync();
  }
});

Deno.test("sync twins: getStateSync and listAllDomainsSync agree with their async methods", async () => {
  const conn = Connection.openSync("test:///default");
  try {
    using dom = conn.domainLookupByNameSync("test");
    assert.deepEqual(dom.getStateSync(), await dom.getState());
    assert.deepEqual(
      conn.listAllDomainsSync().map((d) => d.name),
      (await conn.listAllDomains()).map((d) => d.name),
    );
  } finally {
    conn.closeSync();
  }
});

// ---------------------------------------------------------------------------------------------------
// The hand-written one-call methods (lib/objects/domain_hand.ts, connection_hand.ts)

const handCalls: [string, (conn: Connection, dom: Domain) => unknown, (value: unknown) => void][] = [
  ["pinVcpu", (_c, d) => d.pinVcpu(0, new Uint8Array([1])), (v) => assert.equal(v, undefined)],
  ["pinVcpuFlags", (_c, d) => d.pinVcpuFlags(0, new Uint8Array([3])), (v) => assert.equal(v, undefined)],
  ["getVcpuPinInfo", (_c, d) => d.getVcpuPinInfo(2, 1), (v) => {
    assert.ok(Array.isArray(v) && v.length === 2 && v.every((x) => x instanceof Uint8Array));
  }],
  ["getEmulatorPinInfo", (_c, d) => d.getEmulatorPinInfo(1), (v) => assert.ok(v instanceof Uint8Array)],
  ["pinEmulator", (_c, d) => d.pinEmulator(new Uint8Array([1])), (v) => assert.equal(v, undefined)],
  ["pinIoThread", (_c, d) => d.pinIoThread(1, new Uint8Array([1])), (v) => assert.equal(v, undefined)],
  ["blockPeek", (_c, d) => d.blockPeek("vda", 0, 16), (v) => assert.ok(v instanceof Uint8Array)],
  ["memoryPeek", (_c, d) => d.memoryPeek(0, 16, { physical: true }), (v) => {
    assert.deepEqual([...(v as Uint8Array)], Array.from({ length: 16 }, (_, i) => i)); // the test driver's pattern
  }],
  ["sendKey", (_c, d) => d.sendKey(0, 10, [30]), (v) => assert.equal(v, undefined)],
  ["getCpuStats (total)", (_c, d) => d.getCpuStats(), (v) => {
    assert.equal(typeof (v as Record<string, unknown>[])[0].cpu_time, "bigint");
  }],
  ["getCpuStats (per CPU)", (_c, d) => d.getCpuStats(0, 2), (v) => assert.equal((v as unknown[]).length, 2)],
  ["getDiskErrors", (_c, d) => d.getDiskErrors(), (v) => {
    for (const e of v as { disk: string; error: number }[]) {
      assert.equal(typeof e.disk, "string");
      assert.equal(typeof e.error, "number");
    }
  }],
  ["getFsInfo", (_c, d) => d.getFsInfo(), (v) => {
    const list = v as { mountpoint: string; devAlias: string[] }[];
    assert.ok(list.some((f) => f.mountpoint === "/" && Array.isArray(f.devAlias)));
  }],
  ["getIoThreadInfo", (_c, d) => d.getIoThreadInfo(), (v) => assert.ok(Array.isArray(v))],
  ["getSecurityLabelList", (_c, d) => d.getSecurityLabelList(), (v) => assert.ok(Array.isArray(v))],
  ["getVcpus", (_c, d) => d.getVcpus(2, 1), (v) => {
    const r = v as { info: { number: number; cpuTime: bigint }[]; cpumaps: Uint8Array[] };
    assert.equal(r.info.length, 2);
    assert.equal(typeof r.info[0].cpuTime, "bigint");
    assert.equal(r.cpumaps.length, 2);
  }],
  ["qemuMonitorCommandWithFiles", (_c, d) => d.qemuMonitorCommandWithFiles("{}"), () => {}],
  ["nodeGetCpuMap", (c) => c.nodeGetCpuMap(), (v) => {
    const r = v as { cpus: number; online: number; cpumap: Uint8Array };
    assert.ok(r.cpus > 0 && r.online <= r.cpus && r.cpumap.length === Math.ceil(r.cpus / 8));
  }],
  ["nodeGetCellsFreeMemory", (c) => c.nodeGetCellsFreeMemory(0, 4), (v) => {
    assert.ok((v as bigint[]).every((x) => typeof x === "bigint"));
  }],
  ["nodeGetFreePages", (c) => c.nodeGetFreePages([4, 2048], 0, 1), (v) => assert.ok(Array.isArray(v))],
  ["nodeAllocPages", (c) => c.nodeAllocPages([2048], [0], 0, 1), (v) => assert.equal(typeof v, "number")],
  [
    "libraryVersion (static)",
    () => Connection.libraryVersion(),
    (v) => assert.match(v as string, /^\d+\.\d+\.\d+$/),
  ],
];

for (const [name, call, check] of handCalls) {
  Deno.test(`hand-written ${name} returns its shape or throws a LibvirtError`, async () => {
    const conn = Connection.openSync("test:///default");
    try {
      using dom = await lookupDomain(conn, "test");
      let value: unknown;
      try {
        value = await call(conn, dom);
      } catch (error) {
        assert.ok(error instanceof LibvirtError, `${name}: ${String(error)}`);
        return;
      }
      check(value);
    } finally {
      conn.closeSync();
    }
  });
}

Deno.test("methodOverrides names only functions libvirt's API declares (no stale entry)", async () => {
  const { loadApiModel } = await import("../lib/ffi/_gen/api_model.ts");
  const { methodOverrides } = await import("../lib/ffi/_gen/overrides.ts");
  const known = new Set((await loadApiModel()).functions.map((f) => f.name));
  const named = [
    ...Object.keys(methodOverrides.typedParams),
    ...Object.keys(methodOverrides.flagsEnums),
    ...methodOverrides.syncTwins,
    ...Object.keys(methodOverrides.skip),
    ...Object.keys(methodOverrides.paramsCapacity),
    ...Object.keys(methodOverrides.structCapacity),
    ...Object.keys(methodOverrides.handWritten),
    ...Object.keys(methodOverrides.handMembers),
  ];
  assert.deepEqual(named.filter((n) => !known.has(n)), []);
});
