// What crosses between WorkerLanes (lib/lanes/worker_lanes.ts) and its workers (lib/lanes/_lane_worker.ts):
// the shared buffer's layout, the value encoding (JSON plus bigint, checked: nothing is silently
// mangled) and errors as plain records that the main thread turns back into the same classes.
//
// Two SharedArrayBuffers per lane: `control`, eight fixed Int32 slots (a growable buffer under
// Atomics.waitAsync made each round trip several µs dearer on the main thread), and `data`, the
// payload bytes, growable. The slots:
//   [REQUEST]  the request's sequence number, set last by the main thread (STOP: close the lane)
//   [ANSWER]   the answered sequence number, set last by the worker
//   [OP]       the operation's index in the names the worker announced
//   [LENGTH]   the payload's length in bytes (the request's arguments, then the answer's value)
//   [STATUS]   the answer: OK (a value; length 0 means undefined) or FAILED (an error record)
//   [RECONNECTS] how often the worker reopened its connection after losing it
// The main thread writes a request only while the lane is idle, the worker its answer only while it
// holds one, so the payload bytes are never written from both sides at once.
import {
  AgentUnresponsiveError,
  AuthFailedError,
  ConnectionLostError,
  HostKeyVerificationError,
  LibvirtError,
  libvirtErrorFrom,
  NotFoundError,
  NotSupportedError,
  OperationInvalidError,
  OperationTimeoutError,
} from "../errors.ts";

export const REQUEST = 0;
export const ANSWER = 1;
export const OP = 2;
export const LENGTH = 3;
export const STATUS = 4;
export const RECONNECTS = 5;
/** Bytes of the control buffer. */
export const CONTROL_BYTES = 32;
/** Where the payload starts in the data buffer. */
const HEADER = 0;
export const STOP = -1;
export const OK = 0;
export const FAILED = 1;
/** A lane's data buffer starts this large and grows (both sides may grow it) up to MAX_BYTES. */
export const INITIAL_BYTES = 4096;
export const MAX_BYTES = 64 * 1024 * 1024;

/** The one-time messages around the shared-buffer protocol (postMessage, not per operation). */
export interface StartMessage {
  control: SharedArrayBuffer;
  sab: SharedArrayBuffer;
  module: string;
  uri: string | null;
  open: { readOnly?: boolean; auth?: { username?: string; password?: string } };
}
export type WorkerMessage =
  | { ready: string[] }
  | { failed: ErrorRecord }
  | { closed: { remainingReferences: number; freedHandles: number } };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Tagged strings: a bigint travels as "\0n<digits>", a string that itself starts with NUL as
// "\0s<string>". A walk (not JSON's replacer and reviver callbacks, 2-3 µs dearer a value) checks every
// value, tags what needs it into a copy (copy on write: a value without bigints is not copied), and
// after the parse untags only when the text has a NUL escape at all.

/** `value` ready for JSON.stringify: checked, bigints and NUL-led strings tagged (a copy where changed). */
function tagged(value: unknown, path: string): unknown {
  switch (typeof value) {
    case "string":
      return value.charCodeAt(0) === 0 ? "\0s" + value : value;
    case "bigint":
      return "\0n" + value.toString();
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, not a JSON number`);
      return value;
    case "boolean":
    case "undefined": // left out of objects, null in arrays: JSON's own rule
      return value;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          const out = tagged(item, `${path}[${i}]`);
          if (out !== item && copy === undefined) copy = value.slice(0, i);
          if (copy !== undefined) copy.push(out);
        }
        return copy ?? value;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(
          `${path} is a ${proto?.constructor?.name ?? "class instance"}, not a plain object`,
        );
      }
      let copy: Record<string, unknown> | undefined;
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        const out = tagged(item, `${path}.${key}`);
        if (out !== item) copy ??= { ...value };
        if (copy !== undefined) copy[key] = out;
      }
      return copy ?? value;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}`);
  }
}

/** Undoes {@link tagged} in a parsed value, in place. */
function untagged(value: unknown): unknown {
  if (typeof value === "string") {
    if (value.charCodeAt(0) !== 0) return value;
    return value.charCodeAt(1) === 110 /* n */ ? BigInt(value.slice(2)) : value.slice(2);
  }
  if (typeof value === "object" && value !== null) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = untagged(value[i]);
    } else {
      for (const key in value) {
        (value as Record<string, unknown>)[key] = untagged((value as Record<string, unknown>)[key]);
      }
    }
  }
  return value;
}

/** A private (not shared) copy of the payload for the decoder: ~3× faster than decoding shared memory. */
let scratch = new Uint8Array(INITIAL_BYTES);

/**
 * Encodes `value` into the lane's payload (growing the buffer when needed) and returns its length.
 * Throws a TypeError naming `what` for a value that is not JSON plus bigint.
 */
