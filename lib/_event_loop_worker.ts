// The libvirt event loop's worker, as source text generated from the library's own tables: the worker
// runs from a data: URL because node:worker_threads (the only Worker Deno lets a process unref, so
// finished scripts exit) accepts only file: and data: URLs, and users import this library over https:.
//
// Nothing in the worker is a second FFI layer: its symbol definitions are the main thread's
// (lib/ffi/library.ts's compact table, decoded as the main thread decodes it, and serialized; the object
// tables of lib/ffi/_generated/symbols.ts, 16 modules and ~300 KB, would be in the module graph Deno
// reads at the start of every process whose modules may start the loop), its callback signatures,
// registration calls and struct layouts come from lib/events/_tables.ts, and the code that copies a
// callback's arguments is lib/ffi/event_args.ts's copyEventArgs, embedded as source. The worker only
// keeps what is its own: running the loop and the callbacks.
//
// It registers libvirt's default event implementation, then turns virEventRunDefaultImpl, yielding to
// its own JavaScript event loop between iterations so commands from the main thread get in. The main
// thread counts each command it posts in control[1] and wakes a blocked poll() through `wakeTimer`
// (virEventUpdateTimeout(timer, 0) is thread-safe; the timer's callback disarms it again). One yield
// is not always enough for a posted message to be dispatched, so the worker does not block in poll()
// again until it has handled as many commands as were counted.
//
// Event and connection-close callbacks are created here, once per callback typedef on first use, and
// libvirt calls them on this thread from inside virEventRunDefaultImpl: they copy what they need (the
// object's name, strings, typed parameters are readable only during the callback) and post it to the
// main thread. The opaque pointer carries the subscription id. The callbacks live as long as the
// worker, so libvirt can never call one that was closed.
//
// Stopping (the main isolate's unload): the loop leaves libvirt, the worker removes what it registered
// there, tells the main thread, and then parks rather than ending, so that its isolate is never torn
// down while the main thread runs the process's exit() (see workerRun).
import { CONTROL } from "./_event_loop_control.ts";
import { copyEventArgs } from "./ffi/event_args.ts";
import type { libvirtSymbols } from "./ffi/_generated/symbols.ts";
import { LIBVIRT_QEMU_SIGNATURES, LIBVIRT_SIGNATURES } from "./ffi/_generated/signatures.ts";
import { decodeSignature } from "./ffi/_signatures.ts";
import {
  eventArgFfiTypes,
  eventCallbackSignatures,
  eventFamilies,
  eventStructLayouts,
} from "./events/_tables.ts";
import type { EventArgType } from "./events/_tables.ts";

/** The symbols the worker binds: the main thread's definitions of them, by name. */
const workerSymbolNames = [
  "virEventRegisterDefaultImpl",
  "virEventRunDefaultImpl",
  "virEventAddTimeout",
  "virEventUpdateTimeout",
  "virEventRemoveTimeout",
  "virConnectRegisterCloseCallback",
  "virConnectUnregisterCloseCallback",
  ...Object.values(eventFamilies).flatMap((f) => [f.register, f.deregister]),
  "virDomainGetName",
  "virDomainGetUUIDString",
  "virNetworkGetName",
  "virNetworkGetUUIDString",
  "virStoragePoolGetName",
  "virStoragePoolGetUUIDString",
  "virNodeDeviceGetName",
  "virSecretGetUUIDString",
  "virSecretGetUsageType",
  "virSecretGetUsageID",
  // streams (lib/stream.ts): readiness callbacks run on the loop's thread
  "virStreamEventAddCallback",
  "virStreamEventUpdateCallback",
  "virStreamEventRemoveCallback",
  "virStreamAbort",
  "virStreamFree",
] as const satisfies readonly (keyof typeof libvirtSymbols)[];

/** The data the worker's source embeds, all derived from the shared tables. */
export function workerDefinitions(): {
  symbols: Record<string, Deno.ForeignFunction>;
  callbacks: Record<string, { parameters: Deno.NativeType[]; types: string[] }>;
  layouts: typeof eventStructLayouts;
  qemu: ReturnType<typeof qemuDefinitions>;
} {
  const symbols: Record<string, Deno.ForeignFunction> = {};
  for (const name of workerSymbolNames) symbols[name] = decodeSignature(LIBVIRT_SIGNATURES, name)!;
  const callbacks: Record<string, { parameters: Deno.NativeType[]; types: string[] }> = {};
  for (const [name, args] of Object.entries(eventCallbackSignatures)) {
    callbacks[name] = {
      parameters: args.map(([type]) => eventArgFfiTypes[type]),
      types: args.map(([type]) => type),
    };
  }
  return { symbols, callbacks, layouts: eventStructLayouts, qemu: qemuDefinitions() };
}

/**
 * What the worker needs for QEMU monitor events (lib/qemu.ts), from the generated libvirt-qemu table:
 * the worker opens libvirt-qemu.so.0 itself, on the first subscription only.
 */
