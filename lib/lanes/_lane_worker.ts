// One lane of WorkerLanes (lib/lanes/worker_lanes.ts): a Web Worker with its own libvirt connection,
// opened `blocking: true` (every call on this worker's thread: no hop to Deno's blocking pool, and a
// failed call's error read on the thread that made it, right after it), running the operations of the
// caller's module one at a time as the main thread hands them over through the shared buffer
// (lib/lanes/_wire.ts). An operation is ordinary library code: between its calls it runs here, not on
// the main thread, so the main thread pays one round trip per operation, not one per call.
import { Connection } from "../connection.ts";
import type {} from "../objects/_classes.ts"; // every ObjectClasses entry, for the type checker only
import { isConnectionLost } from "../errors.ts";
import {
  ANSWER,
  errorRecord,
  FAILED,
  LENGTH,
  OK,
  OP,
  readValue,
  RECONNECTS,
  REQUEST,
  type StartMessage,
  STATUS,
  STOP,
  type WorkerMessage,
  writeValue,
} from "./_wire.ts";
import type { LaneOperation } from "./worker_lanes.ts";

/** This module runs as a worker: its global scope, typed without the worker lib (it is checked with the rest). */
const scope = globalThis as unknown as {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<StartMessage>) => void) | null;
  close(): void;
};
const post = (message: WorkerMessage) => scope.postMessage(message);

function open(start: StartMessage): Promise<Connection> {
  // no event loop: libvirt's loop is one per process, the main thread's; without it, keepalive is off
  // and a dead connection shows as a failed call, after which the lane reopens
  return Connection.open(start.uri, { ...start.open, blocking: true, eventLoop: false });
}

function alive(connection: Connection): boolean {
  try {
    return connection.isAlive();
  } catch {
    return false;
  }
}

async function serve(start: StartMessage): Promise<void> {
  let operations: LaneOperation[];
  let names: string[];
  let connection: Connection | undefined;
  try {
    const module = await import(start.module);
    const table = module.default;
    if (table === null || typeof table !== "object") {
      throw new TypeError(
        `Cannot load lane operations from ${start.module}: its default export is not an object of ` +
          "functions (export default defineLaneOperations({ ... }))",
      );
    }
    names = Object.keys(table);
    operations = names.map((name) => table[name]);
    const bad = names.find((_, i) => typeof operations[i] !== "function");
    if (bad !== undefined) {
      throw new TypeError(
        `Cannot load lane operations from ${start.module}: ${JSON.stringify(bad)} is not a function`,
      );
    }
    connection = await open(start);
  } catch (error) {
    post({ failed: errorRecord(error) });
    return;
  }
  const slots = new Int32Array(start.control);
  let last = 0;
  let reconnects = 0;
  post({ ready: names });
  while (true) {
    Atomics.wait(slots, REQUEST, last);
    const seq = Atomics.load(slots, REQUEST);
    if (seq === last) continue;
    if (seq === STOP) break;
    last = seq;
    let status = OK;
    let length = 0;
    try {
      const operation = operations[slots[OP]];
      const args = readValue(start.sab, slots[LENGTH]) as unknown[];
      if (connection === undefined || connection.closed) {
        // lost after the previous operation (or closed by it): a failed reopen is this one's error
        connection = undefined;
        connection = await open(start);
        reconnects++;
      }
      let value = operation(connection, ...args);
      if (value instanceof Promise) value = await value; // settled at once for calls on this connection
      length = writeValue(start.sab, value, `the result of operation ${JSON.stringify(names[slots[OP]])}`);
    } catch (error) {
      status = FAILED;
      length = writeValue(start.sab, errorRecord(error), "an error");
      if (connection !== undefined && !connection.closed && (isConnectionLost(error) || !alive(connection))) {
        try {
          await connection.close();
        } catch {
          // the connection is gone either way; its close report is lost with it
        }
        connection = undefined;
      }
    }
    slots[STATUS] = status;
    slots[LENGTH] = length;
    slots[RECONNECTS] = reconnects;
    Atomics.store(slots, ANSWER, seq);
    Atomics.notify(slots, ANSWER);
  }
  const report = connection === undefined || connection.closed
    ? { remainingReferences: 0, freedHandles: 0 }
    : await connection.close();
  post({ closed: report });
}

scope.onmessage = (event) => {
  scope.onmessage = null;
  void serve(event.data).finally(() => scope.close());
};
