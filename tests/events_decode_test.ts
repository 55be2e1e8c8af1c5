// Decoder unit tests with synthetic callback invocations: the worker's copier (lib/ffi/event_args.ts,
// the very function the worker runs) is called with structs built in memory, and its output decoded as
// the main thread does. This covers the event kinds no driver here can produce (graphics, block jobs,
// I/O errors, watchdog, RTC, balloon, tray, disk change, PM, control error, migration iteration, job
// completed, block threshold, memory failure, memory device size, removal failure) and checks every
// kind's decoding, not only the ones the drivers emit.
import assert from "node:assert/strict";
import { copyEventArgs, type EventObjectSymbols } from "../lib/ffi/event_args.ts";
import { decodeEvent } from "../lib/events/_decode.ts";
import { eventCallbackSignatures, eventIds, eventStructLayouts } from "../lib/ffi/symbols_event.ts";
import { decodeTypedParams } from "../lib/ffi/typed_params.ts";
import type { DomainEvent } from "../lib/events.ts";

const keep: Uint8Array[] = []; // buffers whose addresses the structs hold
function cstr(text: string): Deno.PointerObject {
  const bytes = new TextEncoder().encode(text + "\0");
  keep.push(bytes);
  return Deno.UnsafePointer.of(bytes)!;
}
const address = (p: Deno.PointerValue) => BigInt(Deno.UnsafePointer.value(p));
function struct(size: number, fill: (view: DataView) => void): Deno.PointerObject {
  const bytes = new Uint8Array(size);
  fill(new DataView(bytes.buffer));
  keep.push(bytes);
  return Deno.UnsafePointer.of(bytes)!;
}

const UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f";
const fakeDom = struct(8, () => {});
const symbols: EventObjectSymbols = {
  virDomainGetName: () => cstr("web1"),
  virDomainGetUUIDString: (_p, buf) => (buf.set(new TextEncoder().encode(UUID)), 0),
  virNetworkGetName: () => cstr("lan"),
  virNetworkGetUUIDString: (_p, buf) => (buf.set(new TextEncoder().encode(UUID)), 0),
  virStoragePoolGetName: () => cstr("images"),
  virStoragePoolGetUUIDString: (_p, buf) => (buf.set(new TextEncoder().encode(UUID)), 0),
  virNodeDeviceGetName: () => cstr("scsi_host3"),
  virSecretGetUUIDString: (_p, buf) => (buf.set(new TextEncoder().encode(UUID)), 0),
  virSecretGetUsageType: () => 1,
  virSecretGetUsageID: () => cstr("/var/lib/libvirt/images/a.img"),
};

/** Invokes kind's callback as libvirt would (connection, object, `args`, opaque) and decodes it. */
function fire(kind: keyof typeof eventIds.domain, ...args: unknown[]): DomainEvent {
  const types = eventCallbackSignatures[eventIds.domain[kind].callback].map(([type]) => type);
  assert.equal(args.length, types.length - 3, `${kind} takes ${types.length - 3} arguments`);
  const copied = copyEventArgs(types, [null, fakeDom, ...args, null], eventStructLayouts, symbols);
  // what the worker posts must survive structured cloning unchanged
  const cloned = structuredClone(copied);
  return decodeEvent("domain", kind, cloned, "qemu:///system", new Date(0)) as DomainEvent;
}

const base = { uri: "qemu:///system", domain: { name: "web1", uuid: UUID }, at: new Date(0) };

Deno.test("decodeEvent: lifecycle, agent-lifecycle and unknown enum values", () => {
  assert.deepEqual(fire("lifecycle", 5, 1), {
    kind: "lifecycle",
    ...base,
    event: "stopped",
    detail: "destroyed",
  });
  assert.deepEqual(fire("lifecycle", 7, 1), {
    kind: "lifecycle",
    ...base,
    event: "pmsuspended",
    detail: "disk",
  });
  assert.deepEqual(fire("lifecycle", 42, 3), {
    kind: "lifecycle",
    ...base,
    event: "unknown-42",
    detail: "unknown-3",
  });
  assert.deepEqual(fire("agent-lifecycle", 1, 2), {
    kind: "agent-lifecycle",
    ...base,
    event: "connected",
    detail: "channel",
  });
});

