// virTypedParameter arrays and virDomainStatsRecord lists, decoded generically into name -> value maps.
//
// Layouts (x86_64 / aarch64 LP64), verified with offsetof against libvirt 9.0's headers by a C program
// compiled with gcc (see the report in the stats commit):
//
//   virTypedParameter: sizeof=96 field@0 type@80 value@88 VIR_TYPED_PARAM_FIELD_LENGTH=80
//   virDomainStatsRecord: sizeof=24 dom@0 params@8 nparams@16
//   types: INT=1 UINT=2 LLONG=3 ULLONG=4 DOUBLE=5 BOOLEAN=6 STRING=7
//
// The C program (gcc off.c -o off && ./off):
//   printf("virTypedParameter: sizeof=%zu field@%zu type@%zu value@%zu VIR_TYPED_PARAM_FIELD_LENGTH=%d\n",
//     sizeof(virTypedParameter), offsetof(virTypedParameter, field), offsetof(virTypedParameter, type),
//     offsetof(virTypedParameter, value), VIR_TYPED_PARAM_FIELD_LENGTH);
//   printf("virDomainStatsRecord: sizeof=%zu dom@%zu params@%zu nparams@%zu\n", sizeof(virDomainStatsRecord),
//     offsetof(virDomainStatsRecord, dom), offsetof(virDomainStatsRecord, params),
//     offsetof(virDomainStatsRecord, nparams));
import { readCString } from "./c.ts";
import { libvirt } from "./library.ts";
import { UUID_STRING_BUFLEN } from "./constants.ts";

/** sizeof(virTypedParameter) */
export const VIR_TYPED_PARAM_SIZE = 96;
/** VIR_TYPED_PARAM_FIELD_LENGTH: the field name's buffer, NUL included. */
export const VIR_TYPED_PARAM_FIELD_LENGTH = 80;
const TYPE_OFFSET = 80;
const VALUE_OFFSET = 88;
/** sizeof(virDomainStatsRecord) */
export const VIR_DOMAIN_STATS_RECORD_SIZE = 24;

/** virTypedParameterType */
export const TypedParamType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;

/** A decoded typed parameter value: 64-bit integers stay exact as bigint. */
export type TypedValue = number | bigint | boolean | string;

const decoder = new TextDecoder();
// takeStatsRecords reads every UUID synchronously: one buffer serves all
const uuidBuffer = new Uint8Array(UUID_STRING_BUFLEN);
const uuidText = uuidBuffer.subarray(0, 36);

/**
 * Decodes `count` virTypedParameters starting at `pointer` into a name -> value map (in array order).
 * Unknown types are skipped (a newer libvirt may add some).
 */
export function decodeTypedParams(pointer: Deno.PointerValue, count: number): Map<string, TypedValue> {
  const result = new Map<string, TypedValue>();
  if (pointer === null || count <= 0) return result;
  const view = new Deno.UnsafePointerView(pointer);
  for (let i = 0; i < count; i++) {
    const base = i * VIR_TYPED_PARAM_SIZE;
    // libvirt NUL-terminates the field within its VIR_TYPED_PARAM_FIELD_LENGTH bytes (virStrcpy):
    // one read of the C string, instead of a copy and a decode
    const name = view.getCString(base);
    const type = view.getInt32(base + TYPE_OFFSET);
    const at = base + VALUE_OFFSET;
    switch (type) {
      case TypedParamType.INT:
        result.set(name, view.getInt32(at));
        break;
      case TypedParamType.UINT:
        result.set(name, view.getUint32(at));
        break;
      case TypedParamType.LLONG:
        result.set(name, view.getBigInt64(at));
        break;
      case TypedParamType.ULLONG:
        result.set(name, view.getBigUint64(at));
        break;
      case TypedParamType.DOUBLE:
        result.set(name, view.getFloat64(at));
        break;
      case TypedParamType.BOOLEAN:
        result.set(name, view.getInt8(at) !== 0);
        break;
      case TypedParamType.STRING:
        result.set(name, readCString(view.getPointer(at)) ?? "");
        break;
    }
  }
  return result;
}