export function writeValue(sab: SharedArrayBuffer, value: unknown, what: string): number {
  if (value === undefined) return 0;
  let text: string;
  try {
    text = JSON.stringify(tagged(value, "the value"));
  } catch (error) {
    throw new TypeError(
      `Cannot pass ${what} across a worker lane: ${error instanceof Error ? error.message : error} ` +
        "(operations take and return JSON values and bigints)",
      { cause: error },
    );
  }
  let bytes = new Uint8Array(sab, HEADER);
  let done = encoder.encodeInto(text, bytes);
  if (done.read < text.length) {
    const needed = HEADER + text.length * 3;
    if (needed > MAX_BYTES) {
      const size = encoder.encode(text).length;
      if (HEADER + size > MAX_BYTES) {
        throw new RangeError(
          `Cannot pass ${what} across a worker lane: ${size} bytes encoded, at most ${MAX_BYTES - HEADER}`,
        );
      }
      sab.grow(HEADER + size);
    } else {
      sab.grow(needed);
    }
    bytes = new Uint8Array(sab, HEADER);
    done = encoder.encodeInto(text, bytes);
  }
  return done.written;
}

/** Decodes a payload of `length` bytes that {@link writeValue} wrote. */
export function readValue(sab: SharedArrayBuffer, length: number): unknown {
  if (length === 0) return undefined;
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  scratch.set(new Uint8Array(sab, HEADER, length));
  const text = decoder.decode(scratch.subarray(0, length));
  const value = JSON.parse(text);
  return text.includes("\\u0000") ? untagged(value) : value;
}

/** An error, as a record that survives the encoding. */
export type ErrorRecord =
  | {
    kind: "libvirt";
    name: string;
    message: string;
    stack?: string;
    operation: string;
    code: number;
    domain: number;
    level: number;
    libvirtMessage: string;
    outcomeUnknown?: boolean;
    changed?: boolean;
  }
  | { kind: "error"; name: string; message: string; stack?: string };

/** The worker's side: any thrown value as a record. */
export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof LibvirtError) {
    return {
      kind: "libvirt",
      name: error.name,
      message: error.message,
      stack: error.stack,
      operation: error.operation,
      code: error.code,
      domain: error.domain,
      level: error.level,
      libvirtMessage: error.libvirtMessage,
      ...(error instanceof ConnectionLostError ? { outcomeUnknown: error.outcomeUnknown } : {}),
      ...(error instanceof HostKeyVerificationError ? { changed: error.changed } : {}),
    };
  }
  if (error instanceof Error) {
    return { kind: "error", name: error.name, message: error.message, stack: error.stack };
  }
  return { kind: "error", name: "Error", message: `a non-Error was thrown: ${String(error)}` };
}

const libvirtClasses: Record<string, typeof LibvirtError> = {
  LibvirtError,
  NotFoundError,
  OperationInvalidError,
  NotSupportedError,
  AgentUnresponsiveError,
  OperationTimeoutError,
  AuthFailedError,
};
const errorClasses: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The main thread's side: the same class as the worker threw (the library's typed errors, the
 * built-in Error classes, DOMException by name; anything else an Error with the original name), the
 * same message and fields, and the worker's stack (where the operation failed) under the main
 * thread's.
 */
export function errorFromRecord(record: ErrorRecord): Error {
  let error: Error;
  if (record.kind === "libvirt") {
    const details = {
      code: record.code,
      domain: record.domain,
      level: record.level,
      message: record.libvirtMessage,
    };
    if (record.name === "ConnectionLostError") {
      error = new ConnectionLostError(record.operation, details, { outcomeUnknown: record.outcomeUnknown });
    } else if (record.name === "HostKeyVerificationError") {
      error = new HostKeyVerificationError(record.operation, details, { changed: record.changed });
    } else {
      const Class = libvirtClasses[record.name];
      error = Class ? new Class(record.operation, details) : libvirtErrorFrom(record.operation, details);
    }
  } else if (record.name in errorClasses) {
    error = new errorClasses[record.name](record.message);
  } else {
    error = domExceptionOrError(record);
  }
  if (!(error instanceof DOMException)) error.message = record.message; // a subclass may have added to it
  if (record.stack !== undefined) {
    error.stack = `${record.stack}\n    at (the lane worker's operation, above; the main thread's caller:)\n${
      (error.stack ?? "").split("\n").slice(1).join("\n")
    }`;
  }
  return error;
}

// A DOMException when the name is one of DOMException's own (AbortError, TimeoutError, ...), else an
// Error carrying the name
function domExceptionOrError(record: { name: string; message: string }): Error {
  const probe = new DOMException(record.message, record.name);
  if (probe.code !== 0) return probe;
  const error = new Error(record.message);
  error.name = record.name;
  return error;
}
