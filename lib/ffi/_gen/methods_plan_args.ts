// Classification of arguments: one rule per C argument shape (typed parameters, flags, strings, handles,
// arrays, out slots, scalars, structs). methods_plan.ts asks the rules in ARG_RULES' order; the first
// that recognises an argument adds its parameter, conversion and FFI arguments to the plan.
import type { ApiArg, ApiFunction } from "./methods_api.ts";
import type { Indexes } from "./methods_indexes.ts";
import { docText, ident, objectByType } from "./methods_names.ts";
import type { Plan } from "./methods_types.ts";
import { enumOf, structInterface, structOf } from "./methods_structs.ts";
import { methodOverrides } from "./overrides.ts";

/** One argument being classified, with what a rule needs to know about it. */
export interface ArgContext {
  p: Plan;
  fn: ApiFunction;
  a: ApiArg;
  /** The argument after it (a count, a size, flags), if any. */
  next: ApiArg | undefined;
  /** The TypeScript parameter name. */
  n: string;
  /** The C type. */
  t: string;
  /** libvirt's doc says NULL is allowed. */
  nullable: boolean;
  /** The C function name as a string literal. */
  F: string;
  api: Indexes;
}

/**
 * A rule's verdict: how many C arguments it consumed (1, or 2 with the count or size after it), a reason
 * the function gets no method (a string), or undefined when the rule does not apply.
 */
export type ArgResult = 1 | 2 | string | undefined;

/** A rule for one argument shape. */
export type ArgRule = (c: ArgContext) => ArgResult;

const intTypes: Record<string, { unsigned: boolean; wide: boolean }> = {
  "int": { unsigned: false, wide: false },
  "unsigned int": { unsigned: true, wide: false },
  "long": { unsigned: false, wide: true },
  "unsigned long": { unsigned: true, wide: true },
  "long long": { unsigned: false, wide: true },
  "unsigned long long": { unsigned: true, wide: true },
  "size_t": { unsigned: true, wide: true },
};

const outScalar: Record<string, { read: string; ts: string }> = {
  "int *": { read: "int", ts: "number" },
  "unsigned int *": { read: "uint", ts: "number" },
  "unsigned long *": { read: "u64", ts: "bigint" },
  "unsigned long long *": { read: "u64", ts: "bigint" },
  "long long *": { read: "i64", ts: "bigint" },
  "size_t *": { read: "u64", ts: "bigint" },
};

const typedParamsIn: ArgRule = ({ p, fn, next, n, t, F, api }) => {
  if (!(t === "virTypedParameterPtr" && next && /^(unsigned )?int$/.test(next.type))) return undefined;
  const schema = api.schemaFor(fn.name);
  if (!schema) return "typed parameters without a schema in overrides.ts";
  p.params.push({
    name: n,
    type: `${schema.typeName}<number | bigint>`,
    optional: false,
    doc: `typed parameters (${schema.doc})`,
  });
  p.prelude.push(`const ${n}_ = m.params(${n}, ${schema.constName}, ${F});`);
  p.ffiArgs.push(`${n}_.buffer`, `${n}_.count`);
  p.imports.add(schema.typeName).add(schema.constName);
  return 2;
};

const typedParamsSized: ArgRule = ({ p, fn, next, n, t, api }) => {
  if (!(t === "virTypedParameterPtr" && next?.type === "int *")) return undefined;
  const schema = api.schemaFor(fn.name);
  if (!schema) return "typed parameters without a schema in overrides.ts";
  if (p.sizedParams) return "two caller-allocated parameter arrays";
  p.sizedParams = { index: p.ffiArgs.length, schemaName: schema.typeName };
  p.ffiArgs.push(`SIZED_BUFFER`, `${n}Count.buffer`);
  p.prelude.push(`const ${n}Count = new m.Out();`);
  p.outs.push({
    key: "",
    type: schema.typeName,
    expr: `m.readParams(${n}Buffer, ${n}Count.int) as ${schema.typeName}`,
    doc: "the parameters, field -> value",
  });
  p.imports.add(schema.typeName);
  p.sizedName = n;
  return 2;
};

