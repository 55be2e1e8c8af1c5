// The method-generation stage: from libvirt's API description, one typed method per libvirt function
// on the class of its first argument (lib/objects/_generated/<object>.ts, abstract base classes the
// object classes extend), plus the flags options and typed-parameter schemas they take
// (lib/objects/_generated/options.ts). Run from generate.ts, or alone:
//
//   deno run --allow-read --allow-write lib/ffi/_gen/generate_methods.ts [--check]
//
// Naming: the C name without `vir` and the object prefix, lowerCamelCase, acronyms as words
// (virDomainGetDHCPLeases -> getDhcpLeases, virConnectListAllDomains -> listAllDomains). A name an
// object class already defines by hand is not generated (the hand-written member stays); see
// `collisions` in the report.
import { structLayouts } from "../_generated/structs.ts";
import { type ApiModel, loadApiModel } from "./api_model.ts";
import {
  coverageIgnoreOf,
  handWrittenModule,
  isLocal,
  methodOverrides,
  NULLABLE_ARGS,
  OBJECT_RELEASE,
  returnOwnership,
} from "./overrides.ts";

// ---------------------------------------------------------------------------------------------------
// The API description (a small reader of libvirt-api.xml: function, enum and macro elements)

/** One `<arg>` of a function. */
export interface ApiArg {
  name: string;
  type: string;
  info: string;
}

/** One `<function>`. */
export interface ApiFunction {
  name: string;
  /** The header: "libvirt-domain". */
  file: string;
  version: string;
  info: string;
  returnType: string;
  returnInfo: string;
  args: ApiArg[];
}

/** One `<enum>` value. */
export interface ApiEnum {
  name: string;
  type: string;
  value: number;
  info: string;
}

/** One `<macro>` with a string value (typed-parameter field names). */
export interface ApiMacro {
  name: string;
  string: string;
  info: string;
}

/** What the stage reads. */
export interface ApiDescription {
  functions: ApiFunction[];
  enums: ApiEnum[];
  macros: ApiMacro[];
}

function unescapeXml(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll(
    "&apos;",
    "'",
  )
    .replaceAll("&amp;", "&");
}

function attrs(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const m of tag.matchAll(/(\w+)='([^']*)'/g)) result[m[1]] = unescapeXml(m[2]);
  return result;
}

function cdata(body: string, tag: string): string {
  const m = body.match(new RegExp(`<${tag}><!\\[CDATA\\[([\\s\\S]*?)\\]\\]></${tag}>`));
  return m ? m[1] : "";
}

/** The stage's view of the generator's {@link ApiModel} (lib/ffi/_gen/api_model.ts). */
export function fromApiModel(model: ApiModel): ApiDescription {
  const kinds: Record<string, string> = {
    INT: "int",
    UINT: "uint",
    LLONG: "llong",
    ULLONG: "ullong",
    DOUBLE: "double",
    BOOLEAN: "boolean",
    STRING: "string",
  };
  return {
    functions: model.functions.map((f) => ({
      name: f.name,
      file: f.header,
      version: f.version.text,
      info: f.info,
      returnType: f.returns.type,
      returnInfo: f.returns.info,
      args: f.args.map((a) => ({ name: a.name, type: a.type, info: a.info })),
    })),
    enums: model.enumValues.filter((e) => !e.sentinel).map((e) => ({
      name: e.name,
      type: e.type,
      value: e.value,
      info: e.info,
    })),
    macros: model.macros.filter((m) => m.string !== undefined).map((m) => ({
      name: m.name,
      string: m.string!,
      // the model's reading of the documented type wins over this stage's own
      info: m.typedParamType ? `${m.info} (as ${kinds[m.typedParamType]})` : m.info,
    })),
  };
}

