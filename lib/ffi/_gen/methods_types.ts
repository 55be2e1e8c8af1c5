// The method stage's plan of one method (what methods_plan.ts and its argument rules build and
// methods_emit.ts writes), and the record of a function that gets none.
import type { ApiFunction } from "./methods_api.ts";
import type { ObjectSpec } from "./methods_names.ts";

/** Why a function gets no generated method. */
export interface Skip {
  fn: string;
  reason: string;
}

/** One parameter of a generated method. */
export interface Param {
  name: string;
  type: string;
  optional: boolean;
  doc: string;
}

/** One value a method returns from an out argument (a field of its result). */
export interface OutValue {
  key: string;
  type: string;
  expr: string;
  doc: string;
}

/** Everything needed to write one method: parameters, conversions, FFI arguments, result. */
export interface Plan {
  fn: ApiFunction;
  object: ObjectSpec;
  method: string;
  params: Param[];
  /** Lines before the call (argument conversion). */
  prelude: string[];
  /** The FFI arguments after the object's own pointer. */
  ffiArgs: string[];
  /**
   * The object arguments (handles, streams, connections), held for the call's length: `m.holding` specs,
   * in order; {@link ffiArgs} names their pointers `held[i]`.
   */
  held: string[];
  /** The value returned (built from `r`, the C return, and the out slots). */
  outs: OutValue[];
  /** How the C return reads. */
  ret: {
    kind: "void" | "boolean" | "number" | "bigint" | "string" | "handle" | "count" | "bytes";
    tsType: string;
    doc: string;
  };
  failed: string;
  io: boolean;
  /** Two calls to size a caller-allocated typed-parameter array. */
  sizedParams?: { index: number; schemaName: string };
  handleResult?: ObjectSpec;
  handleArray?: { out: string; object: ObjectSpec };
  stringArray?: string;
  needsWrap: boolean;
  /** Uses lib/ffi/_generated/structs.ts. */
  usesLayouts?: boolean;
  /** A caller-sized struct array the return value counts. */
  structArray?: { buffer: string; layout: string; iface: string };
  /** The struct layout of a two-call sized array. */
  sizedStruct?: string;
  /** The object returned handles belong to, when not `this` (a destination connection). */
  owner?: string;
  /** The parameter name of a two-call sized array (its buffer is `<name>Buffer`). */
  sizedName?: string;
  sync: boolean;
  imports: Set<string>;
}
