// The events a real QEMU libvirtd produces, received with their decoded fields: a guest's lifecycle
// (with latencies), metadata-change, device-added/device-removed (a virtio-serial channel hot-plugged and
// unplugged: no guest cooperation needed), tunable (vCPU pinning: a string parameter; CPU shares cannot
// be set here, the lab's libvirtd has no cgroup CPU controller, so the unsigned long long case is left
// to the decoder unit test), network lifecycle (a bridge-only transient network inside the lab
// namespace), storage pool lifecycle and refresh (a transient dir pool), and secret lifecycle and
// value-changed. Calls the bindings do not have yet go through a small hand FFI table below.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/events_qemu_test.ts
import assert from "node:assert/strict";
import {
  Connection,
  createDomain,
  createNetwork,
  createStoragePool,
  destroyDomain,
  resumeDomain,
  setDomainMetadata,
  suspendDomain,
} from "../../mod.ts";
import {
  type DomainEvent,
  domainEvents,
  networkEvents,
  secretEvents,
  storagePoolEvents,
} from "../../lib/events.ts";
import { guestName, guestXml, lab, randomMac, requireLabNamespace } from "./_lab.ts";

/** Reads events until one matches, failing after `timeoutMs` with what did arrive. */
async function expect<E extends { kind: string }>(
  events: AsyncIterator<E>,
  what: string,
  match: (e: E) => boolean,
  timeoutMs = 30_000,
): Promise<E> {
  const seen: string[] = [];
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      events.next(),
      new Promise<null>((r) => timer = setTimeout(() => r(null), deadline - performance.now())),
    ]);
    clearTimeout(timer);
    if (next === null || next.done) break;
    seen.push(JSON.stringify(next.value, (_k, v) => typeof v === "bigint" ? `${v}n` : v));
    if (match(next.value)) return next.value;
  }
  throw new Error(`no ${what} event within ${timeoutMs} ms; saw ${seen.join(", ") || "nothing"}`);
}

// Sync calls on purpose: virGetLastErrorMessage is thread-local, and these run on the main thread.
const hand = Deno.dlopen("libvirt.so.0", {
  virConnectOpen: { parameters: ["buffer"], result: "pointer" },
  virConnectClose: { parameters: ["pointer"], result: "i32" },
  virGetLastErrorMessage: { parameters: [], result: "pointer" },
  virDomainLookupByName: { parameters: ["pointer", "buffer"], result: "pointer" },
  virDomainFree: { parameters: ["pointer"], result: "i32" },
  virDomainAttachDeviceFlags: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  virDomainDetachDeviceAlias: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  virDomainPinVcpu: { parameters: ["pointer", "u32", "buffer", "i32"], result: "i32" },
  virSecretDefineXML: { parameters: ["pointer", "buffer", "u32"], result: "pointer" },
  virSecretSetValue: { parameters: ["pointer", "buffer", "usize", "u32"], result: "i32" },
  virSecretUndefine: { parameters: ["pointer"], result: "i32" },
  virSecretFree: { parameters: ["pointer"], result: "i32" },
  virSecretGetUUIDString: { parameters: ["pointer", "buffer"], result: "i32" },
});
const h = hand.symbols;
const z = (s: string) => new TextEncoder().encode(s + "\0");
const AFFECT_LIVE = 1;
function check<T>(result: T, what: string): T {
  if (result === null || (typeof result === "number" && result < 0)) {
    const message = h.virGetLastErrorMessage();
    throw new Error(`${what} failed: ${message ? Deno.UnsafePointerView.getCString(message) : "?"}`);
  }
  return result;
}

const CHANNEL = "<channel type='pty'><target type='virtio' name='org.deno-libvirt.events-test'/>" +
  "<alias name='ua-evtest'/></channel>";

/**
 * The events of calls the bindings do not have yet, made through the hand FFI table on `handle`:
 * device-added and device-removed (a virtio-serial channel hot-plugged and unplugged), and tunable (vCPU 0
 * pinned to host CPU 0: the string parameter cputune.vcpupin0). Records their latencies.
 */
