// The libvirt event loop's worker, as source text: the worker runs from a data: URL because
// node:worker_threads (the only Worker Deno lets a process unref, so finished scripts exit) accepts
// only file: and data: URLs, and users import this library over https:.
//
// It registers libvirt's default event implementation, tells the main thread it is ready, and turns
// virEventRunDefaultImpl until the shared stop flag is set. Keepalive and connection-close detection
// (and domain events) ride on this loop; it never blocks the main isolate, which may itself be
// blocked for seconds in user code.
const source = `
import { parentPort, workerData } from "node:worker_threads";
const { libraryPath, control } = workerData;
const flags = new Int32Array(control);
const lib = Deno.dlopen(libraryPath, {
  virEventRegisterDefaultImpl: { parameters: [], result: "i32" },
  virEventRunDefaultImpl: { parameters: [], result: "i32" },
});
const registered = lib.symbols.virEventRegisterDefaultImpl();
parentPort.postMessage({ type: "ready", ok: registered === 0 });
if (registered === 0) {
  while (Atomics.load(flags, 0) === 0) {
    if (lib.symbols.virEventRunDefaultImpl() < 0) break;
  }
}
parentPort.postMessage({ type: "stopped" });
`;

/** The worker module as a data: URL. */
export const eventLoopWorkerUrl: URL = new URL(`data:text/javascript;base64,${btoa(source)}`);
