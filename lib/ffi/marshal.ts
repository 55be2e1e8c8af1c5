// The runtime of the generated one-call methods (lib/objects/_generated/): symbol lookup with
// NotSupportedError, argument checks that name the argument, out-parameters, returned strings and
// arrays, flags options and typed parameters. Generated code calls only these helpers; nothing there
// decodes memory itself.
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { ConnectionLostError, ErrorLevel } from "../errors.ts";
import { cString, readCString, takePointerArray } from "./c.ts";
import { libvirt } from "./library.ts";
import { libvirtSymbol } from "./optional.ts";
import {
  decodeTypedParamsObject,
  type EncodedTypedParams,
  encodeTypedParams,
  type TypedParamSchema,
  type TypedValue,
  VIR_TYPED_PARAM_SIZE,
} from "./typed_params.ts";

export { isNegative, isNull } from "./c.ts";
export { type HeldArgument, type HeldSpec, holdConnection, holding, type PointerHolder } from "./_holding.ts";
export type { TypedParamSchema, TypedValue };

/** "argument `xml` of virDomainDefineXML" */
function where(arg: string, fn: string): string {
  return `argument ${arg} of ${fn}`;
}

/** A `const char *` argument: a string without NUL. */
export function str(value: unknown, arg: string, fn: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be a string, got ${typeof value}`);
  }
  return cString(value, where(arg, fn));
}

/** A `const char *` argument libvirt allows to be NULL (undefined and null pass NULL). */
export function strOrNull(value: unknown, arg: string, fn: string): Uint8Array<ArrayBuffer> | null {
  return value === undefined || value === null ? null : str(value, arg, fn);
}

/** An `int`/`unsigned int` argument. */
export function int(value: unknown, arg: string, fn: string, unsigned = false): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be an integer, got ${String(value)}`);
  }
  const [lo, hi] = unsigned ? [0, 0xffffffff] : [-0x80000000, 0x7fffffff];
  if (value < lo || value > hi) {
    throw new RangeError(
      `Cannot call ${fn}: ${where(arg, fn)} must be an integer from ${lo} to ${hi}, got ${value}`,
    );
  }
  return value;
}

/** A 64-bit (`unsigned long`, `long long`, `size_t`, ...) argument: a safe integer number or a bigint. */
export function int64(value: unknown, arg: string, fn: string, unsigned = false): bigint {
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else {
    throw new TypeError(
      `Cannot call ${fn}: ${where(arg, fn)} must be a safe integer or a bigint, got ${String(value)}`,
    );
  }
  const [lo, hi] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
  if (big < lo || big > hi) {
    throw new RangeError(
      `Cannot call ${fn}: ${where(arg, fn)} must be an integer from ${lo} to ${hi}, got ${big}`,
    );
  }
  return big;
}

/** A `double` argument. */
export function double(value: unknown, arg: string, fn: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be a number, got ${typeof value}`);
  }
  return value;
}

/** Bytes in (`const unsigned char *`), checked for an exact length when given (UUIDs: 16). */
export function bytes(value: unknown, arg: string, fn: string, length?: number): Uint8Array<ArrayBuffer> {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`Cannot call ${fn}: ${where(arg, fn)} must be ${length} bytes, got ${value.length}`);
  }
  return value as Uint8Array<ArrayBuffer>;
}

/** A string array in (`const char **` with its count): the pointer array and the buffers it points into. */
export function strArray(
  values: unknown,
  arg: string,
  fn: string,
): { buffer: Uint8Array<ArrayBuffer> | null; count: number; keep: Uint8Array[] } {
  if (!Array.isArray(values)) {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be an array of strings`);
  }
  if (values.length === 0) return { buffer: null, count: 0, keep: [] };
  const keep = values.map((v, i) => str(v, `${arg}[${i}]`, fn));
  const pointers = new BigUint64Array(keep.length + 1); // NULL-terminated as well, for calls that want it
  keep.forEach((b, i) => pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))));
  return { buffer: new Uint8Array(pointers.buffer), count: keep.length, keep };
}

/** An int array in (`int *` with its count, e.g. file descriptors). */
export function intArray(
  values: unknown,
  arg: string,
  fn: string,
): { buffer: Uint8Array<ArrayBuffer>; count: number } {
  if (!Array.isArray(values)) {
    throw new TypeError(`Cannot call ${fn}: ${where(arg, fn)} must be an array of integers`);
  }
  const array = new Int32Array(Math.max(values.length, 1));
  values.forEach((v, i) => array[i] = int(v, `${arg}[${i}]`, fn));
  return { buffer: new Uint8Array(array.buffer), count: values.length };
}