Deno.test("decodeEvent: tunable and job-completed typed parameters, as lib/ffi/typed_params.ts decodes them", () => {
  const t = eventStructLayouts.typedParameter;
  const entries: [string, number, (view: DataView, at: number) => void][] = [
    ["cputune.vcpu_quota", 1, (v, at) => v.setInt32(at, -1, true)],
    ["cputune.shares", 2, (v, at) => v.setUint32(at, 1024, true)],
    ["time_elapsed", 3, (v, at) => v.setBigInt64(at, -5n, true)],
    ["data_total", 4, (v, at) => v.setBigUint64(at, 2n ** 63n + 1n, true)],
    ["compression_rate", 5, (v, at) => v.setFloat64(at, 0.25, true)],
    ["auto_converge", 6, (v, at) => v.setInt8(at, 1)],
    ["cputune.emulatorpin", 7, (v, at) => v.setBigUint64(at, address(cstr("0-3")), true)],
    ["from_the_future", 99, () => {}],
  ];
  const params = struct(t.size * entries.length, (view) => {
    entries.forEach(([name, type, set], i) => {
      new Uint8Array(view.buffer).set(new TextEncoder().encode(name), i * t.size);
      view.setInt32(i * t.size + t.type, type, true);
      set(view, i * t.size + t.value);
    });
  });
  const expected = {
    "cputune.vcpu_quota": -1,
    "cputune.shares": 1024,
    "time_elapsed": -5n,
    "data_total": 2n ** 63n + 1n,
    "compression_rate": 0.25,
    "auto_converge": true,
    "cputune.emulatorpin": "0-3",
  };
  assert.deepEqual(fire("tunable", params, entries.length), { kind: "tunable", ...base, params: expected });
  assert.deepEqual(fire("job-completed", params, entries.length), {
    kind: "job-completed",
    ...base,
    params: expected,
  });
  assert.deepEqual(
    Object.fromEntries(decodeTypedParams(params, entries.length)),
    expected,
    "same as the generic decoder",
  );
  assert.deepEqual(fire("tunable", null, 0), { kind: "tunable", ...base, params: {} });
});

Deno.test("decodeEvent: graphics addresses and subject identities", () => {
  const a = eventStructLayouts.graphicsAddress;
  const local = struct(24, (v) => {
    v.setInt32(a.family, 0, true);
    v.setBigUint64(a.node, address(cstr("127.0.0.1")), true);
    v.setBigUint64(a.service, address(cstr("5900")), true);
  });
  const remote = struct(24, (v) => {
    v.setInt32(a.family, 1, true);
    v.setBigUint64(a.node, address(cstr("::1")), true);
    v.setBigUint64(a.service, address(cstr("40000")), true);
  });
  const id = eventStructLayouts.graphicsIdentity;
  const identities = struct(id.size * 2, (v) => {
    v.setBigUint64(id.type, address(cstr("x509dname")), true);
    v.setBigUint64(id.name, address(cstr("CN=alice")), true);
    v.setBigUint64(id.size + id.type, address(cstr("saslUsername")), true);
    v.setBigUint64(id.size + id.name, address(cstr("alice")), true);
  });
  const subject = struct(16, (v) => {
    v.setInt32(eventStructLayouts.graphicsSubject.count, 2, true);
    v.setBigUint64(eventStructLayouts.graphicsSubject.identities, address(identities), true);
  });
  assert.deepEqual(fire("graphics", 1, local, remote, cstr("vnc"), subject), {
    kind: "graphics",
    ...base,
    phase: "initialize",
    local: { family: "ipv4", node: "127.0.0.1", service: "5900" },
    remote: { family: "ipv6", node: "::1", service: "40000" },
    authScheme: "vnc",
    subject: [{ type: "x509dname", name: "CN=alice" }, { type: "saslUsername", name: "alice" }],
  });
  assert.deepEqual(fire("graphics", 2, null, null, null, null), {
    kind: "graphics",
    ...base,
    phase: "disconnect",
    local: null,
    remote: null,
    authScheme: null,
    subject: [],
  });
});

