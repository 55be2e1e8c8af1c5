/**
 * libvirt's event loop: started once per process, before the first connection opens, in a worker
 * thread of its own. Keepalive, the detection of closed remote connections and the events of
 * lib/events.ts ride on it.
 *
 * It has a price: with the loop registered, libvirt's remote client re-arms the loop's socket watch
 * around every RPC, which wakes the loop thread twice per call. Measured on 2 cores (docs/benchmarks.md),
 * that is ~50% more CPU per remote call. A batch script that wants raw throughput and needs neither
 * keepalive nor events can call `setEventLoopEnabled(false)` before opening anything.
 *
 * @module
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import { CONTROL } from "./_event_loop_control.ts";
import type { CopiedArg } from "./ffi/event_args.ts";
import { libvirt } from "./ffi/library.ts";

/** A raw event from the worker (see lib/_event_loop_worker.ts); lib/events.ts gives it types. */
export interface RawEvent {
  type: "event" | "closed";
  /** The subscription (or close watch) id the callback's opaque pointer carried. */
  id: number;
  /** event: the callback's arguments, copied (lib/ffi/event_args.ts); decoded by lib/events/_decode.ts. */
  args?: CopiedArg[];
  /** event: set instead of `args` when copying them threw (a bug; surfaced, never swallowed). */
  failure?: string;
  /** closed: virConnectCloseReason. */
  reason?: number;
  at: number;
}

/** A stream became ready (lib/stream.ts): `events` is a mask of virStreamEventType. */
export interface StreamNotice {
  type: "stream";
  /** The stream's watch id, as given to the worker's "stream-watch" command. */
  id: number;
  events: number;
  at: number;
}

/** A QEMU monitor event (lib/qemu.ts), as the worker copied it during the callback. */
export interface RawQemuMonitorEvent {
  type: "qemu-monitor";
  id: number;
  domain: { name: string; uuid: string };
  event: string;
  seconds: number;
  micros: number;
  details: string | null;
  at: number;
}

/** The worker's answer to a command. */
export interface LoopReply {
  ok: boolean;
  callbackId?: number;
  /** Set when the command itself was bad (not a libvirt failure: that is in the connection's error slot). */
  message?: string;
}

/** The running loop, as lib/events.ts uses it. */
export interface EventLoop {
  /** Sends a command to the worker, wakes its poll(), and resolves with the worker's reply. */
  request(command: Record<string, unknown>): Promise<LoopReply>;
  /** Routes events and close notices to `listener` (one listener: lib/events.ts's dispatcher). */
  listen(listener: (event: RawEvent) => void): void;
  /** Routes stream readiness notices to `listener` (one listener: lib/stream.ts's dispatcher). */
  listenStreams(listener: (notice: StreamNotice) => void): void;
  /** Routes QEMU monitor events to `listener` (one listener: lib/qemu.ts's dispatcher). */
  listenQemuMonitor(listener: (event: RawQemuMonitorEvent) => void): void;
  /** The worker's connection-close callback, for unregistering it synchronously at unload. */
  readonly closeCallback: Deno.PointerValue;
  /** Keeps the process alive while someone waits for events; unref when nobody does. */
  hold(): void;
  release(): void;
}

let started: Promise<EventLoop | null> | undefined;
let enabled = true;

/**
 * Enables or disables libvirt's event loop for this process. Call it before the first connection
 * opens: libvirt only accepts an event implementation before then.
 *
 * @param value false to run without keepalive, close detection and events, for the lowest per-call cost
 * @throws {TypeError} once a connection has been opened
 * @example
 * ```ts
 * import { Connection, setEventLoopEnabled } from "@deno-libvirt/deno-libvirt";
 * // a one-shot query on a local socket needs neither events nor keepalive: skip the loop's worker
 * setEventLoopEnabled(false);
 * await using conn = await Connection.open("test:///default");
 * console.log(await conn.hostname());
 * ```
 */
export function setEventLoopEnabled(value: boolean): void {
  if (started && value !== enabled) {
    throw new TypeError(
      "Cannot change the event loop setting: a connection was already opened; call setEventLoopEnabled() first",
    );
  }
  enabled = value;
}

/**
 * True when the event loop runs (or will, at the first open).
 *
 * @example
 * ```ts
 * import { eventLoopEnabled } from "@deno-libvirt/deno-libvirt";
 * console.log(eventLoopEnabled() ? "events and keepalive available" : "event loop disabled");
 * ```
 */
export function eventLoopEnabled(): boolean {
  return enabled;
}

/**
 * Ensures libvirt's default event loop runs in its worker thread; resolves true once registered,
 * false when disabled. Every open awaits this first. The worker is unref'd: it never keeps a
 * finished script alive.
 */
export async function ensureEventLoop(): Promise<boolean> {
  return (await eventLoop()) !== null;
}

/**
 * True once something asked for the loop (an open, an event subscription), whether or not it has
 * finished starting, or started at all: lib/connection.ts's start policy lets `eventLoop: false` opens
 * use a loop that is there, without starting one.
 *
 * @returns true when {@link eventLoop} was called before
 * @example
 * ```ts
 * import { eventLoopRequested } from "./event_loop.ts";
 * console.log(eventLoopRequested()); // false until the first open or subscription
 * ```
 */
export function eventLoopRequested(): boolean {
  return started !== undefined;
}

/** The running event loop (started on first use), or null when disabled or it failed to start. */
export function eventLoop(): Promise<EventLoop | null> {
  return started ??= enabled ? startEventLoop() : Promise.resolve(null);
}