/** Reads libvirt-api.xml (and libvirt-qemu-api.xml) into {@link ApiDescription} (standalone use). */
export function readApiXml(...texts: string[]): ApiDescription {
  const api: ApiDescription = { functions: [], enums: [], macros: [] };
  for (const text of texts) {
    for (const m of text.matchAll(/<function (name='[^>]*)>([\s\S]*?)<\/function>/g)) {
      const a = attrs(m[1]);
      const body = m[2];
      const ret = attrs(body.match(/<return [^>]*\/>/)?.[0] ?? "");
      api.functions.push({
        name: a.name,
        file: a.file,
        version: a.version ?? "0.0.0",
        info: cdata(body, "info"),
        returnType: ret.type ?? "void",
        returnInfo: ret.info ?? "",
        args: [...body.matchAll(/<arg [^>]*\/>/g)].map((x) => {
          const b = attrs(x[0]);
          return { name: b.name, type: b.type, info: b.info ?? "" };
        }),
      });
    }
    for (const m of text.matchAll(/<enum [^>]*\/>/g)) {
      const a = attrs(m[0]);
      if (a.type && a.value !== undefined) {
        api.enums.push({ name: a.name, type: a.type, value: Number(a.value), info: a.info ?? "" });
      }
    }
    for (const m of text.matchAll(/<macro (name='[^>]*)>([\s\S]*?)<\/macro>/g)) {
      const a = attrs(m[1]);
      if (a.string !== undefined) {
        api.macros.push({ name: a.name, string: a.string, info: cdata(m[2], "info") });
      }
    }
  }
  return api;
}

// ---------------------------------------------------------------------------------------------------
// The objects

/** An object class the stage generates a base for. */
export interface ObjectSpec {
  /** The C pointer type of the first argument: "virDomainPtr". */
  cType: string;
  /** The public class: "Domain". */
  className: string;
  /** The generated base class: "DomainCalls". */
  baseName: string;
  /** lib/objects/_generated/<file>.ts */
  file: string;
  /** C prefixes stripped from names, longest first: ["DomainSnapshot", "Domain"]. */
  prefixes: string[];
  /** Where the hand-written class lives (for the collision check and type imports), from lib/. */
  module: string;
}

const objects: ObjectSpec[] = [
  ["virConnectPtr", "Connection", "connection", ["Connect"], "connection.ts"],
  ["virDomainPtr", "Domain", "domain", ["Domain"], "objects/domain.ts"],
  ["virNetworkPtr", "Network", "network", ["Network"], "objects/network.ts"],
  ["virNetworkPortPtr", "NetworkPort", "network_port", ["NetworkPort"], "objects/network_port.ts"],
  ["virStoragePoolPtr", "StoragePool", "storage_pool", ["StoragePool"], "objects/storage.ts"],
  ["virStorageVolPtr", "StorageVolume", "storage_volume", ["StorageVol"], "objects/storage.ts"],
  [
    "virDomainSnapshotPtr",
    "DomainSnapshot",
    "domain_snapshot",
    ["DomainSnapshot", "Domain"],
    "objects/snapshot.ts",
  ],
  [
    "virDomainCheckpointPtr",
    "DomainCheckpoint",
    "domain_checkpoint",
    ["DomainCheckpoint", "Domain"],
    "objects/domain_checkpoint.ts",
  ],
  ["virNWFilterPtr", "NWFilter", "nwfilter", ["NWFilter"], "objects/nwfilter.ts"],
  [
    "virNWFilterBindingPtr",
    "NWFilterBinding",
    "nwfilter_binding",
    ["NWFilterBinding"],
    "objects/nwfilter.ts",
  ],
  ["virSecretPtr", "Secret", "secret", ["Secret"], "objects/secret.ts"],
  ["virNodeDevicePtr", "NodeDevice", "node_device", ["NodeDevice"], "objects/node_device.ts"],
  ["virInterfacePtr", "Interface", "interface", ["Interface"], "objects/interface.ts"],
].map(([cType, className, file, prefixes, module]) => ({
  cType: cType as string,
  className: className as string,
  baseName: `${className}Calls`,
  file: file as string,
  prefixes: prefixes as string[],
  module: module as string,
}));

const objectByType = new Map(objects.map((o) => [o.cType, o]));

// ---------------------------------------------------------------------------------------------------
// Names

/** Splits a C name into words: "GetDHCPLeases" -> ["Get", "DHCP", "Leases"]. */
function words(name: string): string[] {
  return name.match(/[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+/g) ?? [name];
}

/** lowerCamelCase with acronyms as words: ["Get","DHCP","Leases"] -> "getDhcpLeases". */
function camel(parts: string[]): string {
  return parts.map((w, i) => {
    const lower = w.toLowerCase();
    return i === 0 ? lower : lower[0].toUpperCase() + lower.slice(1);
  }).join("");
}

/** The method name for a function on an object. */
export function methodName(fn: string, object: ObjectSpec): string {
  let rest = fn.replace(/^vir/, "");
  for (const prefix of object.prefixes) {
    if (rest.startsWith(prefix) && /^[A-Z0-9]/.test(rest.slice(prefix.length))) {
      rest = rest.slice(prefix.length);
      break;
    }
  }
  return camel(words(rest));
}

function pascal(name: string): string {
  const c = camel(words(name));
  return c[0].toUpperCase() + c.slice(1);
}

function ident(name: string): string {
  const reserved = new Set([
    "function",
    "default",
    "delete",
    "new",
    "class",
    "in",
    "var",
    "type",
    "interface",
  ]);
  return reserved.has(name) ? `${name}_` : name;
}

// ---------------------------------------------------------------------------------------------------
// Classification

/** Why a function gets no generated method. */
export interface Skip {
  fn: string;
  reason: string;
}

interface Param {
  name: string;
  type: string;
  optional: boolean;
  doc: string;
}

interface OutValue {
  key: string;
  type: string;
  expr: string;
  doc: string;
}

interface Plan {
  fn: ApiFunction;
  object: ObjectSpec;
  method: string;
  params: Param[];
  /** Lines before the call (argument conversion). */
  prelude: string[];
  /** The FFI arguments after the object's own pointer. */
  ffiArgs: string[];
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
  sync: boolean;
  imports: Set<string>;
}

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

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const m = flat.match(/^(.*?[.!?])(\s|$)/);
  const s = (m ? m[1] : flat) || "Calls the libvirt function.";
  return s.replaceAll("*/", "* /").replace(/@(\w+)/g, "`$1`").replaceAll("@", "(at)");
}

function docText(text: string): string {
  return text.replace(/\s+/g, " ").trim().replaceAll("*/", "* /").replace(/@(\w+)/g, "`$1`").replaceAll(
    "@",
    "(at)",
  );
}

function isNullable(info: string): boolean {
  return /\bNULL\b/.test(info) &&
    /(may|can|or|optional|allowed|be) (be )?NULL|NULL (is|for|to|means|if|allowed)|or NULL|\bNULL\b/i.test(
      info,
    );
}

function retKind(fn: ApiFunction): Plan["ret"] | undefined {
  const info = fn.returnInfo;
  switch (fn.returnType) {
    case "int":
      if (/^vir\w+?(Is|Has)[A-Z]/.test(fn.name) && !/number of/i.test(info)) {
        return { kind: "boolean", tsType: "boolean", doc: docText(info) };
      }
      if (
        !/number of|count|the (maximum|max)|\bid\b|watch|callback/i.test(info) &&
        (/(^|[^-\d])0 (in case of|on|if|upon|for|when|in) (success|succe)|0 if succe|\b0 on succ|returns? 0\b|^0\b|, 0 otherwise|0 in case of success/i
          .test(info))
      ) {
        if (/(^|[^-])\b1\b (if|when|in case)/.test(info)) {
          return { kind: "boolean", tsType: "boolean", doc: docText(info) };
        }
        return { kind: "void", tsType: "void", doc: "" };
      }
      if (/(^|[^-\d])1 (if|when)\b/.test(info) && !/number of/i.test(info)) {
        return { kind: "boolean", tsType: "boolean", doc: docText(info) };
      }
      return { kind: "number", tsType: "number", doc: docText(info) };
    case "unsigned int":
      return { kind: "number", tsType: "number", doc: docText(info) };
    case "unsigned long":
    case "unsigned long long":
      return { kind: "bigint", tsType: "bigint", doc: docText(info) };
    case "char *":
    case "const char *":
      return { kind: "string", tsType: "string", doc: docText(info) };
    default:
      if (objectByType.has(fn.returnType)) {
        return { kind: "handle", tsType: objectByType.get(fn.returnType)!.className, doc: docText(info) };
      }
      return undefined;
  }
}

/** Plans a method, or says why there is none. */
function plan(fn: ApiFunction, api: Indexes, local: Set<string>): Plan | Skip {
  const skip = (reason: string): Skip => ({ fn: fn.name, reason });
  const first = fn.args[0];
  const object = first && objectByType.get(first.type);
  if (object === undefined) return skip("no object argument first (a process-wide or helper function)");
  const ret = retKind(fn);
  if (ret === undefined) return skip(`returns ${fn.returnType}`);
  const p: Plan = {
    fn,
    object,
    method: methodOverrides.rename[fn.name] ?? methodName(fn.name, object),
    params: [],
    prelude: [],
    ffiArgs: [],
    outs: [],
    ret,
    failed: fn.returnType.endsWith("*") || objectByType.has(fn.returnType) ? "m.isNull" : "m.isNegative",
    io: !local.has(fn.name),
    needsWrap: false,
    sync: methodOverrides.syncTwins.includes(fn.name),
    imports: new Set(),
  };
  if (ret.kind === "bigint") {
    p.failed = /\b0\b.*(error|fail)/i.test(fn.returnInfo) ? "(r: bigint) => r === 0n" : "() => false";
  }
  if (fn.returnType === "unsigned int") p.failed = "() => false";
  if (fn.returnType === "const char *" && !p.io) p.failed = "() => false";
  if (ret.kind === "handle") {
    p.handleResult = objectByType.get(fn.returnType)!;
    p.needsWrap = true;
  }
  const args = fn.args;
  const F = JSON.stringify(fn.name);
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    const n = ident(a.name);
    const t = a.type;
    const nullable = isNullable(a.info) || `${fn.name}.${a.name}` in NULLABLE_ARGS;
    if (t === "virTypedParameterPtr" && next && /^(unsigned )?int$/.test(next.type)) {
      const schema = api.schemaFor(fn.name);
      if (!schema) return skip("typed parameters without a schema in overrides.ts");
      p.params.push({
        name: n,
        type: `${schema.typeName}<number | bigint>`,
        optional: false,
        doc: `typed parameters (${schema.doc})`,
      });
      p.prelude.push(`const ${n}_ = m.params(${n}, ${schema.constName}, ${F});`);
      p.ffiArgs.push(`${n}_.buffer`, `${n}_.count`);
      p.imports.add(schema.typeName).add(schema.constName);
      i++;
      continue;
    }
    if (t === "virTypedParameterPtr" && next?.type === "int *") {
      const schema = api.schemaFor(fn.name);
      if (!schema) return skip("typed parameters without a schema in overrides.ts");
      if (p.sizedParams) return skip("two caller-allocated parameter arrays");
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
      (p as Plan & { sizedName: string }).sizedName = n;
      i++;
      continue;
    }
    if (t === "virTypedParameterPtr *" && next && (next.type === "int *" || next.type === "unsigned int *")) {
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
      i++;
      continue;
    }
    if (a.name === "flags" && (t === "unsigned int" || t === "unsigned long")) {
      const opts = api.flagsFor(fn);
      p.params.push({ name: "options", type: `${opts.typeName} | number`, optional: true, doc: opts.doc });
      p.imports.add(opts.typeName);
      if (opts.table) p.imports.add(opts.table);
      p.prelude.push(`const flags = m.flags(options, ${opts.table ?? "{}"}, ${F});`);
      p.ffiArgs.push(t === "unsigned long" ? "BigInt(flags)" : "flags");
      continue;
    }
    if (t === "const char *") {
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
      continue;
    }
    if (t === "virConnectPtr") {
      p.params.push({ name: n, type: "Connection", optional: false, doc: docText(a.info) });
      p.imports.add("type Connection").add("kInternals");
      p.ffiArgs.push(`m.connection(${n}, kInternals, ${JSON.stringify(a.name)}, ${F})`);
      p.owner = n;
      continue;
    }
    if (objectByType.has(t) || t === "virStreamPtr") {
      const cls = t === "virStreamPtr" ? "ObjectHandle" : objectByType.get(t)!.className;
      p.params.push({
        name: n,
        type: nullable ? `${cls} | null` : cls,
        optional: nullable,
        doc: docText(a.info),
      });
      if (cls !== "ObjectHandle") p.imports.add(`type ${cls}`);
      p.ffiArgs.push(`m.handle(${n}, ${JSON.stringify(a.name)}, ${F}, kPointer${nullable ? ", true" : ""})`);
      continue;
    }
    if (t === "const char **" && next && /^(unsigned )?int$/.test(next.type)) {
      p.params.push({ name: n, type: "readonly string[]", optional: false, doc: docText(a.info) });
      p.prelude.push(`const ${n}_ = m.strArray(${n}, ${JSON.stringify(a.name)}, ${F});`);
      p.ffiArgs.push(`${n}_.buffer`, `${n}_.count`);
      i++;
      continue;
    }
    if (/^(unsigned )?int$/.test(t) && next?.type === "int *" && /^n/.test(a.name)) {
      p.params.push({
        name: ident(next.name),
        type: "readonly number[]",
        optional: false,
        doc: docText(next.info),
      });
      p.prelude.push(
        `const ${ident(next.name)}_ = m.intArray(${ident(next.name)}, ${JSON.stringify(next.name)}, ${F});`,
      );
      p.ffiArgs.push(`${ident(next.name)}_.count`, `${ident(next.name)}_.buffer`);
      i++;
      continue;
    }
    if (t === "const unsigned char *" && next?.type === "size_t") {
      p.params.push({ name: n, type: "Uint8Array", optional: false, doc: docText(a.info) });
      p.prelude.push(`const ${n}_ = m.bytes(${n}, ${JSON.stringify(a.name)}, ${F});`);
      p.ffiArgs.push(`${n}_`, `BigInt(${n}_.length)`);
      i++;
      continue;
    }
    if (t === "const unsigned char *" && /uuid/i.test(a.name)) {
      p.params.push({ name: n, type: "Uint8Array", optional: false, doc: `${docText(a.info)} (16 bytes)` });
      p.ffiArgs.push(`m.bytes(${n}, ${JSON.stringify(a.name)}, ${F}, 16)`);
      continue;
    }
    if (/Ptr \*\*$/.test(t) && objectByType.has(t.replace(/ \*\*$/, ""))) {
      const target = objectByType.get(t.replace(/ \*\*$/, ""))!;
      if (fn.returnType !== "int") return skip("handle array without a count return");
      p.prelude.push(`const ${n} = new m.Out();`);
      p.ffiArgs.push(`${n}.buffer`);
      p.handleArray = { out: n, object: target };
      p.ret = {
        kind: "count",
        tsType: `${target.className}[]`,
        doc:
          `the ${target.className} handles (owned by the connection; free each with \`using\` or \`free()\`)`,
      };
      p.needsWrap = true;
      continue;
    }
    if (t === "char ***") {
      if (fn.returnType !== "int") return skip("string array without a count return");
      p.prelude.push(`const ${n} = new m.Out();`);
      p.ffiArgs.push(`${n}.buffer`);
      p.stringArray = n;
      p.ret = { kind: "count", tsType: "string[]", doc: docText(a.info) };
      continue;
    }
    if (t === "char **" && !/names|uuids/i.test(a.name)) {
      p.prelude.push(`const ${n} = new m.Out();`);
      p.ffiArgs.push(`${n}.buffer`);
      p.outs.push({ key: n, type: "string", expr: `m.takeString(${n}.pointer)`, doc: docText(a.info) });
      continue;
    }
    if (t === "char *" && a.name === "buf" && /UUIDString$/.test(fn.name)) {
      p.prelude.push(`const ${n} = m.uuidBuffer();`);
      p.ffiArgs.push(n);
      p.outs.push({ key: n, type: "string", expr: `m.uuidString(${n})`, doc: "the UUID string" });
      continue;
    }
    if (t === "unsigned char *" && a.name === "uuid" && /GetUUID$/.test(fn.name)) {
      p.prelude.push(`const ${n} = new Uint8Array(16);`);
      p.ffiArgs.push(n);
      p.outs.push({ key: n, type: "Uint8Array", expr: n, doc: "the raw 16-byte UUID" });
      continue;
    }
    if (outScalar[t] && !/\barray\b|\bin\/out\b|\bon input\b/i.test(a.info)) {
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
      continue;
    }
    if (intTypes[t]) {
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
      continue;
    }
    if (t === "double") {
      p.params.push({ name: n, type: "number", optional: false, doc: docText(a.info) });
      p.ffiArgs.push(`m.double(${n}, ${JSON.stringify(a.name)}, ${F})`);
      continue;
    }
    const layoutName = structOf(t);
    if (layoutName !== undefined) {
      const iface = structInterface(layoutName);
      p.imports.add(iface);
      p.usesLayouts = true;
      const L = `structLayouts.${layoutName}`;
      const capacity = methodOverrides.structCapacity[fn.name];
      if (next && next.type === "size_t" && /size/i.test(next.name)) {
        // a versioned struct: the caller says how large its copy is
        p.prelude.push(`const ${n} = m.structBuffer(${L});`);
        p.ffiArgs.push(n, `BigInt(${L}.size)`);
        p.outs.push({
          key: n,
          type: iface,
          expr: `read${iface}(${n})`,
          doc: `the decoded \`${layoutName}\``,
        });
        i++;
        continue;
      }
      if (next && /^(unsigned )?int$/.test(next.type) && capacity !== undefined) {
        // an array the caller sizes; the return value says how many were filled
        p.prelude.push(`const ${n} = m.structBuffer(${L}, ${capacity});`);
        p.ffiArgs.push(n, String(capacity));
        p.structArray = { buffer: n, layout: L, iface };
        p.ret = { kind: "count", tsType: `${iface}[]`, doc: docText(a.info) };
        i++;
        continue;
      }
      if (next && next.type === "int *") {
        // sized by a first call with NULL: the Get*Parameters pattern, with structs
        if (p.sizedParams) return skip("two caller-allocated arrays");
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
        (p as Plan & { sizedName: string }).sizedName = n;
        i++;
        continue;
      }
      if (!next || !/^(unsigned )?int$|\*$/.test(next.type) || next.name === "flags") {
        p.prelude.push(`const ${n} = m.structBuffer(${L});`);
        p.ffiArgs.push(n);
        p.outs.push({
          key: n,
          type: iface,
          expr: `read${iface}(${n})`,
          doc: `the decoded \`${layoutName}\``,
        });
        continue;
      }
    }
    return skip(`argument ${a.name} of type ${t}`);
  }
  if (fn.returnType === "unsigned char *") return skip("returns bytes");
  // convert arguments before queueing for the connection (bad input fails fast); handles stay inside
  // the call, where the lock guarantees nothing frees them meanwhile
  p.ffiArgs = p.ffiArgs.map((expr, i) => {
    if (/^m\.(str|strOrNull|int|int64|double|bytes|connection)\(/.test(expr)) {
      p.prelude.push(`const a${i} = ${expr};`);
      return `a${i}`;
    }
    return expr;
  });
  // optional parameters only at the end
  let seenRequired = false;
  for (let i = p.params.length - 1; i >= 0; i--) {
    if (!p.params[i].optional) seenRequired = true;
    else if (seenRequired) p.params[i].optional = false;
  }
  return p;
}

const enumExports = new Set(
  [
    ...Deno.readTextFileSync(new URL("../_generated/enums.ts", import.meta.url)).matchAll(
      /^export type (\w+) =/gm,
    ),
  ]
    .map((m) => m[1]),
);

/**
 * The generated enum type (lib/ffi/_generated/enums.ts) an int argument's doc names ("one of
 * virDomainState", "from virDomainMetadataType"), when it is a plain enum (not flags to OR).
 */
function enumOf(info: string): string | undefined {
  if (/bitwise|OR of|binary-OR|mask/i.test(info)) return undefined;
  for (const match of info.matchAll(/\bvir([A-Z]\w+)/g)) {
    // DomainState: mod.ts exports lib/domain.ts's constant of that name; its values are plain numbers here
    if (enumExports.has(match[1]) && !/Flags?(Values)?$/.test(match[1]) && match[1] !== "DomainState") {
      return match[1];
    }
  }
  return undefined;
}

/** The layout name of a caller-allocated struct argument type (`virDomainInfoPtr` -> `virDomainInfo`). */
function structOf(type: string): string | undefined {
  if (!type.endsWith("Ptr")) return undefined;
  const base = type.slice(0, -3);
  const layouts = structLayouts as Record<string, unknown>;
  if (base in layouts) return base;
  if (`${base}Struct` in layouts) return `${base}Struct`;
  return undefined;
}

const structTypes = new Map<string, string>();
const structReaders = new Map<string, string>();

/** The generated interface of a struct (`DomainInfoStruct`), emitted once into options.ts. */
function structInterface(layoutName: string): string {
  const name = `${pascal(layoutName.replace(/^vir/, "").replace(/Struct$/, ""))}Struct`;
  if (!structTypes.has(name)) {
    const layout =
      (structLayouts as Record<string, { tag: string; fields: Record<string, { kind: string }> }>)[
        layoutName
      ];
    const ts = (kind: string) =>
      kind === "i64" || kind === "u64" || kind === "usize"
        ? "bigint"
        : kind === "pointer"
        ? "string | null"
        : kind === "i8[]"
        ? "string"
        : "number";
    const fields = Object.entries(layout.fields).filter(([, f]) => f.kind !== "union").map(([k, f]) =>
      `  /** \`${layout.tag}.${k}\` (${f.kind}) */\n  ${k}: ${ts(f.kind)};`
    );
    structTypes.set(
      name,
      `/** \`struct ${layout.tag}\`, decoded: 64-bit integers as bigints, char arrays as strings. */\nexport interface ${name} {\n${
        fields.join("\n")
      }\n}\n`,
    );
    const L = layout as unknown as {
      size: number;
      fields: Record<string, { offset: number; kind: string; length?: number }>;
    };
    const read = (f: { offset: number; kind: string; length?: number }): string => {
      const o = f.offset;
      switch (f.kind) {
        case "i8":
          return `v.getInt8(${o})`;
        case "u8":
          return `v.getUint8(${o})`;
        case "u16":
          return `v.getUint16(${o}, true)`;
        case "i32":
          return `v.getInt32(${o}, true)`;
        case "u32":
          return `v.getUint32(${o}, true)`;
        case "i64":
          return `v.getBigInt64(${o}, true)`;
        case "u64":
        case "usize":
          return `v.getBigUint64(${o}, true)`;
        case "f64":
          return `v.getFloat64(${o}, true)`;
        case "pointer":
          return `m.cStringAt(v, ${o})`;
        default: // "i8[]"
          return `m.charsAt(b, base + ${o}, ${f.length})`;
      }
    };
    const body = Object.entries(L.fields).filter(([, f]) => f.kind !== "union").map(([k, f]) =>
      `    ${k}: ${read(f)},`
    );
    structReaders.set(
      name,
      `/** Reads the \`${name}\` at index \`i\` of a buffer libvirt filled. */\nexport function read${name}(b: Uint8Array<ArrayBuffer>, i = 0): ${name} {\n  const base = i * ${L.size};\n  const v = m.viewOf(b, base, ${L.size});\n  return {\n${
        body.join("\n")
      }\n  };\n}\n`,
    );
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------
// Flags options and typed-parameter schemas

interface FlagsOption {
  typeName: string;
  table?: string;
  doc: string;
}

interface Schema {
  typeName: string;
  constName: string;
  doc: string;
}

interface Indexes {
  flagsFor(fn: ApiFunction): FlagsOption;
  schemaFor(fn: string): Schema | undefined;
}

function commonPrefix(names: string[]): string {
  if (names.length === 0) return "";
  let prefix = names[0];
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf("_") + 1);
}

function optionKey(enumName: string, prefix: string): string {
  const rest = enumName.slice(prefix.length) || enumName;
  const parts = rest.toLowerCase().split("_").filter(Boolean);
  const key = parts.map((w, i) => i === 0 ? w : w[0].toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(key) ? `n${key}` : key;
}

function typedKind(info: string): string | undefined {
  const m = info.match(
    /\bas (?:an? )?(?:VIR_TYPED_PARAM_)?(unsigned long long|unsigned int|long long|int|uint|llong|ullong|double|boolean|string|unsigned long)\b/i,
  ) ?? info.match(/\b(VIR_TYPED_PARAM_(?:INT|UINT|LLONG|ULLONG|DOUBLE|BOOLEAN|STRING))\b/);
  if (!m) return undefined;
  const k = m[1].toLowerCase().replace("vir_typed_param_", "");
  return ({
    "unsigned long long": "ullong",
    "unsigned long": "ullong",
    "unsigned int": "uint",
    "long long": "llong",
  } as Record<string, string>)[k] ?? k;
}

const tsOfKind: Record<string, string> = {
  int: "number",
  uint: "number",
  double: "number",
  llong: "bigint",
  ullong: "bigint",
  boolean: "boolean",
  string: "string",
};

/** Builds the options/schemas module and the lookups the planner uses. */
function buildIndexes(
  api: ApiDescription,
): { indexes: Indexes; module: () => string; unknownTypes: string[] } {
  const enumsByType = new Map<string, ApiEnum[]>();
  for (const e of api.enums) {
    if (!enumsByType.has(e.type)) enumsByType.set(e.type, []);
    enumsByType.get(e.type)!.push(e);
  }
  const tables = new Map<string, string>(); // enum type -> const name
  const interfaces: string[] = [];
  const tableCode: string[] = [];
  const schemaCode: string[] = [];
  const unknownTypes: string[] = [];
  const schemas = new Map<string, Schema>();
  const tableOf = (type: string): string | undefined => {
    if (tables.has(type)) return tables.get(type);
    const members = (enumsByType.get(type) ?? []).filter((e) =>
      e.value !== 0 && !/_LAST$|_MASK$/.test(e.name)
    );
    if (members.length === 0) return undefined;
    const name = `${pascal(type.replace(/^vir/, ""))}Bits`;
    const prefix = commonPrefix(members.map((e) => e.name));
    const lines = members.map((e) =>
      `  /** ${e.name}${e.info ? `: ${docText(e.info)}` : ""} */\n  ${optionKey(e.name, prefix)}: ${e.value},`
    );
    tableCode.push(
      `/** The bits of \`${type}\`, by option name. */\nexport const ${name} = {\n${
        lines.join("\n")
      }\n} as const;\n`,
    );
    tables.set(type, name);
    return name;
  };
  const flagsFor = (fn: ApiFunction): FlagsOption => {
    const arg = fn.args.find((a) => a.name === "flags")!;
    const typeName = `${pascal(fn.name.replace(/^vir/, ""))}Options`;
    const override = methodOverrides.flagsEnums[fn.name];
    const types = override ??
      [...new Set(arg.info.match(/vir[A-Z][A-Za-z]+/g) ?? [])].filter((t) => enumsByType.has(t));
    const named = types.map((t) => ({ t, table: tableOf(t) })).filter((x) => x.table);
    const doc = `flags as options: ${
      named.length ? named.map((x) => `\`${x.t}\``).join(", ") + " bits by name" : "none named yet"
    }, or a raw \`flags\` number`;
    if (named.length === 0) {
      interfaces.push(
        `/** Options of ${
          fn.name.slice(3)
        }: its flags are not used yet; \`flags\` passes raw bits. */\nexport interface ${typeName} {\n  /** Raw flag bits. */\n  flags?: number;\n}\n`,
      );
      return { typeName, doc };
    }
    let table: string;
    if (named.length === 1) table = named[0].table!;
    else {
      table = `${pascal(fn.name.replace(/^vir/, ""))}Bits`;
      tableCode.push(
        `/** The flag bits of ${
          fn.name.slice(3)
        }. */\nexport const ${table}: Readonly<Record<string, number>> = { ${
          named.map((x) => `...${x.table}`).reverse().join(", ")
        } };\n`,
      );
    }
    const keys = new Map<string, ApiEnum>();
    for (const { t } of named) {
      const members = (enumsByType.get(t) ?? []).filter((e) =>
        e.value !== 0 && !/_LAST$|_MASK$/.test(e.name)
      );
      const prefix = commonPrefix(members.map((e) => e.name));
      for (const e of members) {
        if (!keys.has(optionKey(e.name, prefix))) keys.set(optionKey(e.name, prefix), e);
      }
    }
    const fields = [...keys].map(([k, e]) =>
      `  /** \`${e.name}\`${e.info ? `: ${docText(e.info)}` : ""} */\n  ${k}?: boolean;`
    );
    interfaces.push(
      `/** Options of ${fn.name.slice(3)}: ${
        named.map((x) => `\`${x.t}\``).join(", ")
      } as booleans. */\nexport interface ${typeName} {\n${
        fields.join("\n")
      }\n  /** Raw flag bits, OR'd with the named ones. */\n  flags?: number;\n}\n`,
    );
    return { typeName, table, doc };
  };
  const schemaFor = (fn: string): Schema | undefined => {
    if (schemas.has(fn)) return schemas.get(fn);
    const spec = methodOverrides.typedParams[fn];
    if (spec === undefined) return undefined;
    const typeName = spec.typeName;
    const constName = `${typeName}Schema`;
    if (![...schemas.values()].some((s) => s.typeName === typeName)) {
      const fields = new Map<string, { kind: string; macro: string; info: string }>();
      for (const prefix of spec.prefixes) {
        for (const mac of api.macros) {
          if (!mac.name.startsWith(prefix) || mac.name.endsWith("_LENGTH")) continue;
          const kind = spec.kinds?.[mac.string] ?? typedKind(mac.info) ?? spec.defaultKind;
          if (kind === undefined) {
            unknownTypes.push(`${mac.name} (${fn})`);
            continue;
          }
          if (!fields.has(mac.string)) fields.set(mac.string, { kind, macro: mac.name, info: mac.info });
        }
      }
      for (const [k, kind] of Object.entries(spec.kinds ?? {})) {
        if (!fields.has(k)) fields.set(k, { kind, macro: "", info: "" });
      }
      const lines = [...fields].map(([k, f]) =>
        `  /** ${f.macro ? `\`${f.macro}\` (${f.kind})` : f.kind}${
          f.info ? `: ${docText(f.info)}` : ""
        } */\n  ${JSON.stringify(k)}?: ${
          f.kind === "llong" || f.kind === "ullong" ? "Wide" : tsOfKind[f.kind]
        }${spec.open ? " | TypedValue[]" : ""};`
      );
      const accepts = (kind: string) =>
        (kind === "llong" || kind === "ullong") ? "number | bigint" : tsOfKind[kind];
      void accepts;
      schemaCode.push(
        `/** Typed parameters of ${spec.functions.map((f) => f.replace(/^vir/, "")).join(", ")} (${
          spec.prefixes.join(", ")
        }*): 64-bit integers are bigints when read, numbers or bigints when given (\`Wide\`). */\nexport interface ${typeName}<Wide extends number | bigint = bigint> {\n${
          lines.join("\n")
        }${
          spec.open
            ? '\n  /** Fields libvirt adds per device or per index ("disk.0.name", ...). */\n  [field: string]: TypedValue | TypedValue[] | undefined;'
            : ""
        }\n}\n\n/** The field kinds of {@link ${typeName}}. */\nexport const ${constName}: TypedParamSchema = {\n${
          [...fields].map(([k, f]) => `  ${JSON.stringify(k)}: ${JSON.stringify(f.kind)},`).join("\n")
        }\n};\n`,
      );
    }
    const schema = { typeName, constName, doc: `{@link ${typeName}}` };
    schemas.set(fn, schema);
    return schema;
  };
  const module = () =>
    `${HEADER}import type { TypedParamSchema, TypedValue } from "../../ffi/marshal.ts";\n\n// Flags\n\n${
      tableCode.join("\n")
    }\n${interfaces.join("\n")}\n// Typed parameters\n\n${schemaCode.join("\n")}\n// Structs\n\n${
      [...structTypes.values()].join("\n")
    }`;
  return { indexes: { flagsFor, schemaFor }, module, unknownTypes };
}

// ---------------------------------------------------------------------------------------------------
// Emission

const HEADER =
  "// Generated by lib/ffi/_gen/generate_methods.ts from libvirt's API description: do not edit.\n" +
  "// deno-lint-ignore-file\n";

function libvirtUrl(fn: ApiFunction): string {
  return `https://libvirt.org/html/libvirt-${fn.file}.html#${fn.name}`;
}

function returnType(p: Plan): string {
  const parts: string[] = [];
  if (p.ret.kind !== "void" && p.ret.kind !== "count") parts.push(p.ret.tsType);
  if (p.ret.kind === "count") parts.push(p.ret.tsType);
  const outs = p.outs;
  if (outs.length === 0) return parts[0] ?? "void";
  if (parts.length === 0 && outs.length === 1) return outs[0].type;
  const fields = outs.map((o) => `${o.key || "params"}: ${o.type}`);
  if (parts.length) fields.unshift(`result: ${parts[0]}`);
  return `{ ${fields.join("; ")} }`;
}

function resultExpr(p: Plan, r: string): string {
  let main: string | undefined;
  switch (p.ret.kind) {
    case "void":
      break;
    case "boolean":
      main = `${r} === 1`;
      break;
    case "number":
    case "bigint":
      main = r;
      break;
    case "string":
      // who frees it: the FFI overrides' rule (non-const char * is the caller's) and its exceptions
      main = returnOwnership({ name: p.fn.name, returns: { type: p.fn.returnType } } as never).kind === "free"
        ? `m.takeString(${r})`
        : `m.readString(${r})`;
      break;
    case "handle":
      main = `wrapHandle<${p.handleResult!.className}>(${JSON.stringify(p.handleResult!.cType)}, ${
        p.owner ?? "this"
      }, ${r}!)`;
      break;
    case "count":
      if (p.handleArray) {
        main =
          `m.takeHandles(${p.handleArray.out}.pointer, ${r}).map((x) => wrapHandle<${p.handleArray.object.className}>(${
            JSON.stringify(p.handleArray.object.cType)
          }, this, x))`;
      } else if (p.structArray) {
        main =
          `Array.from({ length: ${r} }, (_, i) => read${p.structArray.iface}(${p.structArray.buffer}, i))`;
      } else main = `m.takeStringArray(${p.stringArray}.pointer, ${r})`;
      break;
  }
  if (p.outs.length === 0) return main ?? "undefined";
  if (main === undefined && p.outs.length === 1) return p.outs[0].expr;
  const fields = p.outs.map((o) => `${o.key || "params"}: ${o.expr}`);
  if (main !== undefined) fields.unshift(`result: ${main}`);
  return `{ ${fields.join(", ")} }`;
}

/**
 * libvirt's return doc without the C conventions the method hides (failure values, who frees): a
 * failure throws, and the binding frees what it copied.
 */
function cleanReturnDoc(doc: string): string {
  return doc
    .split(/(?<=\.)\s+/)
    .filter((sentence) => !/free\(|must be freed|caller (must|should) free|virFree|Free\(\)/i.test(sentence))
    .join(" ")
    .replace(/,?\s*(or|and)?\s*NULL (in case of|on|upon|if) (an )?(error|failure)[^.;,]*/gi, "")
    .replace(/,?\s*(or|and)?\s*-1 (in case of|on|upon|if|otherwise)[^.;,]*/gi, "")
    .replace(/^\s*-1 (in case of|on|upon) (error|failure)\s*[,;]?\s*/i, "")
    .replace(/\s+([.;,])/g, "$1")
    .replace(/^[,;.\s]+/, "")
    .trim();
}

function emitMethod(p: Plan, sync: boolean): string {
  const fn = p.fn;
  const name = sync ? `${p.method}Sync` : p.method;
  const sig = p.params.map((x) => `${x.name}${x.optional ? "?" : ""}: ${x.type}`).join(", ");
  const isConn = p.object.className === "Connection";
  const accessor = fn.file === "libvirt-qemu" ? "qemuSymbol" : "libvirtSymbol";
  const callSym = `${accessor}(${JSON.stringify(p.io && !sync ? `${fn.name}Async` : fn.name)})`;
  const asyncCall = p.io && !sync;
  const aw = asyncCall ? "await " : "";
  const docs: string[] = [];
  docs.push(firstSentence(fn.info));
  docs.push("");
  docs.push(
    `Calls [\`${fn.name}\`](${libvirtUrl(fn)})${
      sync ? " without leaving the main thread (for in-process drivers; blocks on remote ones)" : ""
    }${!p.io ? " (local: no I/O)" : ""}.`,
  );
  if (p.sizedParams) {
    docs.push(
      "libvirt is asked twice in one connection turn: once for the parameter count, once for the values.",
    );
  }
  docs.push("");
  for (const x of p.params) docs.push(`@param ${x.name} ${x.doc || x.name}`);
  const rt = returnType(p);
  const retDoc = [cleanReturnDoc(p.ret.doc), ...p.outs.map((o) => `${o.key ? `\`${o.key}\`: ` : ""}${o.doc}`)]
    .filter(Boolean)
    .join("; ");
  if (rt !== "void") docs.push(`@returns ${retDoc || rt}`);
  docs.push(
    `@throws {LibvirtError} the error libvirt reports for exactly this call (NotSupportedError when the driver or the loaded libvirt lacks it)`,
  );
  if (sync) docs.push(`@throws {TypeError} when an asynchronous call is in flight on the connection`);
  let outIndex = 0;
  const body: string[] = p.prelude.map((line) =>
    asyncCall ? line : line.replace(/new m\.Out\(\)/, () => `m.syncOut(${outIndex++})`).replace(
      /m\.structBuffer\((structLayouts\.\w+)\)/,
      "m.syncStruct($1)",
    )
  );
  let run: string;
  const ffi = (h: string) => [h, ...p.ffiArgs].join(", ");
  if (p.sizedParams) {
    const sn = (p as Plan & { sizedName: string }).sizedName;
    const args0 = ffi("h").replace("SIZED_BUFFER", "null");
    const args1 = ffi("h").replace("SIZED_BUFFER", `${sn}Buffer`);
    const capacity = methodOverrides.paramsCapacity[fn.name];
    if (capacity !== undefined) {
      // libvirt refuses the sizing call (params NULL): one call with room for every field it has
      body.push(`const ${sn}Buffer = m.paramsBuffer(${capacity});`, `${sn}Count.setInt(${capacity});`);
    } else {body.push(
        `let ${sn}Buffer = ${p.sizedStruct ? `m.structBuffer(${p.sizedStruct})` : "m.paramsBuffer(0)"};`,
      );}
    run = capacity !== undefined
      ? `(h) => ${callSym}(${args1})`
      : `${
        asyncCall ? "async " : ""
      }(h) => {\n        const f = ${callSym};\n        const n = ${aw}f(${args0});\n        if (n < 0) return n;\n        ${sn}Buffer = ${
        p.sizedStruct ? `m.structBuffer(${p.sizedStruct}, ${sn}Count.int)` : `m.paramsBuffer(${sn}Count.int)`
      };\n        return ${aw}f(${args1});\n      }`;
  } else {
    run = `(h) => ${callSym}(${ffi("h")})`;
  }
  const gate = isConn
    ? `this.#gate().${
      asyncCall ? "call" : "callSync"
    }(() => \`call ${fn.name} on \${JSON.stringify(this.#uri())}\``
    : `this[${asyncCall ? "kCall" : "kCallSync"}](${JSON.stringify(`call ${fn.name} on`)}`;
  const value = resultExpr(p, "r");
  const wrapped = p.needsWrap;
  const tsRet = asyncCall ? `Promise<${rt}>` : rt;
  if (wrapped) {
    body.push(`return ${aw}${gate}, ${run}, ${p.failed}, (r) => ${value});`);
  } else if (value === "undefined") {
    body.push(`${aw}${gate}, ${run}, ${p.failed});`);
  } else {
    body.push(`const r = ${aw}${gate}, ${run}, ${p.failed});`);
    body.push(`return ${value};`);
  }
  const jsdoc = `  /**\n${docs.map((l) => l ? `   * ${l}` : "   *").join("\n")}\n   */`;
  return `${jsdoc}\n  ${asyncCall ? "async " : ""}${name}(${sig}): ${tsRet} {\n${
    body.map((l) => `    ${l}`).join("\n")
  }\n  }\n`;
}

function emitObject(
  object: ObjectSpec,
  plans: Plan[],
  handMembers: { fn: string; member: string }[],
): string {
  const release = object.className === "Connection" ? undefined : OBJECT_RELEASE[object.cType];
  const extraDoc = [
    ...(release
      ? [
        `Handles are released with \`${release}\` (\`free()\`, or \`using\`; the connection releases what is left).`,
      ]
      : []),
    ...(handMembers.length
      ? [
        `Calls kept as the hand-written members of ${object.className} (same one-call rule):`,
        ...handMembers.map((h) => `- \`${h.member}\`: \`${h.fn}\``),
      ]
      : []),
  ];
  const imports = new Set<string>();
  for (const p of plans) for (const i of p.imports) imports.add(i);
  const optionImports = [...imports].filter((i) =>
    !i.startsWith("type ") && !i.startsWith("enum:") && i !== "kInternals"
  );
  const enumImports = [...imports].filter((i) => i.startsWith("enum:")).map((i) => i.slice(5)).sort();
  const typeImports = new Map<string, string>();
  for (const i of imports) {
    if (!i.startsWith("type ")) continue;
    const cls = i.slice(5);
    const o = objects.find((x) => x.className === cls);
    if (o && o.className !== "Connection") typeImports.set(cls, o.module);
  }
  for (const p of plans) {
    for (const target of [p.handleResult, p.handleArray?.object]) {
      if (target && target.className !== "Connection") typeImports.set(target.className, target.module);
    }
  }
  const isConn = object.className === "Connection";
  const lines: string[] = [HEADER];
  if (isConn) {
    lines.push(
      `import type { ConnectionInternals } from "../../connection.ts";`,
      `import { kInternals } from "../../_internals.ts";`,
    );
    lines.push(
      `import { kPointer${
        plans.some((p) => p.params.some((x) => x.type.includes("ObjectHandle"))) ? ", type ObjectHandle" : ""
      } } from "../../_handle.ts";`,
    );
  } else {
    if (imports.has("kInternals")) lines.push(`import { kInternals } from "../../_internals.ts";`);
    lines.push(`import { kCall, kCallSync, kPointer, ObjectHandle } from "../../_handle.ts";`);
  }
  lines.push(`import * as m from "../../ffi/marshal.ts";`);
  const accessors = [
    "libvirtSymbol",
    ...(plans.some((p) => p.fn.file === "libvirt-qemu") ? ["qemuSymbol"] : []),
  ];
  lines.push(`import { ${accessors.join(", ")} } from "../../ffi/optional.ts";`);
  lines.push(`import { wrapHandle } from "../_registry.ts";`);
  if (enumImports.length) {
    lines.push(`import type { ${enumImports.join(", ")} } from "../../ffi/_generated/enums.ts";`);
  }
  if (plans.some((p) => p.usesLayouts)) {
    lines.push(`import { structLayouts } from "../../ffi/_generated/structs.ts";`);
    const readers = [
      ...new Set(
        plans.flatMap((p) => [...p.imports].filter((i) => /Struct$/.test(i)).map((i) => `read${i}`)),
      ),
    ];
    lines.push(`import { ${readers.sort().join(", ")} } from "./structs.ts";`);
  }
  if (optionImports.length) {
    lines.push(
      `import { ${
        optionImports.sort().map((i) => /Bits$|Schema$/.test(i) ? i : `type ${i}`).join(", ")
      } } from "./options.ts";`,
    );
  }
  for (const [cls, mod] of [...typeImports].sort()) lines.push(`import type { ${cls} } from "../../${mod}";`);
  if (imports.has("type Connection")) lines.push(`import type { Connection } from "../../connection.ts";`);
  lines.push("");
  lines.push(
    `/**\n * The one-call methods of {@link ${object.className}}: one per libvirt function whose first argument is a\n * \`${object.cType}\`, generated from libvirt's API description. Extended by ${object.className}; not used directly.\n${
      extraDoc.length ? ` *\n${extraDoc.map((l) => ` * ${l}`).join("\n")}\n` : ""
    } */`,
  );
  if (isConn) {
    const hand = methodOverrides.handBases[object.className];
    if (hand) {
      lines.splice(
        lines.indexOf(`import * as m from "../../ffi/marshal.ts";`),
        0,
        `import { ${hand.name} } from "${hand.module}";`,
      );
    }
    lines.push(`export abstract class ${object.baseName}${hand ? ` extends ${hand.name}` : ""} {`);
    lines.push(
      `  /** @internal the call gate of the connection (Connection defines it) */\n  #gate(): ConnectionInternals {\n    return (this as unknown as { [kInternals]: ConnectionInternals })[kInternals];\n  }\n\n  #uri(): string {\n    return (this as unknown as { uri: string }).uri;\n  }\n`,
    );
  } else {
    const hand = methodOverrides.handBases[object.className];
    if (hand) {
      lines.splice(
        lines.indexOf(`import * as m from "../../ffi/marshal.ts";`),
        0,
        `import { ${hand.name} } from "${hand.module}";`,
      );
    }
    lines.push(`export abstract class ${object.baseName} extends ${hand?.name ?? "ObjectHandle"} {`);
  }
  for (const p of plans) {
    lines.push(emitMethod(p, false));
    if (p.sync && p.io) lines.push(emitMethod(p, true));
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------
// The stage

/** What the stage produced. */
export interface MethodsReport {
  files: Map<string, string>;
  generated: { fn: string; object: string; method: string; io: boolean }[];
  collisions: { fn: string; object: string; method: string }[];
  skipped: Skip[];
  unknownTypedParamTypes: string[];
}

/** Hand-written member names of each object class, read from its module. */
function handWritten(root: URL): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const o of objects) {
    let text = "";
    try {
      text = Deno.readTextFileSync(new URL(`lib/${o.module}`, root));
    } catch {
      // a new module not written yet: nothing collides
    }
    const start = text.search(new RegExp(`export class ${o.className}\\b`));
    const names = new Set<string>(["name", "connection", "freed", "free", "constructor"]);
    if (start >= 0) {
      const body = text.slice(start, text.indexOf("\n}\n", start));
      for (
        const m of body.matchAll(
          /^ {2}(?:(?:static|async|override|get|set|readonly|private|protected|public)\s+)*([a-zA-Z_]\w*)\s*[(<:=]/gm,
        )
      ) {
        names.add(m[1]);
      }
    }
    result.set(o.className, names);
  }
  return result;
}

/** Plans and emits every method; returns the files (path from the repo root -> text) and the counts. */
export function generateMethods(api: ApiDescription, root: URL, local: Set<string>): MethodsReport {
  const { indexes, module, unknownTypes } = buildIndexes(api);
  const hand = handWritten(root);
  const report: MethodsReport = {
    files: new Map(),
    generated: [],
    collisions: [],
    skipped: [],
    unknownTypedParamTypes: unknownTypes,
  };
  const byObject = new Map<string, Plan[]>();
  const ignored = methodOverrides.skip;
  for (const layout of methodOverrides.extraStructs) structInterface(layout); // for hand-written methods
  for (const fn of [...api.functions].sort((a, b) => a.name.localeCompare(b.name))) {
    const elsewhere = handWrittenModule(fn.name);
    const ignore = coverageIgnoreOf(fn.name);
    const handModule = methodOverrides.handWritten[fn.name];
    const reason = ignored[fn.name] ?? (handModule ? `hand-written in ${handModule}` : undefined) ??
      (elsewhere ? `hand-written in ${elsewhere}` : ignore ? `ignored: ${ignore.reason}` : undefined);
    if (reason !== undefined) {
      report.skipped.push({ fn: fn.name, reason });
      continue;
    }
    const result = plan(fn, indexes, local);
    if ("reason" in result) {
      report.skipped.push(result);
      continue;
    }
    const taken = hand.get(result.object.className)!;
    if (taken.has(result.method)) {
      report.collisions.push({ fn: fn.name, object: result.object.className, method: result.method });
      continue;
    }
    const list = byObject.get(result.object.className) ?? [];
    if (list.some((x) => x.method === result.method)) {
      report.skipped.push({ fn: fn.name, reason: `name ${result.method} taken by another function` });
      continue;
    }
    list.push(result);
    byObject.set(result.object.className, list);
    report.generated.push({
      fn: fn.name,
      object: result.object.className,
      method: result.method,
      io: result.io,
    });
  }
  for (const o of objects) {
    const handMembers = [
      ...report.collisions.filter((c) => c.object === o.className && !/Free$/.test(c.fn)).map((c) => ({
        fn: c.fn,
        member: `${c.method}()`,
      })),
      ...Object.entries(methodOverrides.handMembers).filter(([, h]) => h.object === o.className).map((
        [fn, h],
      ) => ({
        fn,
        member: h.member,
      })),
    ];
    report.files.set(
      `lib/objects/_generated/${o.file}.ts`,
      emitObject(o, byObject.get(o.className) ?? [], handMembers),
    );
  }
  report.files.set("lib/objects/_generated/options.ts", module());
  report.files.set(
    "lib/objects/_generated/structs.ts",
    `${HEADER}// Decoders of the structs the methods return, one per struct, from lib/ffi/_generated/structs.ts.\nimport * as m from "../../ffi/marshal.ts";\nimport type { ${
      [...structTypes.keys()].sort().join(", ")
    } } from "./options.ts";\n\n${[...structReaders.values()].join("\n")}`,
  );
  const manifest = [...byObject.values()].flat().flatMap((p) => {
    const entry = (sync: boolean) => ({
      object: p.object.className,
      method: sync ? `${p.method}Sync` : p.method,
      fn: p.fn.name,
      since: p.fn.version,
      async: p.io && !sync,
      params: p.params.map((x) => ({ name: x.name, type: x.type, optional: x.optional })),
      returns: returnType(p),
    });
    return p.sync && p.io ? [entry(false), entry(true)] : [entry(false)];
  });
  report.files.set(
    "tests/_generated_methods.ts",
    `${HEADER}// Every generated method with its signature, for tests/methods_test.ts.\n\n/** One generated method. */\nexport interface GeneratedMethod {\n  object: string;\n  method: string;\n  fn: string;\n  since: string;\n  async: boolean;\n  params: { name: string; type: string; optional: boolean }[];\n  returns: string;\n}\n\nexport const generatedMethods: GeneratedMethod[] = ${
      JSON.stringify(manifest)
    };\n`,
  );
  return report;
}

/**
 * The stage as generate.ts runs it: the model in, the files (repo-relative path -> text) out. Calls
 * with a nonblocking `...Async` twin in the generated symbol tables become async methods, the others
 * (local reads of the handle) synchronous ones.
 */
export function runMethodsStage(model: ApiModel, root: URL): MethodsReport {
  const api = fromApiModel(model);
  const local = new Set(model.functions.filter((f) => isLocal(f)).map((f) => f.name));
  return generateMethods(api, root, local);
}

/**
 * The stage's command line, as generate.ts calls it: writes the files, or with `check` reports the
 * stale ones and returns 1.
 */
export async function methodsStageMain(model: ApiModel, check: boolean, verbose = false): Promise<number> {
  const root = new URL("../../../", import.meta.url);
  const report = runMethodsStage(model, root);
  let stale = 0;
  await Deno.mkdir(new URL("lib/objects/_generated/", root), { recursive: true });
  for (const [path, raw] of report.files) {
    const url = new URL(path, root);
    const text = await formatTs(raw, root);
    let old = "";
    try {
      old = await Deno.readTextFile(url);
    } catch { /* new */ }
    if (old === text) continue;
    stale++;
    if (check) console.error(`${path} is out of date`);
    else await Deno.writeTextFile(url, text);
  }
  console.log(
    `methods: ${report.generated.length} generated, ${report.collisions.length} collisions kept hand-written, ${report.skipped.length} skipped`,
  );
  if (verbose) {
    for (const c of report.collisions) console.log(`collision: ${c.fn} -> ${c.object}.${c.method}`);
    for (const x of report.skipped) console.log(`skip: ${x.fn}: ${x.reason}`);
    for (const u of report.unknownTypedParamTypes) console.log(`typed param without a type: ${u}`);
  }
  if (check && stale) {
    console.error(`${stale} generated method files are stale: run "deno task gen" and commit`);
    return 1;
  }
  return 0;
}

/** Functions that do no I/O (read the handle locally): generated as synchronous methods. */
export function defaultLocalFunctions(api: ApiDescription): Set<string> {
  const local = new Set<string>();
  for (const fn of api.functions) {
    if (
      /Get(Name|UUID|UUIDString|ID|MACString|PortDev|FilterName|UsageID|UsageType|Key|Parent)$/.test(
        fn.name,
      ) &&
      !/^virStorageVolGetPath|^virDomainSnapshotGetParent|^virDomainCheckpointGetParent/.test(fn.name)
    ) {
      local.add(fn.name);
    }
    if (/Get(Network|Domain|Connect)$/.test(fn.name)) local.add(fn.name);
    if (/^virConnectIs(Alive|Encrypted|Secure)$/.test(fn.name)) local.add(fn.name);
  }
  return local;
}

/** Formats generated TypeScript the way `deno fmt` would with the repo's config (so fmt changes nothing). */
export async function formatTs(text: string, root: URL): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=ts", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) throw new Error(`Cannot format generated code: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  Deno.exit(
    await methodsStageMain(
      await loadApiModel(),
      Deno.args.includes("--check"),
      Deno.args.includes("--verbose"),
    ),
  );
}