async function handMadeEvents(
  events: AsyncIterator<DomainEvent>,
  handle: Deno.PointerValue,
  latencies: Record<string, number>,
): Promise<void> {
  let t0 = performance.now();
  check(h.virDomainAttachDeviceFlags(handle, z(CHANNEL), AFFECT_LIVE), "attach the channel");
  const added = await expect(events, "device-added", (e) => e.kind === "device-added");
  latencies.deviceAdded = performance.now() - t0;
  assert.equal(added.kind === "device-added" && added.device, "ua-evtest");
  // by alias: a pty channel's XML no longer matches once libvirt has assigned its pty path
  check(h.virDomainDetachDeviceAlias(handle, z("ua-evtest"), AFFECT_LIVE), "detach the channel");
  const removed = await expect(events, "device-removed", (e) => e.kind === "device-removed");
  assert.equal(removed.kind === "device-removed" && removed.device, "ua-evtest");

  t0 = performance.now();
  check(h.virDomainPinVcpu(handle, 0, new Uint8Array([1]), 1), "virDomainPinVcpu");
  const pinned = await expect(events, "tunable (vcpupin)", (e) => e.kind === "tunable");
  latencies.tunable = performance.now() - t0;
  assert.deepEqual(pinned.kind === "tunable" && pinned.params, { "cputune.vcpupin0": "0" });
}

Deno.test("lab events: a guest's lifecycle, metadata, hot-plug and tunables, decoded", async () => {
  await requireLabNamespace();
  const l = lab();
  await using conn = await Connection.open(l.uri);
  const name = guestName("events");
  await using events = domainEvents(l.uri, {
    kinds: ["lifecycle", "metadata-change", "device-added", "device-removed", "tunable"],
    domain: name,
  });
  await events.ready();
  const latencies: Record<string, number> = {};
  const dom = await createDomain(conn, await guestXml(name, randomMac(), l.networks.isolated.name));
  const raw = check(h.virConnectOpen(z(l.uri)), "virConnectOpen");
  const handle = check(h.virDomainLookupByName(raw, z(name)), "virDomainLookupByName");
  try {
    const started = await expect(events, "started", (e) => e.kind === "lifecycle" && e.event === "started");
    assert.deepEqual(started.domain, { name, uuid: dom.uuid });
    assert.equal(started.detail, "booted");

    let t0 = performance.now();
    await suspendDomain(dom);
    await expect(events, "suspended", (e) => e.kind === "lifecycle" && e.event === "suspended");
    latencies.suspended = performance.now() - t0;
    t0 = performance.now();
    await resumeDomain(dom);
    await expect(events, "resumed", (e) => e.kind === "lifecycle" && e.event === "resumed");
    latencies.resumed = performance.now() - t0;

    t0 = performance.now();
    await setDomainMetadata(dom, {
      namespaceUri: "urn:deno-libvirt:events-test",
      prefix: "evt",
      xml: "<mark/>",
    }, {
      live: true,
    });
    const metadata = await expect(events, "metadata-change", (e) => e.kind === "metadata-change");
    latencies.metadata = performance.now() - t0;
    assert.deepEqual(
      metadata.kind === "metadata-change" && [metadata.type, metadata.namespace],
      ["element", "urn:deno-libvirt:events-test"],
    );

    await handMadeEvents(events, handle, latencies);

    t0 = performance.now();
    await destroyDomain(dom);
    const stopped = await expect(
      events,
      "stopped",
      (e: DomainEvent) => e.kind === "lifecycle" && e.event === "stopped",
    );
    latencies.stopped = performance.now() - t0;
    assert.equal(stopped.detail, "destroyed");
    console.log(
      `qemu:///system event latencies (call issued -> event received): ${
        JSON.stringify(latencies, (_k, v) => typeof v === "number" ? Number(v.toFixed(2)) : v)
      }`,
    );
  } finally {
    h.virDomainFree(handle);
    h.virConnectClose(raw);
    await destroyDomain(dom).catch(() => {});
    dom.free();
  }
});

