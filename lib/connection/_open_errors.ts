// Attribution of errors that belong to no connection yet: a failed virConnectOpenAuth reports only to
// the failing thread's last-error slot and to the process-wide error handler. We install a
// thread-safe JS handler as that global handler and run opens one at a time, so the errors it collects
// while an open is in flight are that open's errors. Established connections get their own handler
// (virResetError, silent), so their errors never reach this one and cost no thread hop.
import { errorFuncDefinition } from "../ffi/constants.ts";
import { libvirt } from "../ffi/library.ts";
import { decodeErrorPointer, type RawError } from "../ffi/structs.ts";

let collecting: RawError[] | undefined;
let installed = false;
let queue: Promise<unknown> = Promise.resolve();

function install(): void {
  if (installed) return;
  const handler = Deno.UnsafeCallback.threadSafe(errorFuncDefinition, (_userData, error) => {
    // libvirt blocks the reporting thread until this returns, so `error` is still valid here.
    if (collecting && error !== null) collecting.push(decodeErrorPointer(error));
  });
  handler.unref(); // never keeps the process alive
  libvirt().symbols.virSetErrorFunc(null, handler.pointer);
  installed = true;
  // The handler is process-wide and this callback dies with the isolate: hand libvirt back the
  // silent C handler when the isolate unloads (deno test runs each test file in an isolate of its own).
  globalThis.addEventListener(
    "unload",
    () => libvirt().symbols.virSetErrorFunc(null, libvirt().silentErrorHandler),
  );
}

/**
 * Runs `open` with no other open in flight and returns its result with the errors libvirt reported
 * while it ran (the last one is the one that made it fail).
 */
export function runOpen<T>(open: () => Promise<T>): Promise<{ result: T; errors: RawError[] }> {
  install();
  const run = async () => {
    const errors: RawError[] = [];
    collecting = errors;
    try {
      return { result: await open(), errors };
    } finally {
      collecting = undefined;
    }
  };
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}

/** The synchronous counterpart of {@link runOpen}, for in-process drivers. */
export function runOpenSync<T>(open: () => T): { result: T; errors: RawError[] } {
  install();
  // An asynchronous open's errors reach the handler through the event loop, never during this
  // synchronous stretch, so swapping the collector here cannot mix the two opens' errors.
  const outer = collecting;
  const errors: RawError[] = [];
  collecting = errors;
  try {
    return { result: open(), errors };
  } finally {
    collecting = outer;
  }
}
