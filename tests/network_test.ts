import assert from "node:assert/strict";
import {
  Connection,
  createNetwork,
  defineNetwork,
  destroyNetwork,
  dhcpLeases,
  ErrorCode,
  isLibvirtError,
  listAllNetworks,
  lookupNetwork,
  Network,
  NotFoundError,
  NotSupportedError,
  OperationInvalidError,
  startNetwork,
  undefineNetwork,
} from "../mod.ts";
import { mallocCString } from "../lib/ffi/c.ts";
import { libvirt } from "../lib/ffi/library.ts";
import { decodeDhcpLease, VIR_NETWORK_DHCP_LEASE_SIZE } from "../lib/ffi/structs.ts";
import { _takeLeasesForTesting, listNetworksFlags } from "../lib/network.ts";
import { DAEMON_URI, requireDaemon, writeNodeFile } from "./_helpers.ts";

const DEFAULT_UUID = "dd8fe884-6c02-601e-7551-cca97df1c5df"; // test:///default's "default" network

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

function networkXml(name: string, bridge: string, subnet = "10.200.0"): string {
  return `<network><name>${name}</name><bridge name='${bridge}'/>` +
    `<ip address='${subnet}.1' netmask='255.255.255.0'/></network>`;
}

async function names(networks: Promise<Network[]>): Promise<string[]> {
  return (await networks).map((n) => (n.free(), n.name)).sort();
}