const typedParamsOut: ArgRule = ({ p, fn, next, n, t, api }) => {
  if (
    !(t === "virTypedParameterPtr *" && next && (next.type === "int *" || next.type === "unsigned int *"))
  ) {
    return undefined;
  }
  const schema = api.schemaFor(fn.name);
  const type = schema?.typeName ?? "m.TypedParams";
  if (schema) p.imports.add(schema.typeName);
  p.prelude.push(`const ${n} = new m.Out();`, `const ${n}Count = new m.Out();`);
  p.ffiArgs.push(`${n}.buffer`, `${n}Count.buffer`);
  p.outs.push({
    key: n,
    type,
    expr: `m.takeParams(${n}.pointer, ${n}Count.int) as ${type}`,
    doc: "the parameters, field -> value",
  });
  return 2;
};

const flagsArg: ArgRule = ({ p, fn, a, t, F, api }) => {
  if (!(a.name === "flags" && (t === "unsigned int" || t === "unsigned long"))) return undefined;
  const opts = api.flagsFor(fn);
  p.params.push({ name: "options", type: `${opts.typeName} | number`, optional: true, doc: opts.doc });
  p.imports.add(opts.typeName);
  if (opts.table) p.imports.add(opts.table);
  p.prelude.push(`const flags = m.flags(options, ${opts.table ?? "{}"}, ${F});`);
  p.ffiArgs.push(t === "unsigned long" ? "BigInt(flags)" : "flags");
  return 1;
};

const stringArg: ArgRule = ({ p, a, n, t, nullable, F }) => {
  if (t !== "const char *") return undefined;
  p.params.push({
    name: n,
    type: nullable ? "string | null" : "string",
    optional: nullable,
    doc: docText(a.info),
  });
  p.ffiArgs.push(
    nullable
      ? `m.strOrNull(${n}, ${JSON.stringify(a.name)}, ${F})`
      : `m.str(${n}, ${JSON.stringify(a.name)}, ${F})`,
  );
  return 1;
};

const connectionArg: ArgRule = ({ p, a, n, t }) => {
  if (t !== "virConnectPtr") return undefined;
  p.params.push({ name: n, type: "Connection", optional: false, doc: docText(a.info) });
  p.imports.add("kInternals"); // the class is named through the registry (classRefs in methods_emit.ts)
  // held for the call (a libvirt reference): a close() of the destination meanwhile cannot free it
  p.ffiArgs.push(`held[${p.held.length}]`);
  p.held.push(`[${n}, ${JSON.stringify(a.name)}, kInternals, false, "Connection"]`); // expected: for the refusal
  p.owner = n;
  return 1;
};

const handleArg: ArgRule = ({ p, a, n, t, nullable }) => {
  if (!(objectByType.has(t) || t === "virStreamPtr")) return undefined;
  const cls = t === "virStreamPtr" ? "ObjectHandle" : objectByType.get(t)!.className;
  p.params.push({
    name: n,
    type: nullable ? `${cls} | null` : cls,
    optional: nullable,
    doc: docText(a.info),
  });
  // held for the call (counted in flight on the argument): a free() of it meanwhile waits until C returned
  p.ffiArgs.push(`held[${p.held.length}]`);
  const expected = JSON.stringify(t === "virStreamPtr" ? "Stream" : cls); // for the refusal
  p.held.push(`[${n}, ${JSON.stringify(a.name)}, kHold, ${nullable}, ${expected}]`);
  return 1;
};

const stringArrayIn: ArgRule = ({ p, a, next, n, t, F }) => {
  if (!(t === "const char **" && next && /^(unsigned )?int$/.test(next.type))) return undefined;
  p.params.push({ name: n, type: "readonly string[]", optional: false, doc: docText(a.info) });
  p.prelude.push(`const ${n}_ = m.strArray(${n}, ${JSON.stringify(a.name)}, ${F});`);
  p.ffiArgs.push(`${n}_.buffer`, `${n}_.count`);
  return 2;
};

const intArrayIn: ArgRule = ({ p, a, next, t, F }) => {
  if (!(/^(unsigned )?int$/.test(t) && next?.type === "int *" && /^n/.test(a.name))) return undefined;
  const name = ident(next.name);
  p.params.push({ name, type: "readonly number[]", optional: false, doc: docText(next.info) });
  p.prelude.push(`const ${name}_ = m.intArray(${name}, ${JSON.stringify(next.name)}, ${F});`);
  p.ffiArgs.push(`${name}_.count`, `${name}_.buffer`);
  return 2;
};

