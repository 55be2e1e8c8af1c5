// Every event kind the test driver produces, received with its decoded fields, in-process
// (test:///default) and over libvirtd (test+unix:///default, run under the lab lock): domain lifecycle
// and metadata-change, network lifecycle, storage pool lifecycle and refresh, node device lifecycle
// (created/deleted through a small hand FFI table: node devices are not bound yet). The test driver has
// no secret driver: secretEvents reports that clearly (qemu:///system's secrets are in
// tests/integration/events_qemu_test.ts).
import assert from "node:assert/strict";
import {
  Connection,
  lookupDomain,
  lookupNetwork,
  lookupStoragePool,
  resumeDomain,
  setDomainMetadata,
  suspendDomain,
} from "../mod.ts";
import {
  domainEvents,
  type EventStream,
  networkEvents,
  nodeDeviceEvents,
  secretEvents,
  storagePoolEvents,
} from "../lib/events.ts";
import { DAEMON_URI, nextEvent, requireDaemon } from "./_helpers.ts";

// libvirt calls the bindings do not have yet (node devices), opened by the test itself.
const hand = Deno.dlopen("libvirt.so.0", {
  virConnectOpen: { parameters: ["buffer"], result: "pointer", nonblocking: true },
  virConnectClose: { parameters: ["pointer"], result: "i32", nonblocking: true },
  virNodeDeviceCreateXML: { parameters: ["pointer", "buffer", "u32"], result: "pointer", nonblocking: true },
  virNodeDeviceDestroy: { parameters: ["pointer"], result: "i32", nonblocking: true },
  virNodeDeviceFree: { parameters: ["pointer"], result: "i32" },
});
const z = (s: string) => new TextEncoder().encode(s + "\0");
// a vHBA on the test driver's fc-capable scsi_host1
const VHBA = "<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'>" +
  "<wwnn>2000000012341234</wwnn><wwpn>1000000012341234</wwpn></capability></capability></device>";

const latencies: Record<string, number[]> = {};
function record(uri: string, t0: number): void {
  (latencies[uri] ??= []).push(performance.now() - t0);
}