/** One virDomainStatsRecord, decoded: the domain's identity and its parameters. */
export interface RawStatsRecord {
  /** The domain's name. */
  name: string;
  /** The domain's UUID. */
  uuid: string;
  /** The record's typed parameters ("state.state", "cpu.time", ...), as libvirt names them. */
  params: Map<string, TypedValue>;
}

/**
 * Decodes a `virDomainStatsRecordPtr *` list of `count` records libvirt returned, then frees it (records,
 * their parameters and their domain references) with virDomainStatsRecordListFree.
 *
 * @param list the list libvirt returned
 * @param count its length
 * @param only the name and UUID of the one domain a one-domain virDomainListGetStats asked about
 *   (its record, when there is one, is that domain's: no need to ask libvirt for them)
 * @returns the records, in libvirt's order
 */
export function takeStatsRecords(
  list: Deno.PointerValue,
  count: number,
  only?: { name: string; uuid: string },
): RawStatsRecord[] {
  if (list === null) return [];
  const lib = libvirt().symbols;
  try {
    const array = new Deno.UnsafePointerView(list);
    const records: RawStatsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const record = array.getPointer(i * 8);
      if (record === null) break;
      const view = new Deno.UnsafePointerView(record);
      const dom = view.getPointer(0);
      let name = "";
      let id = "";
      if (only !== undefined && count === 1) {
        name = only.name;
        id = only.uuid;
      } else if (dom !== null) {
        name = readCString(lib.virDomainGetName(dom)) ?? "";
        lib.virDomainGetUUIDString(dom, uuidBuffer);
        id = decoder.decode(uuidText);
      }
      records.push({ name, uuid: id, params: decodeTypedParams(view.getPointer(8), view.getInt32(16)) });
    }
    return records;
  } finally {
    lib.virDomainStatsRecordListFree(list);
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding, and decoding against a schema (the per-function field tables generated from libvirt's
// VIR_*_PARAM_* / VIR_DOMAIN_*_* macros by lib/ffi/_gen/generate_methods.ts).

/** The kinds of value a typed parameter holds, as libvirt's macro docs name them. */
export type TypedParamKind = "int" | "uint" | "llong" | "ullong" | "double" | "boolean" | "string";

/** A function's typed parameters: field name ("total_bytes_sec") -> kind. */
export type TypedParamSchema = Readonly<Record<string, TypedParamKind>>;

const kindCode: Record<TypedParamKind, number> = {
  int: TypedParamType.INT,
  uint: TypedParamType.UINT,
  llong: TypedParamType.LLONG,
  ullong: TypedParamType.ULLONG,
  double: TypedParamType.DOUBLE,
  boolean: TypedParamType.BOOLEAN,
  string: TypedParamType.STRING,
};

/** A typed-parameter array built in JavaScript memory (never passed to virTypedParamsFree). */
export interface EncodedTypedParams {
  /** The array to pass as `virTypedParameterPtr` (null when empty). */
  readonly buffer: Uint8Array<ArrayBuffer> | null;
  /** The element count to pass as `nparams`. */
  readonly count: number;
  /** String buffers the array points into; keep referenced until the call returned. */
  readonly keep: readonly Uint8Array[];
}

const textEncoder = new TextEncoder();

function integer(value: unknown, kind: TypedParamKind, where: string): number | bigint {
  if (typeof value === "bigint") return value;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot encode ${where}: expected an integer (${kind}), got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "bigint"
    ? `${value}n`
    : String(value);
}

const ranges: Partial<Record<TypedParamKind, [bigint, bigint]>> = {
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  uint: [0n, 2n ** 32n - 1n],
  llong: [-(2n ** 63n), 2n ** 63n - 1n],
  ullong: [0n, 2n ** 64n - 1n],
};

/**
 * Encodes `values` as a virTypedParameter array, typing each field by `schema`.
 *
 * 32-bit kinds take numbers; 64-bit kinds take numbers (safe integers) or bigints; `undefined`
 * values are skipped. A field the schema does not know, a wrong type or an out-of-range number is
 * a TypeError/RangeError naming the function, the field and what would be accepted.
 *
 * @param values field -> value, e.g. `{ total_bytes_sec: 1_000_000 }`
 * @param schema field -> kind
 * @param what the C function, for messages: "virDomainSetBlockIoTune"
 */
export function encodeTypedParams(
  values: Readonly<Record<string, unknown>>,
  schema: TypedParamSchema,
  what: string,
): EncodedTypedParams {
  if (values === null || typeof values !== "object") {
    throw new TypeError(`Cannot call ${what}: parameters must be an object, got ${describe(values)}`);
  }
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return { buffer: null, count: 0, keep: [] };
  const buffer = new Uint8Array(entries.length * VIR_TYPED_PARAM_SIZE);
  const view = new DataView(buffer.buffer);
  const keep: Uint8Array[] = [];
  entries.forEach(([name, value], i) => {
    const kind = schema[name];
    const where = `parameter ${JSON.stringify(name)} of ${what}`;
    if (kind === undefined) {
      const known = Object.keys(schema);
      throw new TypeError(
        `Cannot encode ${where}: unknown field; ${
          known.length ? `known fields: ${known.join(", ")}` : "this call takes no typed parameters"
        }`,
      );
    }
    const name8 = textEncoder.encode(name);
    if (name8.length >= VIR_TYPED_PARAM_FIELD_LENGTH || name.includes("\0")) {
      throw new RangeError(`Cannot encode ${where}: field names are at most 79 bytes, without NUL`);
    }
    const base = i * VIR_TYPED_PARAM_SIZE;
    buffer.set(name8, base);
    view.setInt32(base + TYPE_OFFSET, kindCode[kind], true);
    const at = base + VALUE_OFFSET;
    switch (kind) {
      case "int":
      case "uint":
      case "llong":
      case "ullong": {
        const n = integer(value, kind, where);
        const big = BigInt(n);
        const [lo, hi] = ranges[kind]!;
        if (big < lo || big > hi || (typeof n === "number" && !Number.isSafeInteger(n))) {
          throw new RangeError(`Cannot encode ${where}: ${describe(value)} is out of range for ${kind}`);
        }
        if (kind === "int") view.setInt32(at, Number(big), true);
        else if (kind === "uint") view.setUint32(at, Number(big), true);
        else if (kind === "llong") view.setBigInt64(at, big, true);
        else view.setBigUint64(at, big, true);
        break;
      }
      case "double":
        if (typeof value !== "number") {
          throw new TypeError(`Cannot encode ${where}: expected a number (double), got ${describe(value)}`);
        }
        view.setFloat64(at, value, true);
        break;
      case "boolean":
        if (typeof value !== "boolean") {
          throw new TypeError(`Cannot encode ${where}: expected a boolean, got ${describe(value)}`);
        }
        view.setInt8(at, value ? 1 : 0);
        break;
      case "string": {
        if (typeof value !== "string") {
          throw new TypeError(`Cannot encode ${where}: expected a string, got ${describe(value)}`);
        }
        if (value.includes("\0")) throw new TypeError(`Cannot encode ${where}: the string contains a NUL`);
        const bytes = textEncoder.encode(value + "\0");
        keep.push(bytes);
        view.setBigUint64(at, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes))), true);
        break;
      }
    }
  });
  return { buffer, count: entries.length, keep };
}

/**
 * Decodes `count` parameters at `pointer` into a plain object (array order; a repeated field, as
 * libvirt uses for lists such as migration disks, becomes an array of its values). 32-bit and double
 * values are numbers, 64-bit integers bigints, booleans and strings themselves.
 */
export function decodeTypedParamsObject(
  pointer: Deno.PointerValue,
  count: number,
): Record<string, TypedValue | TypedValue[]> {
  const result: Record<string, TypedValue | TypedValue[]> = {};
  if (pointer === null || count <= 0) return result;
  // decodeTypedParams keeps the last of repeated names; walk one element at a time to keep them all
  for (let i = 0; i < count; i++) {
    const element = Deno.UnsafePointer.offset(pointer as Deno.PointerObject, i * VIR_TYPED_PARAM_SIZE);
    for (const [name, value] of decodeTypedParams(element, 1)) {
      const previous = result[name];
      if (previous === undefined) result[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else result[name] = [previous, value];
    }
  }
  return result;
}