Deno.test("lab events: network and storage pool lifecycle, pool refresh", async () => {
  await requireLabNamespace();
  const l = lab();
  await using conn = await Connection.open(l.uri);
  const suffix = crypto.randomUUID().slice(0, 6);
  const netName = `itest-evnet-${suffix}`;
  await using nets = networkEvents(l.uri, { network: netName });
  const poolName = `itest-evpool-${suffix}`;
  await using pools = storagePoolEvents(l.uri, { kinds: ["lifecycle", "refresh"], pool: poolName });
  await Promise.all([nets.ready(), pools.ready()]);

  // a bridge with no address, no DHCP, no forwarding: nothing leaves the lab namespace
  let t0 = performance.now();
  const net = await createNetwork(
    conn,
    `<network><name>${netName}</name><bridge name='dlvev${suffix.slice(0, 4)}'/></network>`,
  );
  try {
    const started = await expect(
      nets,
      "network started",
      (e) => e.kind === "lifecycle" && e.event === "started",
    );
    const networkStarted = performance.now() - t0;
    assert.deepEqual(started.kind === "lifecycle" && started.network, { name: netName, uuid: net.uuid });
    t0 = performance.now();
    await net.destroy();
    await expect(nets, "network stopped", (e) => e.kind === "lifecycle" && e.event === "stopped");
    console.log(
      `network started ${networkStarted.toFixed(2)} ms, stopped ${(performance.now() - t0).toFixed(2)} ms`,
    );
  } finally {
    await net.destroy().catch(() => {});
    net.free();
  }

  const dir = await Deno.makeTempDir({ prefix: "dlv-evpool-" });
  try {
    const pool = await createStoragePool(
      conn,
      `<pool type='dir'><name>${poolName}</name><target><path>${dir}</path></target></pool>`,
    );
    try {
      const started = await expect(
        pools,
        "pool started",
        (e) => e.kind === "lifecycle" && e.event === "started",
      );
      assert.deepEqual(started.kind === "lifecycle" && started.pool, { name: poolName, uuid: pool.uuid });
      await pool.refresh();
      await expect(pools, "pool refresh", (e) => e.kind === "refresh");
      await pool.destroy();
      await expect(pools, "pool stopped", (e) => e.kind === "lifecycle" && e.event === "stopped");
    } finally {
      await pool.destroy().catch(() => {});
      pool.free();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lab events: secret defined, value changed, undefined", async () => {
  await requireLabNamespace();
  const l = lab();
  const usage = `/var/lib/deno_libvirt_lab/images/itest-evsecret-${crypto.randomUUID().slice(0, 6)}.img`;
  await using secrets = secretEvents(l.uri, { kinds: ["lifecycle", "value-changed"], secret: usage });
  await secrets.ready();
  const raw = check(h.virConnectOpen(z(l.uri)), "virConnectOpen");
  let secret: Deno.PointerValue = null;
  try {
    secret = check(
      h.virSecretDefineXML(
        raw,
        z(`<secret ephemeral='no' private='yes'><usage type='volume'><volume>${usage}</volume></usage></secret>`),
        0,
      ),
      "virSecretDefineXML",
    );
    const uuidBuffer = new Uint8Array(37);
    check(h.virSecretGetUUIDString(secret, uuidBuffer), "virSecretGetUUIDString");
    const uuid = new TextDecoder().decode(uuidBuffer.subarray(0, 36));
    const ref = { uuid, usageType: "volume", usageId: usage };
    const defined = await expect(secrets, "secret defined", (e) => e.kind === "lifecycle");
    assert.deepEqual(defined.kind === "lifecycle" && [defined.event, defined.secret], ["defined", ref]);
    const value = new TextEncoder().encode("s3cret");
    check(h.virSecretSetValue(secret, value, BigInt(value.length), 0), "virSecretSetValue");
    const changed = await expect(secrets, "value changed", (e) => e.kind === "value-changed");
    assert.deepEqual(changed.kind === "value-changed" && changed.secret, ref);
    check(h.virSecretUndefine(secret), "virSecretUndefine");
    const undefined_ = await expect(secrets, "secret undefined", (e) => e.kind === "lifecycle");
    assert.deepEqual(undefined_.kind === "lifecycle" && undefined_.event, "undefined");
    h.virSecretFree(secret);
    secret = null;
  } finally {
    if (secret !== null) {
      h.virSecretUndefine(secret);
      h.virSecretFree(secret);
    }
    h.virConnectClose(raw);
  }
});

globalThis.addEventListener("unload", () => hand.close());