Deno.test("decodeEvent: every other domain kind's fields", () => {
  const cases: [keyof typeof eventIds.domain, unknown[], Record<string, unknown>][] = [
    ["reboot", [], {}],
    ["control-error", [], {}],
    ["rtc-change", [-3600n], { utcOffset: -3600 }],
    ["watchdog", [6], { action: "injectnmi" }],
    ["io-error", [cstr("/img/a.qcow2"), cstr("virtio-disk0"), 1], {
      srcPath: "/img/a.qcow2",
      device: "virtio-disk0",
      action: "pause",
    }],
    ["io-error-reason", [cstr("/img/a.qcow2"), cstr("virtio-disk0"), 2, cstr("enospc")], {
      srcPath: "/img/a.qcow2",
      device: "virtio-disk0",
      action: "report",
      reason: "enospc",
    }],
    ["block-job", [cstr("/img/a.qcow2"), 4, 3], {
      disk: "/img/a.qcow2",
      jobType: "active-commit",
      status: "ready",
    }],
    ["block-job-2", [cstr("vda"), 2, 0], { disk: "vda", jobType: "copy", status: "completed" }],
    ["disk-change", [cstr("/iso/old.iso"), null, cstr("ide0-1-0"), 1], {
      oldSrcPath: "/iso/old.iso",
      newSrcPath: null,
      device: "ide0-1-0",
      reason: "drop-missing-on-start",
    }],
    ["tray-change", [cstr("ide0-1-0"), 0], { device: "ide0-1-0", reason: "open" }],
    ["pmwakeup", [0], { reason: 0 }],
    ["pmsuspend", [0], { reason: 0 }],
    ["pmsuspend-disk", [0], { reason: 0 }],
    ["balloon-change", [1048576n], { actualKiB: 1048576 }],
    ["device-removed", [cstr("net1")], { device: "net1" }],
    ["device-added", [cstr("net1")], { device: "net1" }],
    ["device-removal-failed", [cstr("hostdev0")], { device: "hostdev0" }],
    ["migration-iteration", [3], { iteration: 3 }],
    ["metadata-change", [2, cstr("urn:x")], { type: "element", namespace: "urn:x" }],
    ["metadata-change", [1, null], { type: "title" }],
    ["block-threshold", [cstr("vda[1]"), cstr("/img/a.qcow2"), 2n ** 40n, 4096n], {
      device: "vda[1]",
      path: "/img/a.qcow2",
      threshold: 2n ** 40n,
      excess: 4096n,
    }],
    ["memory-failure", [1, 2, 3], {
      recipient: "guest",
      action: "fatal",
      flags: { actionRequired: true, recursive: true },
    }],
    ["memory-device-size-change", [cstr("virtiomem0"), 524288n], { device: "virtiomem0", sizeKiB: 524288 }],
  ];
  const seen = new Set<string>();
  for (const [kind, args, fields] of cases) {
    assert.deepEqual(fire(kind, ...args), { kind, ...base, ...fields }, kind);
    seen.add(kind);
  }
  for (const kind of ["lifecycle", "agent-lifecycle", "tunable", "job-completed", "graphics"]) seen.add(kind);
  assert.deepEqual([...seen].sort(), Object.keys(eventIds.domain).sort(), "every domain kind is covered");
});

Deno.test("decodeEvent: network, storage pool, node device and secret events", () => {
  const run = (family: keyof typeof eventIds, kind: string, ...args: unknown[]) => {
    const entry =
      (eventIds[family] as Record<string, { callback: keyof typeof eventCallbackSignatures }>)[kind];
    const types = eventCallbackSignatures[entry.callback].map(([type]) => type);
    const copied = copyEventArgs(types, [null, fakeDom, ...args, null], eventStructLayouts, symbols);
    return decodeEvent(family, kind, structuredClone(copied), "qemu:///system", new Date(0));
  };
  const at = new Date(0);
  const uri = "qemu:///system";
  assert.deepEqual(run("network", "lifecycle", 2, 0), {
    kind: "lifecycle",
    uri,
    network: { name: "lan", uuid: UUID },
    event: "started",
    detail: 0,
    at,
  });
  assert.deepEqual(run("storage-pool", "lifecycle", 4, 0), {
    kind: "lifecycle",
    uri,
    pool: { name: "images", uuid: UUID },
    event: "created",
    detail: 0,
    at,
  });
  assert.deepEqual(run("storage-pool", "refresh"), {
    kind: "refresh",
    uri,
    pool: { name: "images", uuid: UUID },
    at,
  });
  assert.deepEqual(run("node-device", "lifecycle", 1, 0), {
    kind: "lifecycle",
    uri,
    device: { name: "scsi_host3" },
    event: "deleted",
    detail: 0,
    at,
  });
  assert.deepEqual(run("node-device", "update"), { kind: "update", uri, device: { name: "scsi_host3" }, at });
  const secret = { uuid: UUID, usageType: "volume", usageId: "/var/lib/libvirt/images/a.img" };
  assert.deepEqual(run("secret", "lifecycle", 1, 0), {
    kind: "lifecycle",
    uri,
    secret,
    event: "undefined",
    detail: 0,
    at,
  });
  assert.deepEqual(run("secret", "value-changed"), { kind: "value-changed", uri, secret, at });
  assert.throws(
    () => decodeEvent("network", "nope", [], uri, at),
    /Cannot decode a network event of kind "nope"/,
  );
});