const bytesIn: ArgRule = ({ p, a, next, n, t, F }) => {
  if (!(t === "const unsigned char *" && next?.type === "size_t")) return undefined;
  p.params.push({ name: n, type: "Uint8Array", optional: false, doc: docText(a.info) });
  p.prelude.push(`const ${n}_ = m.bytes(${n}, ${JSON.stringify(a.name)}, ${F});`);
  p.ffiArgs.push(`${n}_`, `BigInt(${n}_.length)`);
  return 2;
};

const uuidIn: ArgRule = ({ p, a, n, t, F }) => {
  if (!(t === "const unsigned char *" && /uuid/i.test(a.name))) return undefined;
  p.params.push({ name: n, type: "Uint8Array", optional: false, doc: `${docText(a.info)} (16 bytes)` });
  p.ffiArgs.push(`m.bytes(${n}, ${JSON.stringify(a.name)}, ${F}, 16)`);
  return 1;
};

const handleArrayOut: ArgRule = ({ p, fn, n, t }) => {
  if (!(/Ptr \*\*$/.test(t) && objectByType.has(t.replace(/ \*\*$/, "")))) return undefined;
  const target = objectByType.get(t.replace(/ \*\*$/, ""))!;
  if (fn.returnType !== "int") return "handle array without a count return";
  p.prelude.push(`const ${n} = new m.Out();`);
  p.ffiArgs.push(`${n}.buffer`);
  p.handleArray = { out: n, object: target };
  p.ret = {
    kind: "count",
    tsType: `${target.className}[]`,
    doc: `the ${target.className} handles (owned by the connection; free each with \`using\` or \`free()\`)`,
  };
  p.needsWrap = true;
  return 1;
};

const stringArrayOut: ArgRule = ({ p, fn, a, n, t }) => {
  if (t !== "char ***") return undefined;
  if (fn.returnType !== "int") return "string array without a count return";
  p.prelude.push(`const ${n} = new m.Out();`);
  p.ffiArgs.push(`${n}.buffer`);
  p.stringArray = n;
  p.ret = { kind: "count", tsType: "string[]", doc: docText(a.info) };
  return 1;
};

const stringOut: ArgRule = ({ p, a, n, t }) => {
  if (!(t === "char **" && !/names|uuids/i.test(a.name))) return undefined;
  p.prelude.push(`const ${n} = new m.Out();`);
  p.ffiArgs.push(`${n}.buffer`);
  p.outs.push({ key: n, type: "string", expr: `m.takeString(${n}.pointer)`, doc: docText(a.info) });
  return 1;
};

const uuidStringOut: ArgRule = ({ p, fn, a, n, t }) => {
  if (!(t === "char *" && a.name === "buf" && /UUIDString$/.test(fn.name))) return undefined;
  p.prelude.push(`const ${n} = m.uuidBuffer();`);
  p.ffiArgs.push(n);
  p.outs.push({ key: n, type: "string", expr: `m.uuidString(${n})`, doc: "the UUID string" });
  return 1;
};

const uuidOut: ArgRule = ({ p, fn, a, n, t }) => {
  if (!(t === "unsigned char *" && a.name === "uuid" && /GetUUID$/.test(fn.name))) return undefined;
  p.prelude.push(`const ${n} = new Uint8Array(16);`);
  p.ffiArgs.push(n);
  p.outs.push({ key: n, type: "Uint8Array", expr: n, doc: "the raw 16-byte UUID" });
  return 1;
};

const scalarOut: ArgRule = ({ p, a, n, t }) => {
  if (!(outScalar[t] && !/\barray\b|\bin\/out\b|\bon input\b/i.test(a.info))) return undefined;
  p.prelude.push(`const ${n} = new m.Out();`);
  p.ffiArgs.push(`${n}.buffer`);
  const named = outScalar[t].ts === "number" ? enumOf(a.info) : undefined;
  if (named) p.imports.add(`enum:${named}`);
  p.outs.push({
    key: a.name,
    type: named ?? outScalar[t].ts,
    expr: named ? `${n}.${outScalar[t].read} as ${named}` : `${n}.${outScalar[t].read}`,
    doc: docText(a.info),
  });
  return 1;
};

const intArg: ArgRule = ({ p, a, n, t, F }) => {
  if (!intTypes[t]) return undefined;
  const { unsigned, wide } = intTypes[t];
  const named = wide ? undefined : enumOf(a.info);
  if (named) p.imports.add(`enum:${named}`);
  p.params.push({
    name: n,
    type: named ?? (wide ? "number | bigint" : "number"),
    optional: false,
    doc: docText(a.info),
  });
  p.ffiArgs.push(
    wide
      ? `m.int64(${n}, ${JSON.stringify(a.name)}, ${F}${unsigned ? ", true" : ""})`
      : `m.int(${n}, ${JSON.stringify(a.name)}, ${F}${unsigned ? ", true" : ""})`,
  );
  return 1;
};

