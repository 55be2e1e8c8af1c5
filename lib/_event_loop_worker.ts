// The libvirt event loop, on a thread of its own (a node:worker_threads Worker, so that the main
// process can unref it and still exit). It registers libvirt's default event implementation, tells the
// main thread it is ready, and turns virEventRunDefaultImpl until the shared stop flag is set.
// Keepalive and connection-close detection (and, later, domain events) ride on this loop; it never
// blocks the main isolate, which may itself be blocked for seconds in user code.
import { parentPort, workerData } from "node:worker_threads";

interface LoopStart {
  libraryPath: string;
  /** Int32Array over a SharedArrayBuffer: [0] = stop requested. */
  control: SharedArrayBuffer;
}

const { libraryPath, control } = workerData as LoopStart;
const flags = new Int32Array(control);
const lib = Deno.dlopen(libraryPath, {
  virEventRegisterDefaultImpl: { parameters: [], result: "i32" },
  virEventRunDefaultImpl: { parameters: [], result: "i32" },
});

const registered = lib.symbols.virEventRegisterDefaultImpl();
parentPort!.postMessage({ type: "ready", ok: registered === 0 });
if (registered === 0) {
  while (Atomics.load(flags, 0) === 0) {
    if (lib.symbols.virEventRunDefaultImpl() < 0) break;
  }
}
parentPort!.postMessage({ type: "stopped" });
lib.close();