function qemuDefinitions(): {
  symbols: Record<string, Deno.ForeignFunction>;
  callback: { parameters: Deno.NativeType[]; types: EventArgType[] };
} {
  const types: EventArgType[] = [
    "virConnectPtr",
    "virDomainPtr",
    "const char *",
    "long long",
    "unsigned int",
    "const char *",
    "void *",
  ];
  return {
    symbols: {
      virConnectDomainQemuMonitorEventRegister: qemuSymbol("virConnectDomainQemuMonitorEventRegister"),
      virConnectDomainQemuMonitorEventDeregister: qemuSymbol("virConnectDomainQemuMonitorEventDeregister"),
    },
    // void (*virConnectDomainQemuMonitorEventCallback)(virConnectPtr, virDomainPtr, const char *event,
    //   long long seconds, unsigned int micros, const char *details, void *opaque)
    callback: { parameters: types.map((t) => eventArgFfiTypes[t]), types },
  };
}

function qemuSymbol(name: string): Deno.ForeignFunction {
  return decodeSignature(LIBVIRT_QEMU_SIGNATURES, name)!;
}

function workerSource(): string {
  return [workerPrelude(), workerCallbacks(), workerQemu(), workerCommands(), workerMessages(), workerRun()]
    .join("\n");
}

/** Imports, the library opened with the main thread's symbol definitions, the embedded tables. */
function workerPrelude(): string {
  const { symbols, callbacks, layouts, qemu } = workerDefinitions();
  return String.raw`
import { parentPort, workerData } from "node:worker_threads";
const { libraryPath, control } = workerData;
const flags = new Int32Array(control);
const slot = ${JSON.stringify(CONTROL)};
const lib = Deno.dlopen(libraryPath, ${JSON.stringify(symbols)});
const callbackDefinitions = ${JSON.stringify(callbacks)};
const layouts = ${JSON.stringify(layouts)};
const copyEventArgs = ${copyEventArgs.toString()};
const qemuDefinitions = ${JSON.stringify(qemu)};
const s = lib.symbols;
const post = (message) => parentPort.postMessage(message);
const pointer = (value) => Deno.UnsafePointer.create(BigInt(value ?? 0));
const idOf = (opaque) => Number(Deno.UnsafePointer.value(opaque));
// The subscriptions this worker registered. A callback whose opaque id is not one of them is a
// stale registration of another isolate of this process (callback addresses get reused): its
// arguments cannot be trusted, so it is ignored before anything reads them.
const live = new Set();
const ours = (opaque) => live.has(idOf(opaque));`;
}

/** The event, close, stream and wake callbacks, made in this isolate. */
function workerCallbacks(): string {
  return String.raw`
// One callback per typedef, made on first use; the opaque pointer (always the last argument) says
// which subscription an invocation belongs to.
const callbacks = new Map();
function callbackFor(name) {
  let callback = callbacks.get(name);
  if (callback) return callback;
  const { parameters, types } = callbackDefinitions[name];
  callback = new Deno.UnsafeCallback({ parameters, result: "void" }, (...args) => {
    const opaque = args[args.length - 1];
    if (!ours(opaque)) return;
    try {
      post({ type: "event", id: idOf(opaque), args: copyEventArgs(types, args, layouts, s), at: Date.now() });
    } catch (error) {
      post({ type: "event", id: idOf(opaque), failure: String(error), at: Date.now() });
    }
  });
  callbacks.set(name, callback);
  return callback;
}
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
  const st = pointer(streams.get(id));
  streams.delete(id);
  s.virStreamEventRemoveCallback(st);
  if (abort) s.virStreamAbort(st);
  s.virStreamFree(st);
}`;
}

/** QEMU monitor events: libvirt-qemu.so.0 is opened on the first subscription only. */
function workerQemu(): string {
  return String.raw`
// QEMU monitor events (lib/qemu.ts): libvirt-qemu.so.0 is opened here on the first subscription only.
// qemuSubscriptions: id -> { conn, callbackId }, deregistered when the worker stops.
let qemu;
let qemuMonitorEvent;
const qemuSubscriptions = new Map();
function loadQemu(path) {
  if (qemu) return;
  qemu = Deno.dlopen(path, qemuDefinitions.symbols).symbols;
  const { parameters, types } = qemuDefinitions.callback;
  qemuMonitorEvent = new Deno.UnsafeCallback({ parameters, result: "void" }, (...args) => {
    const opaque = args[args.length - 1];
    if (!qemuSubscriptions.has(idOf(opaque))) return;
    // the copier leaves out the connection and the opaque pointer
    const [domain, event, seconds, micros, details] = copyEventArgs(types, args, layouts, s);
    post({ type: "qemu-monitor", id: idOf(opaque), domain, event, seconds: Number(seconds), micros, details, at: Date.now() });
  });
}
const wake = new Deno.UnsafeCallback({ parameters: ["i32", "pointer"], result: "void" },
  (timer) => s.virEventUpdateTimeout(timer, -1));`;
}

