// Starting the libvirt event loop once per process, before the first connection opens.
import { Worker } from "node:worker_threads";
import { libvirt } from "./ffi/library.ts";

let started: Promise<boolean> | undefined;

/**
 * Ensures libvirt's default event loop runs in its worker thread; resolves true once registered.
 * libvirt requires the event implementation before the first virConnectOpen of the process, so every
 * open awaits this first. The worker is unref'd: it never keeps a finished script alive.
 */
export function ensureEventLoop(): Promise<boolean> {
  return started ??= startEventLoop();
}

function startEventLoop(): Promise<boolean> {
  const { path } = libvirt();
  const control = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./_event_loop_worker.ts", import.meta.url), {
    workerData: { libraryPath: path, control },
  });
  return new Promise<boolean>((resolve) => {
    worker.once("message", (message: { type: string; ok: boolean }) => {
      worker.unref();
      resolve(message.ok);
    });
    worker.once("error", () => resolve(false));
  });
}
