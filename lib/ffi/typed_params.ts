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
import { UUID_STRING_BUFLEN } from "./symbols_domain.ts";

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
  name: string;
  uuid: string;
  params: Map<string, TypedValue>;
}

/**
 * Decodes a `virDomainStatsRecordPtr *` list of `count` records libvirt returned, then frees it (records,
 * their parameters and their domain references) with virDomainStatsRecordListFree.
 */
export function takeStatsRecords(list: Deno.PointerValue, count: number): RawStatsRecord[] {
  if (list === null) return [];
  const lib = libvirt().symbols;
  try {
    const array = new Deno.UnsafePointerView(list);
    const records: RawStatsRecord[] = [];
    const uuid = new Uint8Array(UUID_STRING_BUFLEN);
    for (let i = 0; i < count; i++) {
      const record = array.getPointer(i * 8);
      if (record === null) break;
      const view = new Deno.UnsafePointerView(record);
      const dom = view.getPointer(0);
      let name = "";
      let id = "";
      if (dom !== null) {
        name = readCString(lib.virDomainGetName(dom)) ?? "";
        lib.virDomainGetUUIDString(dom, uuid);
        id = decoder.decode(uuid.subarray(0, 36));
      }
      records.push({ name, uuid: id, params: decodeTypedParams(view.getPointer(8), view.getInt32(16)) });
    }
    return records;
  } finally {
    lib.virDomainStatsRecordListFree(list);
  }
}