/** What the worker posts to the main thread (see lib/_event_loop_worker.ts). */
type WorkerMessage =
  & { type: string; ok?: boolean; wakeTimer?: number; closeCallback?: string; request?: number }
  & LoopReply;

/** The main thread's side of a running loop: its worker, the shared control slots, the routes. */
interface LoopState {
  worker: NodeWorker;
  lib: ReturnType<typeof libvirt>;
  flags: Int32Array;
  pending: Map<number, (reply: LoopReply) => void>;
  listener?: (event: RawEvent) => void;
  streamListener?: (notice: StreamNotice) => void;
  qemuListener?: (event: RawQemuMonitorEvent) => void;
  nextRequest: number;
  holds: number;
  /** Makes the worker's poll() return (virEventUpdateTimeout on its wake timer: thread-safe). */
  wake: () => void;
}

// node:worker_threads is imported when the loop starts: the first node: module makes Deno load its
// Node compatibility layer (~10-20 ms), which a process that never starts the loop should not pay.
async function startEventLoop(): Promise<EventLoop | null> {
  const { Worker } = await import("node:worker_threads") as { Worker: typeof NodeWorker };
  // the worker's source (and the event tables it embeds) is built only when a loop starts
  const { eventLoopWorkerUrl } = await import("./_event_loop_worker.ts");
  const lib = libvirt();
  const control = new SharedArrayBuffer(CONTROL.bytes);
  // env: {}: node:worker_threads copies the whole environment into a worker by default, which asks for
  // --allow-env (a prompt in a terminal); the worker reads nothing from it (its inputs are workerData).
  const worker = new Worker(eventLoopWorkerUrl(), {
    workerData: { libraryPath: lib.path, control },
    env: {},
  });
  const state: LoopState = {
    worker,
    lib,
    flags: new Int32Array(control),
    pending: new Map(),
    nextRequest: 1,
    holds: 0,
    wake: () => {},
  };
  return await new Promise<EventLoop | null>((resolve) => {
    worker.on("error", () => resolve(null));
    worker.on("message", (message: WorkerMessage) => {
      if (message.type !== "ready") return route(state, message);
      worker.unref();
      if (!message.ok) return resolve(null);
      const wakeTimer = message.wakeTimer!;
      state.wake = () => lib.symbols.virEventUpdateTimeout(wakeTimer, 0);
      stopOnUnload(state);
      resolve(loopHandle(state, message.closeCallback!));
    });
  });
}

/** Hands a worker message other than "ready" to whoever waits for it. */
function route(state: LoopState, message: WorkerMessage): void {
  switch (message.type) {
    case "reply": {
      const done = state.pending.get(message.request!);
      state.pending.delete(message.request!);
      done?.(message);
      break;
    }
    case "event":
    case "closed":
      state.listener?.(message as unknown as RawEvent);
      break;
    case "stream":
      state.streamListener?.(message as unknown as StreamNotice);
      break;
    case "qemu-monitor":
      state.qemuListener?.(message as unknown as RawQemuMonitorEvent);
      break;
  }
}

/**
 * When this isolate goes away (the script ends, or one test file under deno test, whose next file runs
 * in a new isolate of the same process), stop the loop thread: it must not keep turning libvirt's
 * process-wide loop with callbacks into a dead isolate. Synchronous, as unload listeners are: ask the
 * loop to stop, wake its poll(), and block until the worker says it has left libvirt for good (a
 * callback libvirt dispatched into a gone isolate would crash the process, seen under deno test). The
 * worker then parks instead of ending, so that its isolate is not torn down while this thread runs the
 * process's exit() (see lib/_event_loop_worker.ts#workerRun).
 */
function stopOnUnload(state: LoopState): void {
  globalThis.addEventListener("unload", () => {
    // First give libvirt back the silent C error handler: the global one
    // (lib/connection/_open_errors.ts) is a thread-safe callback into this isolate, and an error the
    // loop thread reported through it now would block that thread on this one, which is about to block
    // on it (lib/connection/_open_errors.ts's own unload listener does the same, later).
    state.lib.symbols.virSetErrorFunc(null, state.lib.silentErrorHandler);
    Atomics.store(state.flags, CONTROL.stop, 1);
    state.wake();
    Atomics.wait(state.flags, CONTROL.left, 0, 5_000);
  });
}

/** The {@link EventLoop} lib/events.ts, lib/stream.ts and lib/qemu.ts use. */
function loopHandle(state: LoopState, closeCallback: string): EventLoop {
  const { worker, flags } = state;
  const hold = () => {
    if (state.holds++ === 0) worker.ref();
  };
  const release = () => {
    if (--state.holds === 0) worker.unref();
  };
  return {
    closeCallback: Deno.UnsafePointer.create(BigInt(closeCallback)),
    request(command) {
      const request = state.nextRequest++;
      // a pending reply must keep the process alive, even when no stream holds the loop
      hold();
      return new Promise<LoopReply>((resolve) => {
        state.pending.set(request, (reply) => {
          release();
          resolve(reply);
        });
        Atomics.add(flags, CONTROL.posted, 1);
        worker.postMessage({ ...command, request });
        // poll() may be blocked for as long as no fd or timer fires: make it return
        state.wake();
      });
    },
    listen(l) {
      state.listener = l;
    },
    listenStreams(l) {
      state.streamListener = l;
    },
    listenQemuMonitor(l) {
      state.qemuListener = l;
    },
    hold,
    release,
  };
}