Deno.test("lookupNetwork finds by name and UUID, and NotFoundError otherwise", async () => {
  const conn = await Connection.open("test:///default");
  {
    using byName = await lookupNetwork(conn, "default");
    assert.equal(byName.uuid, DEFAULT_UUID);
    assert.equal(Deno.inspect(byName), 'Network { name: "default" }');
    using byUuid = await lookupNetwork(conn, DEFAULT_UUID);
    assert.equal(byUuid.name, "default");
    using byBareUuid = await lookupNetwork(conn, DEFAULT_UUID.replaceAll("-", ""));
    assert.equal(byBareUuid.name, "default");
    assert.equal(await byName.bridgeName(), "virbr0");
    assert.equal(await byName.isActive(), true);
    assert.equal(await byName.isPersistent(), true);
    assert.equal(await byName.autostart(), false);
    assert.match(await byName.xmlDesc(), /<name>default<\/name>[\s\S]*<bridge name='virbr0'/);
    // the test driver refuses VIR_NETWORK_XML_INACTIVE (real drivers accept it): the flag does reach libvirt
    await assert.rejects(
      () => byName.xmlDesc({ inactive: true }),
      (e: unknown) =>
        isLibvirtError(e, ErrorCode.INVALID_ARG) &&
        e.message ===
          'Cannot get the XML of network "default": unsupported flags (0x1) in function testNetworkGetXMLDesc',
    );

    await assert.rejects(() => lookupNetwork(conn, "no-such-net"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.code, ErrorCode.NO_NETWORK);
      assert.equal(
        e.message,
        `Cannot look up network "no-such-net": Network not found: no network with matching name 'no-such-net'`,
      );
      return true;
    });
    await assert.rejects(() => lookupNetwork(conn, "00000000-0000-0000-0000-000000000000"), NotFoundError);
    await assert.rejects(() => lookupNetwork(conn, "bad\0name"), TypeError);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Network.create, destroy, undefine: a full round trip, errors naming the call and the network", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-net");
  {
    using net = await defineNetwork(conn, networkXml(name, "dlvbr-rt"));
    assert.equal(net.name, name);
    assert.equal(await net.isActive(), false);
    assert.equal(await net.isPersistent(), true);

    await net.create();
    assert.equal(await net.isActive(), true);
    await assert.rejects(() => net.create(), (e: unknown) => {
      assert.ok(e instanceof OperationInvalidError);
      assert.match(
        e.message,
        new RegExp(`^Cannot call virNetworkCreate on network "${name}": .*already running`),
      );
      return true;
    });

    await net.setAutostart(true);
    assert.equal(await net.autostart(), true);
    await net.setAutostart(false);
    assert.equal(await net.autostart(), false);

    await net.destroy();
    assert.equal(await net.isActive(), false);

    await net.undefine();
    await assert.rejects(() => lookupNetwork(conn, name), NotFoundError);
    await assert.rejects(
      () => net.isActive(),
      (e: unknown) =>
        e instanceof NotFoundError &&
        e.message.startsWith(`Cannot check whether network "${name}" is active: `),
      "the handle outlives the network, calls on it report the network gone",
    );
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("startNetwork, destroyNetwork, undefineNetwork, dhcpLeases: deprecated aliases of the methods, in their own words", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-alias");
  {
    using net = await defineNetwork(conn, networkXml(name, "dlvbr-al"));
    await startNetwork(net);
    assert.equal(await net.isActive(), true);
    await assert.rejects(() => startNetwork(net), (e: unknown) => {
      assert.ok(e instanceof OperationInvalidError);
      assert.match(e.message, new RegExp(`^Cannot start network "${name}": .*already running`));
      assert.ok(e.cause instanceof OperationInvalidError, "the method's error is the cause");
      assert.match(e.cause.message, /^Cannot call virNetworkCreate on network /);
      return true;
    });
    await assert.rejects(() => dhcpLeases(net), NotSupportedError);
    await destroyNetwork(net);
    assert.equal(await net.isActive(), false);
    await undefineNetwork(net);
    await assert.rejects(() => lookupNetwork(conn, name), NotFoundError);
    await assert.rejects(() => undefineNetwork(net), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, new RegExp(`^Cannot undefine network "${name}": `));
      return true;
    });
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("createNetwork makes a running transient network that disappears when destroyed", async () => {
  const conn = await Connection.open("test:///default");
  const name = unique("dlv-transient");
  {
    using net = await createNetwork(conn, networkXml(name, "dlvbr-tr"));
    assert.equal(await net.isActive(), true);
    assert.equal(await net.isPersistent(), false);
    assert.equal(await net.bridgeName(), "dlvbr-tr");
    await assert.rejects(
      () => net.undefine(),
      (e: unknown) =>
        e instanceof OperationInvalidError && /^Cannot call virNetworkUndefine on network /.test(e.message),
    );
    await net.destroy();
    await assert.rejects(() => lookupNetwork(conn, name), NotFoundError);
  }
  await assert.rejects(
    () => defineNetwork(conn, "<network><name>broken"),
    (e: unknown) => e instanceof Error && /^Cannot define network from XML: /.test(e.message),
  );
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("listAllNetworks filters by active, persistent and autostart", async () => {
  const node = await writeNodeFile(0); // private state: the node file's "default" network, running
  const conn = await Connection.open(`test://${node}`);
  try {
    using inactive = await defineNetwork(conn, networkXml("defined-off", "dlvbr-off", "10.201.0"));
    using autostarted = await defineNetwork(conn, networkXml("defined-auto", "dlvbr-auto", "10.202.0"));
    await autostarted.create();
    await autostarted.setAutostart(true);
    using transient = await createNetwork(conn, networkXml("transient", "dlvbr-tmp", "10.203.0"));

    assert.deepEqual(await names(listAllNetworks(conn)), [
      "default",
      "defined-auto",
      "defined-off",
      "transient",
    ]);
    assert.deepEqual(await names(listAllNetworks(conn, { active: true })), [
      "default",
      "defined-auto",
      "transient",
    ]);
    assert.deepEqual(await names(listAllNetworks(conn, { active: false })), ["defined-off"]);
    assert.deepEqual(await names(listAllNetworks(conn, { persistent: false })), ["transient"]);
    assert.deepEqual(await names(listAllNetworks(conn, { autostart: true })), ["defined-auto"]);
    assert.deepEqual(
      await names(listAllNetworks(conn, { active: true, persistent: true, autostart: false })),
      ["default"],
    );
    assert.equal(await inactive.isActive(), false);
    assert.equal(await transient.isPersistent(), false);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
    await Deno.remove(node);
  }
});

Deno.test("listNetworksFlags: networks number INACTIVE 1 and ACTIVE 2, unlike domains", () => {
  assert.equal(listNetworksFlags(), 0);
  assert.equal(listNetworksFlags({ active: true }), 2);
  assert.equal(listNetworksFlags({ active: false }), 1);
  assert.equal(listNetworksFlags({ persistent: true, autostart: false }), 4 | 32);
  assert.equal(listNetworksFlags({ persistent: false, autostart: true }), 8 | 16);
});

Deno.test("Network.getDhcpLeases on the test driver is a NotSupportedError that says what failed", async () => {
  const conn = await Connection.open("test:///default");
  {
    using net = await lookupNetwork(conn, "default");
    for (const options of [{}, { mac: "52:54:00:00:00:01" }]) {
      await assert.rejects(() => net.getDhcpLeases(options), (e: unknown) => {
        assert.ok(e instanceof NotSupportedError);
        assert.equal(e.code, ErrorCode.NO_SUPPORT);
        assert.equal(
          e.message,
          'Cannot read DHCP leases of network "default": this function is not supported by the connection driver: virNetworkGetDHCPLeases',
        );
        return true;
      });
    }
    await assert.rejects(() => net.getDhcpLeases({ mac: "52:54\0" }), TypeError);
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

/** Builds a virNetworkDHCPLease in malloc'd memory, as libvirt would (it frees it with free()). */
function mallocLease(fields: {
  iface: string;
  expiry: bigint;
  type: number;
  mac: string | null;
  iaid: string | null;
  ipaddr: string;
  prefix: number;
  hostname: string | null;
  clientid: string | null;
}): Deno.PointerObject {
  const { libc } = libvirt();
  const pointer = libc.malloc(BigInt(VIR_NETWORK_DHCP_LEASE_SIZE))!;
  const view = new DataView(Deno.UnsafePointerView.getArrayBuffer(pointer, VIR_NETWORK_DHCP_LEASE_SIZE));
  const string = (text: string | null) =>
    text === null ? 0n : BigInt(Deno.UnsafePointer.value(mallocCString(text).pointer));
  view.setBigUint64(0, string(fields.iface), true);
  view.setBigInt64(8, fields.expiry, true);
  view.setInt32(16, fields.type, true);
  view.setBigUint64(24, string(fields.mac), true);
  view.setBigUint64(32, string(fields.iaid), true);
  view.setBigUint64(40, string(fields.ipaddr), true);
  view.setUint32(48, fields.prefix, true);
  view.setBigUint64(56, string(fields.hostname), true);
  view.setBigUint64(64, string(fields.clientid), true);
  return pointer;
}

Deno.test("dhcpLeases decoding: virNetworkDHCPLease offsets, optional fields, and freeing", () => {
  // The test driver has no leases, so build libvirt's output by hand: an array of two leases in
  // malloc'd memory, decoded and then freed the way dhcpLeases frees libvirt's.
  const { libc } = libvirt();
  const v4 = mallocLease({
    iface: "virbr0",
    expiry: 1_700_000_000n,
    type: 0,
    mac: "52:54:00:aa:bb:cc",
    iaid: null,
    ipaddr: "192.168.122.57",
    prefix: 24,
    hostname: "web1",
    clientid: "01:52:54:00:aa:bb:cc",
  });
  const v6 = mallocLease({
    iface: "virbr0",
    expiry: 0n,
    type: 1,
    mac: "52:54:00:aa:bb:cc",
    iaid: "5678",
    ipaddr: "fd00::57",
    prefix: 64,
    hostname: null,
    clientid: null,
  });
  assert.deepEqual(decodeDhcpLease(v4), {
    iface: "virbr0",
    expiryTime: 1_700_000_000n,
    type: 0,
    mac: "52:54:00:aa:bb:cc",
    iaid: null,
    ipaddr: "192.168.122.57",
    prefix: 24,
    hostname: "web1",
    clientId: "01:52:54:00:aa:bb:cc",
  });
  const array = libc.malloc(16n)!;
  const slots = new BigUint64Array(Deno.UnsafePointerView.getArrayBuffer(array, 16));
  slots[0] = BigInt(Deno.UnsafePointer.value(v4));
  slots[1] = BigInt(Deno.UnsafePointer.value(v6));

  const leases = _takeLeasesForTesting(array, 2); // frees both leases and the array
  assert.deepEqual(leases, [
    {
      interface: "virbr0",
      expiryTime: new Date(1_700_000_000_000),
      type: "ipv4",
      mac: "52:54:00:aa:bb:cc",
      address: "192.168.122.57",
      prefix: 24,
      hostname: "web1",
      clientId: "01:52:54:00:aa:bb:cc",
    },
    {
      interface: "virbr0",
      expiryTime: new Date(0),
      type: "ipv6",
      mac: "52:54:00:aa:bb:cc",
      iaid: "5678",
      address: "fd00::57",
      prefix: 64,
    },
  ]);
  assert.deepEqual(_takeLeasesForTesting(null, 0), []);
});

Deno.test("Network handles: not constructible, guarded after free, safe to free mid-call", async () => {
  const conn = await Connection.open("test:///default");
  assert.throws(
    () => new Network(Symbol("fake"), conn, Deno.UnsafePointer.create(1n)!), // never dereferenced
    /Cannot construct a Network directly: use lookupNetwork\(\) or listAllNetworks\(\)/,
  );

  const net = await lookupNetwork(conn, "default");
  net.free();
  net.free(); // idempotent
  assert.ok(net.freed);
  assert.equal(net.name, "default", "the name stays readable after the free");
  assert.equal(Deno.inspect(net), 'Network { name: "default", freed }');
  assert.throws(() => net.uuid, /Cannot read the UUID of freed Network "default"/);
  await assert.rejects(() => net.xmlDesc(), /^TypeError: Cannot get the XML of freed Network "default"$/);
  await assert.rejects(() => net.isActive(), /Cannot check whether freed Network "default" is active/);
  await assert.rejects(
    () => net.create(),
    /^TypeError: Cannot call virNetworkCreate on freed Network "default"$/,
  );
  await assert.rejects(() => startNetwork(net), /Cannot start freed Network "default"/); // the deprecated alias

  // freed while the call waits for the connection (another call holds it): the call refuses instead
  // of using a freed pointer
  const waiting = await lookupNetwork(conn, "default");
  const first = waiting.isActive(); // a call on an idle connection starts at once
  const queued = waiting.xmlDesc();
  waiting.free();
  assert.equal(await first, true, "the call that had started completes");
  await assert.rejects(() => queued, /Cannot get the XML of freed Network "default"/);

  // freed while the call runs on another thread: the call completes, libvirt's free waits for it
  // (the handle counts its calls in flight). A call on an idle connection is dispatched to Deno's
  // blocking pool before the caller's next statement.
  let freedInFlight = 0;
  for (let i = 0; i < 50; i++) {
    const running = await lookupNetwork(conn, "default");
    const inFlight = running.xmlDesc();
    await Promise.resolve();
    if (conn.busy) freedInFlight++;
    running.free();
    assert.match(await inFlight, /<name>default<\/name>/);
  }
  assert.ok(freedInFlight > 0, "at least one free() landed while the call was in flight");

  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Connection.close frees forgotten Network handles and counts them", async () => {
  const conn = await Connection.open("test:///default");
  const forgotten = await lookupNetwork(conn, "default");
  const listed = await listAllNetworks(conn);
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 1 + listed.length });
  assert.ok(forgotten.freed && listed.every((n) => n.freed));
});

Deno.test("networks over libvirtd: lookup, round trip, leases unsupported, clean close", async () => {
  requireDaemon();
  const conn = await Connection.open(DAEMON_URI);
  const name = unique("dlv-daemon-net");
  try {
    using net = await lookupNetwork(conn, "default");
    assert.equal(await lookupNetwork(conn, net.uuid).then((n) => (n.free(), n.name)), "default");
    assert.equal(await net.bridgeName(), "virbr0");
    await assert.rejects(
      () => net.getDhcpLeases(),
      (e: unknown) =>
        e instanceof NotSupportedError && /^Cannot read DHCP leases of network "default": /.test(e.message),
    );
    await assert.rejects(() => lookupNetwork(conn, name), NotFoundError);

    using defined = await defineNetwork(conn, networkXml(name, "dlvbr-daemon", "10.204.0"));
    await defined.create();
    assert.ok((await names(listAllNetworks(conn, { active: true }))).includes(name));
    await defined.destroy();
    assert.ok((await names(listAllNetworks(conn, { active: false }))).includes(name));
    await defined.undefine();
    await assert.rejects(() => lookupNetwork(conn, name), NotFoundError);
  } finally {
    assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
  }
});
