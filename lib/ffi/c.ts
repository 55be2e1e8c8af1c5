// C strings, out-pointers and pointer arrays. Everything that reads native memory lives here or in
// structs.ts; callers above lib/ffi/ get JavaScript values.
import { libvirt } from "./library.ts";

const encoder = new TextEncoder();

/**
 * Encodes a JavaScript string as a NUL-terminated UTF-8 buffer for a `const char *` parameter.
 *
 * @throws {TypeError} when the string contains a NUL character, which C would silently truncate at.
 */
export function cString(text: string, what = "string"): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) {
    throw new TypeError(
      `Cannot pass ${what} ${JSON.stringify(text)} to libvirt: it contains a NUL character`,
    );
  }
  return encoder.encode(text + "\0") as Uint8Array<ArrayBuffer>;
}

const cache = new Map<string, Uint8Array<ArrayBuffer>>();
const CACHE_LIMIT = 4096;

/**
 * {@link cString} through a bounded cache, for strings that repeat (domain names, UUIDs): a typed
 * array allocation costs ~0.4 µs here, a fifth of an in-process libvirt call, and a Map lookup
 * ~6 ns. The buffers are never written after creation, so they are safe for asynchronous calls too.
 */
export function cStringCached(text: string, what = "string"): Uint8Array<ArrayBuffer> {
  let bytes = cache.get(text);
  if (bytes === undefined) {
    bytes = cString(text, what);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, bytes);
  }
  return bytes;
}

/** Reads a C string libvirt still owns (or null for NULL). */
export function readCString(pointer: Deno.PointerValue): string | null {
  return pointer === null ? null : Deno.UnsafePointerView.getCString(pointer);
}

/** Reads a C string the caller owns, then frees it. */
export function takeCString(pointer: Deno.PointerValue): string | null {
  if (pointer === null) return null;
  try {
    return Deno.UnsafePointerView.getCString(pointer);
  } finally {
    libvirt().libc.free(pointer);
  }
}

/**
 * Buffers of nonblocking calls, kept for reuse once read. A nonblocking call's out-parameter is written
 * on Deno's thread pool while other connections' calls run, so it cannot be one shared scratch buffer
 * (as the blocking paths use); a fresh small typed array costs 2-3 µs of the main thread per call here
 * (V8 keeps arrays of up to 64 bytes on its heap and moves each off it on its first use as an FFI
 * buffer). A call takes one ({@link take}) and gives it back once it has read it ({@link give}): a
 * loop of calls allocates none, and calls in flight at once each have their own. A call that fails
 * need not give its buffer back (it is collected).
 */
export class Spares<T> {
  readonly #free: T[] = [];
  readonly #make: () => T;

  /** @param make makes a buffer when none is spare */
  constructor(make: () => T) {
    this.#make = make;
  }

  /** A buffer of its own for one call. */
  take(): T {
    return this.#free.pop() ?? this.#make();
  }

  /** Returns a buffer {@link take} gave, once its call returned and it was read (keeps at most 64). */
  give(buffer: T): void {
    if (this.#free.length < 64) this.#free.push(buffer);
  }
}

/** A one-slot out-parameter (`T *` for a pointer or an unsigned long), as a buffer FFI can pass. */
export class OutSlot {
  readonly #words = new BigUint64Array(1);
  /** The buffer to pass where the C function takes the out-pointer. */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(this.#words.buffer);
  /** The slot read as a pointer. */
  get pointer(): Deno.PointerValue {
    return Deno.UnsafePointer.create(this.#words[0]);
  }
  /** The slot read as an unsigned 64-bit number. */
  get number(): number {
    return Number(this.#words[0]);
  }
  /** The low 32 bits read as a signed int (for `int *` out-parameters). */
  get int32(): number {
    return new Int32Array(this.#words.buffer)[0];
  }
}

/**
 * Reads `count` pointers from a C array libvirt allocated, then frees the array itself (the elements
 * are the caller's to free).
 */
export function takePointerArray(array: Deno.PointerValue, count: number): Deno.PointerObject[] {
  if (array === null) return [];
  const view = new Deno.UnsafePointerView(array);
  const result: Deno.PointerObject[] = [];
  for (let i = 0; i < count; i++) {
    const element = view.getPointer(i * 8);
    if (element !== null) result.push(element);
  }
  libvirt().libc.free(array);
  return result;
}

/** Copies a JavaScript string into malloc'd memory, for strings libvirt will free itself. */
export function mallocCString(text: string): { pointer: Deno.PointerObject; length: number } {
  const bytes = encoder.encode(text);
  const pointer = libvirt().libc.malloc(BigInt(bytes.length + 1));
  if (pointer === null) throw new RangeError("Cannot allocate memory for a credential");
  const target = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, bytes.length + 1));
  target.set(bytes);
  target[bytes.length] = 0;
  return { pointer, length: bytes.length };
}

/**
 * Reads a small kernel file (/proc/net/arp) through libc. Deno asks for --allow-all before it reads
 * anything under /proc; this library promises to need only --allow-ffi, which already grants as much.
 *
 * @throws {Error} naming the file and errno's meaning when it cannot be opened
 */
export function readKernelFile(path: string, maxBytes = 1 << 20): string {
  const { libc } = libvirt();
  const fd = libc.open(cString(path, "path"), 0 /* O_RDONLY */);
  if (fd < 0) throw new Error(`Cannot read ${path}: open failed`);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total < maxBytes) {
      const chunk = new Uint8Array(65536);
      const n = Number(libc.read(fd, chunk, BigInt(chunk.length)));
      if (n < 0) throw new Error(`Cannot read ${path}: read failed`);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    const all = new Uint8Array(total);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    return new TextDecoder().decode(all);
  } finally {
    libc.close(fd);
  }
}

/** libvirt's failure return for calls that return a pointer (a handle, a string). */
export const isNull = (value: Deno.PointerValue): boolean => value === null;
/** libvirt's failure return for calls that return an int (-1). */
export const isNegative = (value: number): boolean => value < 0;

/** A gate's `wrap` for calls whose only result is success: the promise resolves to undefined. */
export const toVoid = (): void => undefined;
