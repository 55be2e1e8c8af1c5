/**
 * libvirt's event loop: started once per process, before the first connection opens, in a worker
 * thread of its own. Keepalive, the detection of closed remote connections and domain events ride on
 * it.
 *
 * It has a price: with the loop registered, libvirt's remote client re-arms the loop's socket watch
 * around every RPC, which wakes the loop thread twice per call. Measured on 2 cores (docs/benchmarks.md),
 * that is ~50% more CPU per remote call. A batch script that wants raw throughput and needs neither
 * keepalive nor events can call `setEventLoopEnabled(false)` before opening anything.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { eventLoopWorkerUrl } from "./_event_loop_worker.ts";
import { libvirt } from "./ffi/library.ts";

let started: Promise<boolean> | undefined;
let enabled = true;

/**
 * Enables or disables libvirt's event loop for this process. Call it before the first connection
 * opens: libvirt only accepts an event implementation before then.
 *
 * @param value false to run without keepalive, close detection and events, for the lowest per-call cost
 * @throws {TypeError} once a connection has been opened
 */
export function setEventLoopEnabled(value: boolean): void {
  if (started && value !== enabled) {
    throw new TypeError(
      "Cannot change the event loop setting: a connection was already opened; call setEventLoopEnabled() first",
    );
  }
  enabled = value;
}

/** True when the event loop runs (or will, at the first open). */
export function eventLoopEnabled(): boolean {
  return enabled;
}

/**
 * Ensures libvirt's default event loop runs in its worker thread; resolves true once registered,
 * false when disabled. Every open awaits this first. The worker is unref'd: it never keeps a
 * finished script alive.
 */
export function ensureEventLoop(): Promise<boolean> {
  return started ??= enabled ? startEventLoop() : Promise.resolve(false);
}

function startEventLoop(): Promise<boolean> {
  const { path } = libvirt();
  const control = new SharedArrayBuffer(4);
  const worker = new Worker(eventLoopWorkerUrl, { workerData: { libraryPath: path, control } });
  return new Promise<boolean>((resolve) => {
    worker.once("message", (message: { type: string; ok: boolean }) => {
      worker.unref();
      resolve(message.ok);
    });
    worker.once("error", () => resolve(false));
  });
}