// One shared word to reinterpret an out-slot's bytes without allocating a view per read.
const word = new BigUint64Array(1);
const wordBytes = new Uint8Array(word.buffer);
const wordInt = new Int32Array(word.buffer);
const wordUint = new Uint32Array(word.buffer);
const wordI64 = new BigInt64Array(word.buffer);

/** A one-word out-parameter (`int *`, `unsigned long long *`, `char **`, `virXPtr **`, ...). */
export class Out {
  /** The buffer to pass as the out-pointer (8 bytes, zeroed). */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(8);
  #load(): void {
    wordBytes.set(this.buffer);
  }
  /** `int *` */
  get int(): number {
    this.#load();
    return wordInt[0];
  }
  /** `unsigned int *` */
  get uint(): number {
    this.#load();
    return wordUint[0];
  }
  /** `unsigned long *`, `unsigned long long *`, `size_t *` */
  get u64(): bigint {
    this.#load();
    return word[0];
  }
  /** `long long *` */
  get i64(): bigint {
    this.#load();
    return wordI64[0];
  }
  /** `T **` */
  get pointer(): Deno.PointerValue {
    this.#load();
    return Deno.UnsafePointer.create(word[0]);
  }
  /** Stores an `int` (in/out counts such as `nparams`). */
  setInt(value: number): this {
    wordInt[0] = value;
    wordInt[1] = 0;
    this.buffer.set(wordBytes);
    return this;
  }
  /** Resets the slot (for module-level slots the sync methods reuse). */
  clear(): this {
    this.buffer.fill(0);
    return this;
  }
}

/** A string libvirt returned that the caller frees (`char *`). */
export function takeString(pointer: Deno.PointerValue): string {
  if (pointer === null) return "";
  try {
    return Deno.UnsafePointerView.getCString(pointer);
  } finally {
    libvirt().libc.free(pointer);
  }
}

/** A string libvirt returned that it keeps owning (`const char *`). */
export function readString(pointer: Deno.PointerValue): string {
  return readCString(pointer) ?? "";
}

/**
 * A call's result, unless it is the value with which that call says the connection is gone (generated
 * from LOST_CONNECTION_RESULTS in lib/ffi/_gen/overrides.ts): then a ConnectionLostError like any lost
 * connection's (NO_CONNECT, from RPC).
 *
 * @param value what the call returned
 * @param lost the value that means the connection is gone (`"remote"` for virConnectGetType)
 * @param operation the call, for the error (`call virConnectGetType on "qemu+ssh://h/system"`)
 * @param reason why the value means the connection is gone
 * @returns `value`
 * @throws {ConnectionLostError} when `value` is `lost`
 * @example
 * ```ts
 * import { lostConnectionIf } from "./marshal.ts";
 * console.log(lostConnectionIf("QEMU", "remote", 'call virConnectGetType on "qemu:///system"', "gone")); // QEMU
 * ```
 */
export function lostConnectionIf(value: string, lost: string, operation: string, reason: string): string {
  if (value !== lost) return value;
  throw new ConnectionLostError(operation, {
    code: ErrorCode.NO_CONNECT,
    domain: ErrorDomain.RPC,
    level: ErrorLevel.ERROR,
    message: reason,
  });
}

/** A `char **` array of `count` strings libvirt allocated: each and the array freed. */
export function takeStringArray(array: Deno.PointerValue, count: number): string[] {
  if (array === null) return [];
  const { free } = libvirt().libc;
  return takePointerArray(array, count).map((p) => {
    try {
      return Deno.UnsafePointerView.getCString(p);
    } finally {
      free(p);
    }
  });
}

/** Bytes libvirt returned that the caller frees (`unsigned char *` with a size out-parameter). */
export function takeBytes(pointer: Deno.PointerValue, size: number): Uint8Array {
  if (pointer === null) return new Uint8Array(0);
  try {
    return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size)).slice();
  } finally {
    libvirt().libc.free(pointer);
  }
}

/** A `virXPtr **` array of `count` handles libvirt allocated: the array freed, the handles returned. */
export const takeHandles: (array: Deno.PointerValue, count: number) => Deno.PointerObject[] =
  takePointerArray;