const doubleArg: ArgRule = ({ p, a, n, t, F }) => {
  if (t !== "double") return undefined;
  p.params.push({ name: n, type: "number", optional: false, doc: docText(a.info) });
  p.ffiArgs.push(`m.double(${n}, ${JSON.stringify(a.name)}, ${F})`);
  return 1;
};

/** A struct argument once its layout is known: `L` is the layout expression, `iface` its interface. */
type StructRule = (c: ArgContext, layoutName: string, L: string, iface: string) => ArgResult;

/** A versioned struct: the caller says how large its copy is. */
const structVersioned: StructRule = ({ p, next, n }, layoutName, L, iface) => {
  if (!(next && next.type === "size_t" && /size/i.test(next.name))) return undefined;
  p.prelude.push(`const ${n} = m.structBuffer(${L});`);
  p.ffiArgs.push(n, `BigInt(${L}.size)`);
  p.outs.push({ key: n, type: iface, expr: `read${iface}(${n})`, doc: `the decoded \`${layoutName}\`` });
  return 2;
};

/** An array the caller sizes; the return value says how many were filled. */
const structCallerSized: StructRule = ({ p, fn, a, next, n }, _layoutName, L, iface) => {
  const capacity = methodOverrides.structCapacity[fn.name];
  if (!(next && /^(unsigned )?int$/.test(next.type) && capacity !== undefined)) return undefined;
  p.prelude.push(`const ${n} = m.structBuffer(${L}, ${capacity});`);
  p.ffiArgs.push(n, String(capacity));
  p.structArray = { buffer: n, layout: L, iface };
  p.ret = { kind: "count", tsType: `${iface}[]`, doc: docText(a.info) };
  return 2;
};

/** Sized by a first call with NULL: the Get*Parameters pattern, with structs. */
const structTwoCalls: StructRule = ({ p, a, next, n }, _layoutName, L, iface) => {
  if (!(next && next.type === "int *")) return undefined;
  if (p.sizedParams) return "two caller-allocated arrays";
  p.sizedParams = { index: p.ffiArgs.length, schemaName: iface };
  p.sizedStruct = L;
  p.ffiArgs.push(`SIZED_BUFFER`, `${n}Count.buffer`);
  p.prelude.push(`const ${n}Count = new m.Out();`);
  p.outs.push({
    key: "",
    type: `${iface}[]`,
    expr: `Array.from({ length: ${n}Count.int }, (_, i) => read${iface}(${n}Buffer, i))`,
    doc: docText(a.info),
  });
  p.sizedName = n;
  return 2;
};

/** One struct libvirt fills. */
const structSingle: StructRule = ({ p, next, n }, layoutName, L, iface) => {
  if (!(!next || !/^(unsigned )?int$|\*$/.test(next.type) || next.name === "flags")) return undefined;
  p.prelude.push(`const ${n} = m.structBuffer(${L});`);
  p.ffiArgs.push(n);
  p.outs.push({ key: n, type: iface, expr: `read${iface}(${n})`, doc: `the decoded \`${layoutName}\`` });
  return 1;
};

const structArg: ArgRule = (c) => {
  const layoutName = structOf(c.t);
  if (layoutName === undefined) return undefined;
  const iface = structInterface(layoutName);
  c.p.imports.add(iface);
  c.p.usesLayouts = true;
  const L = `structLayouts.${layoutName}`;
  for (const rule of [structVersioned, structCallerSized, structTwoCalls, structSingle]) {
    const result = rule(c, layoutName, L, iface);
    if (result !== undefined) return result;
  }
  return undefined;
};

/** The argument rules, in the order they are asked (the first that applies wins). */
export const ARG_RULES: readonly ArgRule[] = [
  typedParamsIn,
  typedParamsSized,
  typedParamsOut,
  flagsArg,
  stringArg,
  connectionArg,
  handleArg,
  stringArrayIn,
  intArrayIn,
  bytesIn,
  uuidIn,
  handleArrayOut,
  stringArrayOut,
  stringOut,
  uuidStringOut,
  uuidOut,
  scalarOut,
  intArg,
  doubleArg,
  structArg,
];