for (
  const [label, uri, guard] of [
    ["in-process", "test:///default", () => {}],
    ["over libvirtd", DAEMON_URI, requireDaemon],
  ] as const
) {
  Deno.test(`domainEvents (${label}): lifecycle and metadata-change with their decoded fields`, async () => {
    guard();
    await using keeper = await Connection.open(uri);
    await using events = domainEvents(uri, { kinds: ["lifecycle", "metadata-change"], domain: "test" });
    await events.ready();
    using dom = await lookupDomain(keeper, "test");
    let t0 = performance.now();
    await setDomainMetadata(dom, {
      namespaceUri: "urn:deno-libvirt:events-test",
      prefix: "evt",
      xml: "<mark n='1'/>",
    }, {
      live: true,
    });
    const element = await nextEvent(events);
    record(uri, t0);
    assert.equal(element.kind, "metadata-change");
    if (element.kind !== "metadata-change") return;
    assert.equal(element.type, "element");
    assert.equal(element.namespace, "urn:deno-libvirt:events-test");
    assert.deepEqual(element.domain, { name: "test", uuid: dom.uuid });
    await setDomainMetadata(dom, { namespaceUri: "urn:deno-libvirt:events-test", prefix: "evt", xml: null }, {
      live: true,
    });
    assert.equal((await nextEvent(events)).kind, "metadata-change", "removing the element is a change too");
    t0 = performance.now();
    await suspendDomain(dom);
    const paused = await nextEvent(events);
    record(uri, t0);
    assert.deepEqual([paused.kind, paused.event, paused.detail], ["lifecycle", "suspended", "paused"]);
    await resumeDomain(dom);
    const resumed = await nextEvent(events);
    assert.deepEqual([resumed.event, resumed.detail], ["resumed", "unpaused"]);
  });

  Deno.test(`networkEvents (${label}): stopped and started, filtered by network`, async () => {
    guard();
    await using keeper = await Connection.open(uri);
    await using events = networkEvents(uri, { network: "default" });
    await using all = networkEvents(uri, { kinds: ["lifecycle"] });
    await Promise.all([events.ready(), all.ready()]);
    using net = await lookupNetwork(keeper, "default");
    const t0 = performance.now();
    await net.destroy();
    const stopped = await nextEvent(events);
    record(uri, t0);
    try {
      assert.equal(stopped.kind, "lifecycle");
      if (stopped.kind !== "lifecycle") return;
      assert.deepEqual([stopped.event, stopped.detail, stopped.network.name], ["stopped", 0, "default"]);
      assert.equal(stopped.network.uuid, net.uuid);
      assert.equal(stopped.uri, uri);
      assert.equal(
        (await nextEvent(all)).kind,
        "lifecycle",
        "an unfiltered stream on the same hub gets it too",
      );
    } finally {
      await net.create();
    }
    const started = await nextEvent(events);
    assert.deepEqual([started.kind, started.event], ["lifecycle", "started"]);
  });

  Deno.test(`storagePoolEvents (${label}): refresh, stopped, started`, async () => {
    guard();
    await using keeper = await Connection.open(uri);
    await using events = storagePoolEvents(uri, { kinds: ["lifecycle", "refresh"], pool: "default-pool" });
    await events.ready();
    using pool = await lookupStoragePool(keeper, "default-pool");
    const t0 = performance.now();
    await pool.refresh();
    const refreshed = await nextEvent(events);
    record(uri, t0);
    assert.deepEqual(refreshed.kind === "refresh" && refreshed.pool, {
      name: "default-pool",
      uuid: pool.uuid,
    });
    await pool.destroy();
    try {
      const stopped = await nextEvent(events);
      assert.deepEqual([stopped.kind, stopped.kind === "lifecycle" && stopped.event], [
        "lifecycle",
        "stopped",
      ]);
    } finally {
      await pool.create();
    }
    const started = await nextEvent(events);
    assert.deepEqual([started.kind, started.kind === "lifecycle" && started.event], ["lifecycle", "started"]);
  });

  Deno.test(`nodeDeviceEvents (${label}): a vHBA created and deleted`, async () => {
    guard();
    await using events = nodeDeviceEvents(uri, { kinds: ["lifecycle", "update"] });
    await events.ready();
    const conn = await hand.symbols.virConnectOpen(z(uri));
    assert.ok(conn !== null, `open ${uri}`);
    try {
      const t0 = performance.now();
      const dev = await hand.symbols.virNodeDeviceCreateXML(conn, z(VHBA), 0);
      assert.ok(dev !== null, "virNodeDeviceCreateXML");
      const created = await nextEvent(events);
      record(uri, t0);
      assert.equal(created.kind, "lifecycle");
      if (created.kind !== "lifecycle") return;
      assert.equal(created.event, "created");
      assert.match(created.device.name, /^scsi_host\d+$/);
      await using mine = nodeDeviceEvents(uri, { device: created.device.name });
      await mine.ready();
      assert.equal(await hand.symbols.virNodeDeviceDestroy(dev), 0);
      hand.symbols.virNodeDeviceFree(dev);
      const deleted = await nextEvent(mine);
      assert.deepEqual(
        [
          deleted.kind,
          deleted.kind === "lifecycle" && deleted.event,
          deleted.kind !== "gap" && deleted.device,
        ],
        ["lifecycle", "deleted", created.device],
      );
    } finally {
      await hand.symbols.virConnectClose(conn);
    }
  });

  Deno.test(`secretEvents (${label}): the test driver has no secrets: ready() says so`, async () => {
    guard();
    const events = secretEvents(uri, { kinds: ["lifecycle", "value-changed"] });
    await assert.rejects(
      () => events.ready(),
      (e: Error) => {
        assert.equal(e.name, "NotSupportedError");
        assert.match(e.message, /subscribe to secret lifecycle events of .*virConnectSecretEventRegisterAny/);
        return true;
      },
    );
    await assert.rejects(() => events.next(), { name: "NotSupportedError" });
    assert.deepEqual(await events.next(), { value: undefined, done: true });
    // the shared hub survives one stream's failure: another family on it still works
    await using nets = networkEvents(uri);
    await nets.ready();
  });
}

Deno.test("event streams: a kind the family does not have is a clear TypeError", async () => {
  const events = networkEvents("test:///default", { kinds: ["lifecycle", "refresh" as "lifecycle"] });
  await assert.rejects(
    () => events.ready(),
    /Cannot subscribe to events of "test:\/\/\/default": options.kinds has "refresh", which is no network event kind; use one of lifecycle/,
  );
  await assert.rejects(() => events.next(), TypeError);
  assert.deepEqual(await events.next(), { value: undefined, done: true });
  const stream: EventStream<never> = domainEvents("test:///default", {
    kinds: ["nope" as "reboot"],
  }) as never;
  await assert.rejects(
    () => stream.ready(),
    /no domain event kind; use one of lifecycle, reboot, rtc-change/,
  );
});

Deno.test("event latencies (reported)", () => {
  for (const [uri, values] of Object.entries(latencies)) {
    console.log(`${uri}: ${values.map((v) => v.toFixed(2)).join(", ")} ms`);
  }
});

globalThis.addEventListener("unload", () => hand.close());