/** The `char *buf` of VIR_UUID_STRING_BUFLEN a GetUUIDString call fills. */
export function uuidBuffer(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(37);
}

/** Reads a filled UUID string buffer. */
export function uuidString(buffer: Uint8Array): string {
  return new TextDecoder().decode(buffer.subarray(0, 36));
}

/** A flags enum as options: option key -> bit. */
export type FlagTable = Readonly<Record<string, number>>;

/**
 * Turns a flags options object into the `unsigned int flags` argument: every true key's bit, OR'd
 * with a raw `flags` number (the escape hatch for bits this build does not name).
 *
 * @throws {TypeError} for a key the function does not know, naming the valid ones
 */
export function flags(options: unknown, table: FlagTable, fn: string): number {
  if (options === undefined) return 0;
  if (typeof options === "number") return int(options, "flags", fn, true);
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot call ${fn}: options must be an object, got ${String(options)}`);
  }
  let bits = 0;
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === false) continue;
    if (key === "flags") {
      bits |= int(value, "flags", fn, true);
      continue;
    }
    const bit = table[key];
    if (bit === undefined) {
      const known = Object.keys(table);
      throw new TypeError(
        `Cannot call ${fn}: unknown option ${JSON.stringify(key)}; ${
          known.length ? `known options: ${known.join(", ")}, flags` : "it takes only a raw flags number"
        }`,
      );
    }
    if (value !== true) {
      throw new TypeError(`Cannot call ${fn}: option ${JSON.stringify(key)} must be a boolean`);
    }
    bits |= bit;
  }
  return bits >>> 0;
}

/** Typed parameters in: see {@link encodeTypedParams}. */
export function params(
  values: unknown,
  schema: TypedParamSchema,
  fn: string,
): EncodedTypedParams {
  if (values === undefined) return { buffer: null, count: 0, keep: [] };
  return encodeTypedParams(values as Record<string, unknown>, schema, fn);
}

/** A plain object decoded from typed parameters. */
export type TypedParams = Record<string, TypedValue | TypedValue[]>;

/** Typed parameters libvirt allocated (`virTypedParameterPtr *` + `int *`): decoded, then virTypedParamsFree'd. */
export function takeParams(pointer: Deno.PointerValue, count: number): TypedParams {
  if (pointer === null) return {};
  try {
    return decodeTypedParamsObject(pointer, count);
  } finally {
    libvirtSymbol("virTypedParamsFree")(pointer, count);
  }
}

/** A caller-allocated typed-parameter array of `count` elements (the Get*Parameters pattern). */
export function paramsBuffer(count: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Math.max(count, 1) * VIR_TYPED_PARAM_SIZE);
}

/** Decodes a caller-allocated array libvirt filled, then frees the strings in it (virTypedParamsClear). */
export function readParams(buffer: Uint8Array<ArrayBuffer>, count: number): TypedParams {
  if (count <= 0) return {};
  const pointer = Deno.UnsafePointer.of(buffer);
  try {
    return decodeTypedParamsObject(pointer, count);
  } finally {
    libvirtSymbol("virTypedParamsClear")(pointer, count);
  }
}

/** A struct layout (lib/ffi/_generated/structs.ts): size and fields by name. */
export interface Layout {
  readonly size: number;
  readonly fields: Readonly<
    Record<string, { readonly offset: number; readonly kind: string; readonly length?: number }>
  >;
}

/** A decoded struct field: 64-bit integers as bigints, strings for `char *` and inline `char[]`. */
export type StructValue = number | bigint | string | null;

/** A caller-allocated buffer for `count` structs of `layout`. */
export function structBuffer(layout: Layout, count = 1): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Math.max(count, 1) * layout.size);
}

const textDecoder = new TextDecoder();

/**
 * Decodes the struct at `index` of a caller-allocated buffer by its layout. `char *` fields are read
 * (not freed: the structs that own them are released by their own calls).
 */
export function readStruct(layout: Layout, buffer: Uint8Array, index = 0): Record<string, StructValue> {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const base = index * layout.size;
  const result: Record<string, StructValue> = {};
  for (const [name, field] of Object.entries(layout.fields)) {
    const at = base + field.offset;
    switch (field.kind) {
      case "i8":
        result[name] = view.getInt8(at);
        break;
      case "u8":
        result[name] = view.getUint8(at);
        break;
      case "u16":
        result[name] = view.getUint16(at, true);
        break;
      case "i32":
        result[name] = view.getInt32(at, true);
        break;
      case "u32":
        result[name] = view.getUint32(at, true);
        break;
      case "i64":
        result[name] = view.getBigInt64(at, true);
        break;
      case "u64":
      case "usize":
        result[name] = view.getBigUint64(at, true);
        break;
      case "f64":
        result[name] = view.getFloat64(at, true);
        break;
      case "pointer":
        result[name] = readCString(Deno.UnsafePointer.create(view.getBigUint64(at, true)));
        break;
      case "i8[]": {
        const bytes = buffer.subarray(at, at + (field.length ?? 0));
        const end = bytes.indexOf(0);
        result[name] = textDecoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
        break;
      }
    }
  }
  return result;
}

/** Decodes `count` structs of a caller-allocated array. */
export function readStructs(
  layout: Layout,
  buffer: Uint8Array,
  count: number,
): Record<string, StructValue>[] {
  const result: Record<string, StructValue>[] = [];
  for (let i = 0; i < count; i++) result.push(readStruct(layout, buffer, i));
  return result;
}

// Scratch slots and buffers for synchronous calls: a sync call runs to completion before the next
// one starts (one thread, no await in between), so they can share memory and skip the allocations
// an asynchronous call needs for its own (its buffers must outlive the await).
const syncOuts: Out[] = [];
let syncStructBuffer = new Uint8Array(64);
let syncStructView = new DataView(syncStructBuffer.buffer);

/** The `index`th shared out-slot for synchronous calls. */
export function syncOut(index: number): Out {
  return syncOuts[index] ??= new Out();
}

/** A shared struct buffer for synchronous calls (at least `layout.size` bytes). */
export function syncStruct(layout: Layout): Uint8Array<ArrayBuffer> {
  if (syncStructBuffer.length < layout.size) {
    syncStructBuffer = new Uint8Array(layout.size);
    syncStructView = new DataView(syncStructBuffer.buffer);
  }
  return syncStructBuffer;
}

/** A view of the struct at `base` in `buffer` (the shared sync buffer's view is reused). */
export function viewOf(buffer: Uint8Array<ArrayBuffer>, base: number, size: number): DataView {
  return buffer === syncStructBuffer && base === 0
    ? syncStructView
    : new DataView(buffer.buffer, buffer.byteOffset + base, size);
}

/** A `char *` struct field. */
export function cStringAt(view: DataView, offset: number): string | null {
  return readCString(Deno.UnsafePointer.create(view.getBigUint64(offset, true)));
}

/** An inline `char[length]` struct field. */
export function charsAt(buffer: Uint8Array, offset: number, length: number): string {
  const bytes = buffer.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return textDecoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Frees memory libvirt allocated for the caller (libc free). */
export function free(pointer: Deno.PointerValue): void {
  if (pointer !== null) libvirt().libc.free(pointer);
}

/**
 * Decodes `groups` consecutive groups of `perGroup` parameters from a caller-allocated array (the
 * per-CPU layout of virDomainGetCPUStats), then frees their strings (virTypedParamsClear).
 */
export function readParamsGroups(
  buffer: Uint8Array<ArrayBuffer>,
  perGroup: number,
  groups: number,
): TypedParams[] {
  if (perGroup <= 0 || groups <= 0) return [];
  const pointer = Deno.UnsafePointer.of(buffer)!;
  try {
    return Array.from(
      { length: groups },
      (_, g) =>
        decodeTypedParamsObject(
          Deno.UnsafePointer.offset(pointer, g * perGroup * VIR_TYPED_PARAM_SIZE),
          perGroup,
        ),
    ).map((group) => {
      // unfilled slots decode as fields with an empty name: drop them
      delete group[""];
      return group;
    });
  } finally {
    libvirtSymbol("virTypedParamsClear")(pointer, perGroup * groups);
  }
}

/** Frees the `char *` fields `names` of `count` structs in a caller-allocated array. */
export function freeStructStrings(buffer: Uint8Array, layout: Layout, count: number, names: string[]): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  for (let i = 0; i < count; i++) {
    for (const name of names) {
      const at = i * layout.size + layout.fields[name].offset;
      free(Deno.UnsafePointer.create(view.getBigUint64(at, true)));
    }
  }
}
