// The libvirt event loop's worker, as source text: the worker runs from a data: URL because
// node:worker_threads (the only Worker Deno lets a process unref, so finished scripts exit) accepts
// only file: and data: URLs, and users import this library over https:.
//
// It registers libvirt's default event implementation, then turns virEventRunDefaultImpl, yielding to
// its own JavaScript event loop between iterations so commands from the main thread get in. The main
// thread counts each command it posts in control[1] and wakes a blocked poll() through `wakeTimer`
// (virEventUpdateTimeout(timer, 0) is thread-safe; the timer's callback disarms it again). One yield
// is not always enough for a posted message to be dispatched, so the worker does not block in poll()
// again until it has handled as many commands as were counted.
//
// Domain event and connection-close callbacks are created here, once per event kind, and libvirt
// calls them on this thread from inside virEventRunDefaultImpl: they copy what they need (the domain's
// name and UUID are readable only during the callback) and post it to the main thread. The opaque
// pointer carries the subscription id. The callbacks live as long as the worker, so libvirt can never
// call one that was closed.
const source = String.raw`
import { parentPort, workerData } from "node:worker_threads";
const { libraryPath, control } = workerData;
const flags = new Int32Array(control);
const lib = Deno.dlopen(libraryPath, {
  virEventRegisterDefaultImpl: { parameters: [], result: "i32" },
  virEventRunDefaultImpl: { parameters: [], result: "i32" },
  virEventAddTimeout: { parameters: ["i32", "function", "pointer", "pointer"], result: "i32" },
  virEventUpdateTimeout: { parameters: ["i32", "i32"], result: "void" },
  virEventRemoveTimeout: { parameters: ["i32"], result: "i32" },
  virConnectDomainEventRegisterAny: {
    parameters: ["pointer", "pointer", "i32", "function", "pointer", "pointer"], result: "i32",
  },
  virConnectDomainEventDeregisterAny: { parameters: ["pointer", "i32"], result: "i32" },
  virConnectRegisterCloseCallback: { parameters: ["pointer", "function", "pointer", "pointer"], result: "i32" },
  virConnectUnregisterCloseCallback: { parameters: ["pointer", "function"], result: "i32" },
  virConnCopyLastError: { parameters: ["pointer", "buffer"], result: "i32" },
  virResetError: { parameters: ["buffer"], result: "void" },
  virDomainGetName: { parameters: ["pointer"], result: "pointer" },
  virDomainGetUUIDString: { parameters: ["pointer", "buffer"], result: "i32" },
  // streams (lib/stream.ts)
  virStreamEventAddCallback: { parameters: ["pointer", "i32", "function", "pointer", "pointer"], result: "i32" },
  virStreamEventUpdateCallback: { parameters: ["pointer", "i32"], result: "i32" },
  virStreamEventRemoveCallback: { parameters: ["pointer"], result: "i32" },
  virStreamAbort: { parameters: ["pointer"], result: "i32" },
  virStreamFree: { parameters: ["pointer"], result: "i32" },
});
const s = lib.symbols;
const post = (message) => parentPort.postMessage(message);
const cstr = (p) => (p === null ? null : Deno.UnsafePointerView.getCString(p));
const idOf = (opaque) => Number(Deno.UnsafePointer.value(opaque));
const uuidBuffer = new Uint8Array(37);
// The subscriptions this worker registered. A callback whose opaque id is not one of them is a
// stale registration of another isolate of this process (callback addresses get reused): its
// arguments cannot be trusted, so it is ignored before anything reads them.
const live = new Set();
const ours = (opaque) => live.has(idOf(opaque));
function domainOf(dom) {
  s.virDomainGetUUIDString(dom, uuidBuffer);
  return { name: cstr(s.virDomainGetName(dom)), uuid: new TextDecoder().decode(uuidBuffer.subarray(0, 36)) };
}
function lastError(conn) {
  const buffer = new Uint8Array(80);
  s.virConnCopyLastError(conn, buffer);
  const view = new DataView(buffer.buffer);
  const messagePointer = Deno.UnsafePointer.create(view.getBigUint64(8, true));
  const error = { code: view.getInt32(0, true), domain: view.getInt32(4, true), level: view.getInt32(16, true), message: cstr(messagePointer) ?? "" };
  s.virResetError(buffer);
  return error;
}

// One callback per event kind; "kind" names follow lib/events.ts.
const callbacks = {
  0: new Deno.UnsafeCallback({ parameters: ["pointer", "pointer", "i32", "i32", "pointer"], result: "void" },
    (_c, dom, event, detail, opaque) => ours(opaque) && post({ type: "event", id: idOf(opaque), kind: "lifecycle", domain: domainOf(dom), event, detail, at: Date.now() })),
  1: new Deno.UnsafeCallback({ parameters: ["pointer", "pointer", "pointer"], result: "void" },
    (_c, dom, opaque) => ours(opaque) && post({ type: "event", id: idOf(opaque), kind: "reboot", domain: domainOf(dom), at: Date.now() })),
  15: new Deno.UnsafeCallback({ parameters: ["pointer", "pointer", "pointer", "pointer"], result: "void" },
    (_c, dom, alias, opaque) => ours(opaque) && post({ type: "event", id: idOf(opaque), kind: "device-removed", domain: domainOf(dom), device: cstr(alias), at: Date.now() })),
  18: new Deno.UnsafeCallback({ parameters: ["pointer", "pointer", "i32", "i32", "pointer"], result: "void" },
    (_c, dom, state, reason, opaque) => ours(opaque) && post({ type: "event", id: idOf(opaque), kind: "agent-lifecycle", domain: domainOf(dom), event: state, detail: reason, at: Date.now() })),
  23: new Deno.UnsafeCallback({ parameters: ["pointer", "pointer", "i32", "pointer", "pointer"], result: "void" },
    (_c, dom, type, nsuri, opaque) => ours(opaque) && post({ type: "event", id: idOf(opaque), kind: "metadata-change", domain: domainOf(dom), event: type, namespace: cstr(nsuri), at: Date.now() })),
};
const closed = new Deno.UnsafeCallback({ parameters: ["pointer", "i32", "pointer"], result: "void" },
  (_c, reason, opaque) => ours(opaque) && post({ type: "closed", id: idOf(opaque), reason, at: Date.now() }));
// Stream events (lib/stream.ts), one-shot: the callback disarms the stream (update to no events: a
// local call that touches no error slot when it succeeds) before it posts the notice; the main thread
// re-arms once it has drained the stream. Without that, libvirt's level-triggered remote stream timer
// would fire on every loop turn while data waits. streams: id -> stream pointer (bigint).
const streams = new Map();
const streamEvent = new Deno.UnsafeCallback({ parameters: ["pointer", "i32", "pointer"], result: "void" },
  (st, events, opaque) => {
    const id = idOf(opaque);
    if (!streams.has(id)) return;
    s.virStreamEventUpdateCallback(st, 0);
    post({ type: "stream", id, events, at: Date.now() });
  });
function releaseStream(id, abort) {
  const st = Deno.UnsafePointer.create(streams.get(id));
  streams.delete(id);
  s.virStreamEventRemoveCallback(st);
  if (abort) s.virStreamAbort(st);
  s.virStreamFree(st);
}
// QEMU monitor events (lib/qemu.ts): libvirt-qemu.so.0 is opened here on the first subscription only.
// qemuSubscriptions: id -> { conn, callbackId }, deregistered when the worker stops.
let qemu;
let qemuMonitorEvent;
const qemuSubscriptions = new Map();
function loadQemu(path) {
  if (qemu) return;
  qemu = Deno.dlopen(path, {
    virConnectDomainQemuMonitorEventRegister: {
      parameters: ["pointer", "pointer", "buffer", "function", "pointer", "pointer", "u32"], result: "i32",
    },
    virConnectDomainQemuMonitorEventDeregister: { parameters: ["pointer", "i32"], result: "i32" },
  }).symbols;
  qemuMonitorEvent = new Deno.UnsafeCallback(
    { parameters: ["pointer", "pointer", "pointer", "i64", "u32", "pointer", "pointer"], result: "void" },
    (_c, dom, event, seconds, micros, details, opaque) => qemuSubscriptions.has(idOf(opaque)) && post({
      type: "qemu-monitor", id: idOf(opaque), domain: domainOf(dom), event: cstr(event),
      seconds: Number(seconds), micros, details: cstr(details), at: Date.now(),
    }));
}
const wake = new Deno.UnsafeCallback({ parameters: ["i32", "pointer"], result: "void" },
  (timer) => s.virEventUpdateTimeout(timer, -1));

function handle(command) {
  const conn = Deno.UnsafePointer.create(BigInt(command.conn ?? 0));
  switch (command.type) {
    case "subscribe": {
      const dom = command.domain ? Deno.UnsafePointer.create(BigInt(command.domain)) : null;
      const cb = callbacks[command.eventId];
      const callbackId = s.virConnectDomainEventRegisterAny(conn, dom, command.eventId, cb.pointer, Deno.UnsafePointer.create(BigInt(command.id)), null);
      if (callbackId < 0) return { ok: false, error: lastError(conn) };
      live.add(command.id);
      return { ok: true, callbackId };
    }
    case "unsubscribe": {
      live.delete(command.id);
      const r = s.virConnectDomainEventDeregisterAny(conn, command.callbackId);
      return r < 0 ? { ok: false, error: lastError(conn) } : { ok: true };
    }
    case "watch-close": {
      live.add(command.id);
      const r = s.virConnectRegisterCloseCallback(conn, closed.pointer, Deno.UnsafePointer.create(BigInt(command.id)), null);
      return r < 0 ? { ok: false, error: lastError(conn) } : { ok: true };
    }
    case "unwatch-close": {
      const r = s.virConnectUnregisterCloseCallback(conn, closed.pointer);
      return r < 0 ? { ok: false, error: lastError(conn) } : { ok: true };
    }
    case "qemu-monitor-subscribe": {
      loadQemu(command.qemuPath);
      const dom = command.domain ? Deno.UnsafePointer.create(BigInt(command.domain)) : null;
      const event = command.event ? new TextEncoder().encode(command.event + "\0") : null;
      const callbackId = qemu.virConnectDomainQemuMonitorEventRegister(conn, dom, event, qemuMonitorEvent.pointer, Deno.UnsafePointer.create(BigInt(command.id)), null, command.flags);
      if (callbackId < 0) return { ok: false, error: lastError(conn) };
      qemuSubscriptions.set(command.id, { conn: BigInt(command.conn), callbackId });
      return { ok: true, callbackId };
    }
    case "qemu-monitor-unsubscribe": {
      const sub = qemuSubscriptions.get(command.id);
      if (!sub) return { ok: true };
      qemuSubscriptions.delete(command.id);
      const r = qemu.virConnectDomainQemuMonitorEventDeregister(conn, sub.callbackId);
      return r < 0 ? { ok: false, error: lastError(conn) } : { ok: true };
    }
    case "stream-watch": {
      const st = Deno.UnsafePointer.create(BigInt(command.stream));
      const r = s.virStreamEventAddCallback(st, command.events, streamEvent.pointer, Deno.UnsafePointer.create(BigInt(command.id)), null);
      if (r < 0) return { ok: false, error: lastError(conn) };
      streams.set(command.id, BigInt(command.stream));
      return { ok: true };
    }
    case "stream-unwatch": {
      if (!streams.has(command.id)) return { ok: true };
      const st = Deno.UnsafePointer.create(streams.get(command.id));
      streams.delete(command.id);
      const r = s.virStreamEventRemoveCallback(st);
      return r < 0 ? { ok: false, error: lastError(conn) } : { ok: true };
    }
    case "stream-release": {
      // a stream freed synchronously (connection close, using): the worker owns its last reference
      if (streams.has(command.id)) releaseStream(command.id, command.abort);
      return { ok: true };
    }
  }
  return { ok: false, error: { code: 1, domain: 0, level: 2, message: "unknown command " + command.type } };
}

let handled = 0;
parentPort.on("message", (command) => {
  handled++;
  if (command.type === "stop") return;
  let reply;
  try {
    reply = handle(command);
  } catch (error) {
    reply = { ok: false, error: { code: 1, domain: 0, level: 2, message: String(error) } };
  }
  post({ type: "reply", request: command.request, ...reply });
});

const registered = s.virEventRegisterDefaultImpl();
const wakeTimer = registered === 0 ? s.virEventAddTimeout(-1, wake.pointer, null, null) : -1;
post({
  type: "ready",
  ok: registered === 0 && wakeTimer >= 0,
  wakeTimer,
  closeCallback: String(Deno.UnsafePointer.value(closed.pointer)),
});
if (registered === 0) {
  while (Atomics.load(flags, 0) === 0) {
    if (Atomics.load(flags, 1) === handled && s.virEventRunDefaultImpl() < 0) break;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
// Leave nothing in libvirt's process-wide loop that points into this isolate: a later isolate of the
// same process (deno test runs one per test file) registers a loop of its own.
if (wakeTimer >= 0) s.virEventRemoveTimeout(wakeTimer);
for (const id of [...streams.keys()]) releaseStream(id, true);
for (const sub of qemuSubscriptions.values()) {
  qemu.virConnectDomainQemuMonitorEventDeregister(Deno.UnsafePointer.create(sub.conn), sub.callbackId);
}
qemuSubscriptions.clear();
Atomics.store(flags, 2, 1);
Atomics.notify(flags, 2);
post({ type: "stopped" });
`;

/** The worker module as a data: URL. */
export const eventLoopWorkerUrl: URL = new URL(`data:text/javascript;base64,${btoa(source)}`);