/** The commands from the main thread (subscriptions, close watches, streams). */
function workerCommands(): string {
  return String.raw`
// Failures reply ok: false; the main thread reads the error from the connection's own slot (libvirt
// copies a failed call's error there, and the event connection runs one command at a time).
function handle(command) {
  const conn = pointer(command.conn);
  switch (command.type) {
    case "subscribe": {
      const callback = callbackFor(command.callback);
      const callbackId = s[command.register](conn, null, command.eventId, callback.pointer, pointer(command.id), null);
      if (callbackId < 0) return { ok: false };
      live.add(command.id);
      return { ok: true, callbackId };
    }
    case "unsubscribe": {
      live.delete(command.id);
      return { ok: s[command.deregister](conn, command.callbackId) >= 0 };
    }
    case "watch-close": {
      live.add(command.id);
      return { ok: s.virConnectRegisterCloseCallback(conn, closed.pointer, pointer(command.id), null) >= 0 };
    }
    case "unwatch-close":
      return { ok: s.virConnectUnregisterCloseCallback(conn, closed.pointer) >= 0 };
    // Streams and QEMU monitor events: as for event registrations, a failure leaves its error in the
    // connection's own slot, which the main thread reads inside the call gate that sent the command.
    case "qemu-monitor-subscribe": {
      loadQemu(command.qemuPath);
      const event = command.event ? new TextEncoder().encode(command.event + "\0") : null;
      const callbackId = qemu.virConnectDomainQemuMonitorEventRegister(conn, command.domain ? pointer(command.domain) : null, event, qemuMonitorEvent.pointer, pointer(command.id), null, command.flags);
      if (callbackId < 0) return { ok: false };
      qemuSubscriptions.set(command.id, { conn: BigInt(command.conn), callbackId });
      return { ok: true, callbackId };
    }
    case "qemu-monitor-unsubscribe": {
      const sub = qemuSubscriptions.get(command.id);
      if (!sub) return { ok: true };
      qemuSubscriptions.delete(command.id);
      return { ok: qemu.virConnectDomainQemuMonitorEventDeregister(conn, sub.callbackId) >= 0 };
    }
    case "stream-watch": {
      const r = s.virStreamEventAddCallback(pointer(command.stream), command.events, streamEvent.pointer, pointer(command.id), null);
      if (r < 0) return { ok: false };
      streams.set(command.id, BigInt(command.stream));
      return { ok: true };
    }
    case "stream-unwatch": {
      if (!streams.has(command.id)) return { ok: true };
      const st = pointer(streams.get(command.id));
      streams.delete(command.id);
      return { ok: s.virStreamEventRemoveCallback(st) >= 0 };
    }
    case "stream-release": {
      // a stream freed synchronously (connection close, using): the worker owns its last reference
      if (streams.has(command.id)) releaseStream(command.id, command.abort);
      return { ok: true };
    }
  }
  return { ok: false, message: "unknown command " + command.type };
}`;
}

/** The message handler: runs commands between loop turns and replies. */
function workerMessages(): string {
  return String.raw`
let handled = 0;
parentPort.on("message", (command) => {
  handled++;
  if (command.type === "stop") return;
  let reply;
  try {
    reply = handle(command);
  } catch (error) {
    reply = { ok: false, message: String(error) };
  }
  post({ type: "reply", request: command.request, ...reply });
});`;
}

/** Registration, the loop itself, and the orderly stop (clean up in libvirt, then park). */
function workerRun(): string {
  return String.raw`
const registered = s.virEventRegisterDefaultImpl();
const wakeTimer = registered === 0 ? s.virEventAddTimeout(-1, wake.pointer, null, null) : -1;
post({
  type: "ready",
  ok: registered === 0 && wakeTimer >= 0,
  wakeTimer,
  closeCallback: String(Deno.UnsafePointer.value(closed.pointer)),
});
if (registered === 0) {
  while (Atomics.load(flags, slot.stop) === 0) {
    if (Atomics.load(flags, slot.posted) === handled && s.virEventRunDefaultImpl() < 0) break;
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
Atomics.store(flags, slot.left, 1);
Atomics.notify(flags, slot.left);
// Park for a while instead of ending. Ending here would tear this isolate down (its heap, its FFI
// library and callbacks, its thread) while the main thread, released by slot.left, runs the process's
// exit(): its C++ static destructors and the ELF destructors of libvirt's libraries, concurrently with
// that teardown (gdb at exit(): this thread inside free(), malloc_consolidate, mmap, clone3 in 9 of 20
// runs): the likely cause of the 1-2% native crashes at exit (docs/design.md, "Stopping the event
// loop"). Parked, it sleeps in a futex through exit(). A process that outlives its isolate (deno test
// runs one isolate per test file) gets the thread back after slot.parkMs, or at once when Deno
// terminates the worker (V8 wakes Atomics.wait for that). Only a requested stop parks: a loop that
// failed ends while the process runs on.
if (Atomics.load(flags, slot.stop) === 1) Atomics.wait(flags, slot.park, 0, slot.parkMs);`;
}

/** The worker module as a data: URL, built from the shared tables at first use. */
export function eventLoopWorkerUrl(): URL {
  // base64 of the UTF-8 bytes: btoa alone would throw on any non-Latin-1 character in embedded source
  let binary = "";
  for (const byte of new TextEncoder().encode(workerSource())) binary += String.fromCharCode(byte);
  return new URL(`data:text/javascript;base64,${btoa(binary)}`);
}
