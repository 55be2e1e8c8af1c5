/**
 * libvirt's own API description (`libvirt-api.xml`, `libvirt-qemu-api.xml` from Debian's `libvirt-dev`)
 * as a typed model: the single source the generator (`generate.ts`), the method generator and the
 * coverage test read. Nothing here knows about FFI: it says what the headers say, resolved (enum
 * values that name other enums become numbers) and sorted by name so that everything built on it is
 * deterministic. What the XML cannot say lives in `overrides.ts`.
 *
 * The XML's shapes, for reference (one element of each kind):
 *
 * ```xml
 * <function name='virDomainGetInfo' file='libvirt-domain' module='libvirt-domain' version='0.0.3'>
 *   <info>...</info>
 *   <return type='int' info='0 in case of success and -1 in case of failure.'/>
 *   <arg name='domain' type='virDomainPtr' info='a domain object'/>
 * </function>
 * <enum name='VIR_DOMAIN_RUNNING' file='libvirt-domain' value='1' type='virDomainState' version='0.0.1'/>
 * <typedef name='virDomainPtr' file='libvirt-domain' type='virDomain *' version='0.0.1'/>
 * <struct name='virDomainInfo' file='libvirt-domain' type='struct _virDomainInfo' version='0.0.1'>
 *   <field name='state' type='unsigned char' info='the running state, one of virDomainState'/>
 * </struct>
 * <macro name='VIR_DOMAIN_BANDWIDTH_IN_AVERAGE' file='libvirt-domain' string='inbound.average'>
 *   <info>Macro represents the inbound average of NIC bandwidth, as a uint.</info>
 * </macro>
 * ```
 *
 * @example
 * ```ts ignore
 * import { loadApiModel } from "./api_model.ts";
 * const model = await loadApiModel();
 * const getInfo = model.functions.find((f) => f.name === "virDomainGetInfo")!;
 * console.log(getInfo.header, getInfo.version, getInfo.args.map((a) => `${a.type} ${a.name}`));
 * ```
 *
 * @module
 */
import { XMLParser } from "../../_deps_xml.ts";
import { type TypedParamTypeName, typedParamTypeOf } from "./api_typed_params.ts";

export { type TypedParamTypeName, typedParamTypeOf } from "./api_typed_params.ts";

/** Where Debian's `libvirt-dev` installs the API description. */
export const DEFAULT_API_DIR = "/usr/share/libvirt/api";

/** The two API descriptions the bindings cover, and the shared library each one's symbols live in. */
export const API_SOURCES = [
  { api: "libvirt", file: "libvirt-api.xml", library: "libvirt.so.0" },
  { api: "libvirt-qemu", file: "libvirt-qemu-api.xml", library: "libvirt-qemu.so.0" },
] as const;

/** Which API description (and so which shared library) a symbol belongs to. */
export type ApiName = (typeof API_SOURCES)[number]["api"];

/** A libvirt version, as the XML writes it (`"1.2.14"`) and as libvirt numbers it (`1002014`). */
export interface ApiVersion {
  /** `"major.minor.micro"`, e.g. `"1.2.14"`; `"0.0.0"` when the XML has no version. */
  readonly text: string;
  /** `major * 1_000_000 + minor * 1_000 + micro`, the number `virGetVersion` reports. */
  readonly number: number;
}

/** One argument of a function or callback type. */
export interface ApiArg {
  /** The C parameter name, e.g. `"domain"`. */
  readonly name: string;
  /** The C type exactly as the header writes it, e.g. `"virDomainPtr"`, `"const char *"`, `"int *"`. */
  readonly type: string;
  /** libvirt's one-line description of the argument ("" when none). */
  readonly info: string;
}

/** What a function returns. */
export interface ApiReturn {
  /** The C type, e.g. `"int"`, `"char *"`, `"virDomainPtr"`, `"void"`. */
  readonly type: string;
  /** libvirt's description of the return value ("" when none); says who frees a string, often. */
  readonly info: string;
}

/** A public libvirt function (`<function>`), or a callback type (`<functype>`, in {@link ApiModel.callbacks}). */
export interface ApiFunction {
  /** The C name, e.g. `"virDomainGetInfo"`. */
  readonly name: string;
  /** The API description it comes from: decides the shared library. */
  readonly api: ApiName;
  /** The header without `.h`, e.g. `"libvirt-domain"`, `"virterror"`, `"libvirt-qemu"`. */
  readonly header: string;
  /** The XML's `module` attribute (the source module; equal to the header for every public call). */
  readonly module: string;
  /** The libvirt release that added it. */
  readonly version: ApiVersion;
  /** libvirt's documentation of the call. */
  readonly info: string;
  /** The return type and its description. */
  readonly returns: ApiReturn;
  /** The arguments, in C order. */
  readonly args: readonly ApiArg[];
}

/** One enumerator (`<enum>`), its value resolved to a number. */
export interface ApiEnumValue {
  /** The C name, e.g. `"VIR_DOMAIN_RUNNING"`. */
  readonly name: string;
  /** The resolved value. */
  readonly value: number;
  /** The value as the XML writes it: a number, or the name of another enumerator it aliases. */
  readonly rawValue: string;
  /** The C enum type it belongs to, e.g. `"virDomainState"`. */
  readonly type: string;
  /** The header without `.h`. */
  readonly header: string;
  /** The release that added it. */
  readonly version: ApiVersion;
  /** libvirt's description ("" when none). */
  readonly info: string;
  /**
   * True for the `..._LAST` sentinels (only defined with `VIR_ENUM_SENTINELS`): their value grows
   * with every release, so bindings should not expose them as constants.
   */
  readonly sentinel: boolean;
  /** For flag enums: the bit this value sets (`value_bitshift`), when the XML says so. */
  readonly bitShift?: number;
}

/** A C enum type with its enumerators, grouped from the `type` attribute of each `<enum>`. */
export interface ApiEnum {
  /** The C enum type, e.g. `"virDomainState"`. */
  readonly name: string;
  /** The API description it comes from. */
  readonly api: ApiName;
  /** The header of its first enumerator. */
  readonly header: string;
  /** The typedef's description, when the XML has one ("" otherwise). */
  readonly info: string;
  /** True when at least one enumerator has a `value_bitshift`: a set of flags to OR together. */
  readonly isFlags: boolean;
  /** The enumerators, in the order of their values (then name). */
  readonly values: readonly ApiEnumValue[];
}

/** A `<typedef>`: a pointer alias (`virDomainPtr` -> `virDomain *`) or an enum's name (`type='enum'`). */
export interface ApiTypedef {
  /** The typedef's name, e.g. `"virDomainPtr"`. */
  readonly name: string;
  /** The API description it comes from. */
  readonly api: ApiName;
  /** The header without `.h`. */
  readonly header: string;
  /** What it aliases, e.g. `"virDomain *"`, `"enum"`. */
  readonly type: string;
  /** The release that added it. */
  readonly version: ApiVersion;
  /** libvirt's description ("" when none). */
  readonly info: string;
}

/** One field of a struct (or of a union inside one). */
export interface ApiStructField {
  /** The C field name. */
  readonly name: string;
  /** The C type, e.g. `"unsigned char"`, `"char *"`, `"char field[VIR_TYPED_PARAM_FIELD_LENGTH]"`, `"union"`. */
  readonly type: string;
  /** libvirt's description ("" when none). */
  readonly info: string;
  /** For `type: "union"`: the union's members. */
  readonly union?: readonly ApiStructField[];
}

/** A `<struct>`: a public struct with its fields, or an opaque object type (no fields). */
export interface ApiStruct {
  /** The typedef name, e.g. `"virDomainInfo"`. */
  readonly name: string;
  /** The C struct tag, e.g. `"_virDomainInfo"` (several typedefs alias `_virTypedParameter`). */
  readonly tag: string;
  /** The API description it comes from. */
  readonly api: ApiName;
  /** The header without `.h`. */
  readonly header: string;
  /** The release that added it. */
  readonly version: ApiVersion;
  /** The fields in C order; empty for opaque object types (`virDomain`, `virConnect`, ...). */
  readonly fields: readonly ApiStructField[];
  /** True for opaque object types: only pointers to them exist. */
  readonly opaque: boolean;
}

/** A `<macro>`: a constant, a typed-parameter field name (`string`), or a function-like macro. */
export interface ApiMacro {
  /** The C name, e.g. `"VIR_DOMAIN_BANDWIDTH_IN_AVERAGE"`. */
  readonly name: string;
  /** The API description it comes from. */
  readonly api: ApiName;
  /** The header without `.h`. */
  readonly header: string;
  /** The release that added it. */
  readonly version: ApiVersion;
  /** libvirt's description ("" when none). */
  readonly info: string;
  /** For string macros (typed-parameter field names and the like): the string, e.g. `"inbound.average"`. */
  readonly string?: string;
  /** For value macros: the replacement text, e.g. `"(36+1)"`, `"VIR_TYPED_PARAM_FIELD_LENGTH"`. */
  readonly raw?: string;
  /** For function-like macros: the parameter names. */
  readonly params?: readonly string[];
  /**
   * For typed-parameter field names: the value type libvirt's documentation gives ("as a uint",
   * "as VIR_TYPED_PARAM_ULLONG", "with a type of ullong"); absent when the documentation does not say.
   */
  readonly typedParamType?: TypedParamTypeName;
  /** True when the documentation says the field may be given several times ("multiple field"). */
  readonly typedParamMultiple?: boolean;
}

/** Everything both API descriptions declare, sorted by name within each list. */
export interface ApiModel {
  /** Public functions of libvirt.so and libvirt-qemu.so. */
  readonly functions: readonly ApiFunction[];
  /** Callback types (`<functype>`), e.g. `virConnectDomainEventCallback`. */
  readonly callbacks: readonly ApiFunction[];
  /** C enum types with their enumerators. */
  readonly enums: readonly ApiEnum[];
  /** Every enumerator, flat. */
  readonly enumValues: readonly ApiEnumValue[];
  /** Typedefs. */
  readonly typedefs: readonly ApiTypedef[];
  /** Structs, public and opaque. */
  readonly structs: readonly ApiStruct[];
  /** Macros. */
  readonly macros: readonly ApiMacro[];
}

/**
 * Parses `"1.2.14"` into an {@link ApiVersion}; a missing or empty version is 0.0.0.
 *
 * @param text the XML's version attribute
 * @returns the version as text and number
 * @throws {SyntaxError} when it is not `major.minor.micro`
 *
 * @example
 * ```ts
 * import { parseVersion } from "./api_model.ts";
 * console.log(parseVersion("1.2.14").number); // 1002014
 * ```
 */
export function parseVersion(text: string | undefined): ApiVersion {
  if (text === undefined || text === "") return { text: "0.0.0", number: 0 };
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (match === null) {
    throw new SyntaxError(`Cannot parse libvirt version "${text}": expected major.minor.micro`);
  }
  const [major, minor, micro] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return { text, number: major * 1_000_000 + minor * 1_000 + micro };
}

// deno-lint-ignore no-explicit-any
type Node = Record<string, any>;

const arrayTags = new Set([
  "function",
  "functype",
  "arg",
  "enum",
  "typedef",
  "struct",
  "field",
  "macro",
  "file",
  "exports",
  "variable",
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (tagName: string) => arrayTags.has(tagName),
});

function text(node: unknown): string {
  if (node === undefined || node === null) return "";
  if (typeof node === "string") return node.trim();
  if (typeof node === "object" && "#text" in (node as Node)) return String((node as Node)["#text"]).trim();
  return "";
}

function attr(node: Node, name: string): string | undefined {
  const value = node[`@_${name}`];
  return value === undefined ? undefined : String(value);
}

function required(node: Node, name: string, where: string): string {
  const value = attr(node, name);
  if (value === undefined) {
    throw new SyntaxError(`Cannot read the libvirt API XML: ${where} has no "${name}"`);
  }
  return value;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function parseFunction(node: Node, api: ApiName, kind: string): ApiFunction {
  const name = required(node, "name", kind);
  const ret: Node = node.return ?? {};
  return {
    name,
    api,
    header: required(node, "file", `${kind} ${name}`),
    module: attr(node, "module") ?? required(node, "file", `${kind} ${name}`),
    version: parseVersion(attr(node, "version")),
    info: text(node.info),
    returns: { type: attr(ret, "type") ?? "void", info: attr(ret, "info") ?? "" },
    args: ((node.arg ?? []) as Node[]).map((arg) => ({
      name: required(arg, "name", `an argument of ${name}`),
      type: required(arg, "type", `argument ${attr(arg, "name")} of ${name}`),
      info: attr(arg, "info") ?? "",
    })),
  };
}

function parseField(node: Node): ApiStructField {
  const name = required(node, "name", "a struct field");
  const type = required(node, "type", `struct field ${name}`);
  const field: ApiStructField = { name, type, info: (attr(node, "info") ?? "").replace(/\s+/g, " ").trim() };
  if (type === "union" && node.union !== undefined) {
    return { ...field, union: ((node.union.field ?? []) as Node[]).map(parseField) };
  }
  return field;
}

interface RawEnum {
  name: string;
  rawValue: string;
  type: string;
  header: string;
  version: ApiVersion;
  info: string;
  api: ApiName;
  bitShift?: number;
}

/** An `<enum>` value, its value still raw (an alias resolves later). */
function parseEnum(n: Node, api: ApiName): RawEnum {
  const name = required(n, "name", "enum");
  const shift = attr(n, "value_bitshift");
  const value: RawEnum = {
    name,
    api,
    rawValue: required(n, "value", `enum ${name}`),
    type: required(n, "type", `enum ${name}`),
    header: required(n, "file", `enum ${name}`),
    version: parseVersion(attr(n, "version")),
    info: (attr(n, "info") ?? "").replace(/\s+/g, " ").trim(),
  };
  if (shift !== undefined) value.bitShift = Number(shift);
  return value;
}

/** A `<typedef>`. */
function parseTypedef(n: Node, api: ApiName): ApiTypedef {
  const name = required(n, "name", "typedef");
  return {
    name,
    api,
    header: required(n, "file", `typedef ${name}`),
    type: required(n, "type", `typedef ${name}`),
    version: parseVersion(attr(n, "version")),
    info: text(n.info),
  };
}

/** A `<struct>` (opaque when it lists no fields). */
function parseStruct(n: Node, api: ApiName): ApiStruct {
  const name = required(n, "name", "struct");
  const fields = ((n.field ?? []) as Node[]).map(parseField);
  return {
    name,
    api,
    tag: required(n, "type", `struct ${name}`).replace(/^struct\s+/, ""),
    header: required(n, "file", `struct ${name}`),
    version: parseVersion(attr(n, "version")),
    fields,
    opaque: fields.length === 0,
  };
}

/** A `<macro>`, with the typed-parameter type its doc states. */
function parseMacro(n: Node, api: ApiName): ApiMacro {
  const name = required(n, "name", "macro");
  const info = text(n.info);
  const macro: {
    -readonly [K in keyof ApiMacro]: ApiMacro[K];
  } = {
    name,
    api,
    header: required(n, "file", `macro ${name}`),
    version: parseVersion(attr(n, "version")),
    info,
  };
  const string = attr(n, "string");
  const raw = attr(n, "raw");
  const params = attr(n, "params");
  if (string !== undefined) {
    macro.string = string;
    const type = typedParamTypeOf(info);
    if (type !== undefined) macro.typedParamType = type;
    if (/\bmultiple field\b/.test(info)) macro.typedParamMultiple = true;
  }
  if (raw !== undefined) macro.raw = raw;
  if (params !== undefined) macro.params = params.split(",").map((p) => p.trim());
  return macro;
}

/**
 * Parses one API description's XML text into its parts (enum values unresolved: aliases may point
 * into the other description). Most callers want {@link buildApiModel} or {@link loadApiModel}.
 */
function parseApiXml(xml: string, api: ApiName): {
  functions: ApiFunction[];
  callbacks: ApiFunction[];
  enums: RawEnum[];
  typedefs: ApiTypedef[];
  structs: ApiStruct[];
  macros: ApiMacro[];
} {
  const doc = parser.parse(xml) as Node;
  const symbols: Node | undefined = doc?.api?.symbols;
  if (symbols === undefined) {
    throw new SyntaxError(`Cannot read the ${api} API XML: no <api><symbols> element`);
  }
  const list = (tag: string): Node[] => (symbols[tag] ?? []) as Node[];
  return {
    functions: list("function").map((n) => parseFunction(n, api, "function")),
    callbacks: list("functype").map((n) => parseFunction(n, api, "functype")),
    enums: list("enum").map((n) => parseEnum(n, api)),
    typedefs: list("typedef").map((n) => parseTypedef(n, api)),
    structs: list("struct").map((n) => parseStruct(n, api)),
    macros: list("macro").map((n) => parseMacro(n, api)),
  };
}

function resolveEnums(raw: readonly RawEnum[]): ApiEnumValue[] {
  const byEnumName = new Map(raw.map((e) => [e.name, e]));
  const resolved = new Map<string, number>();
  const resolve = (name: string, seen: Set<string>): number => {
    const known = resolved.get(name);
    if (known !== undefined) return known;
    const entry = byEnumName.get(name);
    if (entry === undefined) {
      throw new SyntaxError(`Cannot resolve libvirt enum value "${name}": not declared`);
    }
    if (seen.has(name)) {
      throw new SyntaxError(`Cannot resolve libvirt enum value "${name}": it refers to itself`);
    }
    seen.add(name);
    const value = /^-?\d+$/.test(entry.rawValue) ? Number(entry.rawValue) : resolve(entry.rawValue, seen);
    resolved.set(name, value);
    return value;
  };
  // A `_LAST` name is a sentinel only when it is the enum's largest value (one past the last member):
  // VIR_NETWORK_UPDATE_COMMAND_ADD_LAST (3, below ADD_FIRST's 4) is a real member that ends in _LAST.
  const largest = new Map<string, number>();
  for (const e of raw) {
    const v = resolve(e.name, new Set());
    largest.set(e.type, Math.max(largest.get(e.type) ?? -Infinity, v));
  }
  const isSentinel = (e: (typeof raw)[number]) =>
    e.name.endsWith("_LAST") && resolve(e.name, new Set()) === largest.get(e.type);
  return raw.map((e) => {
    const value: ApiEnumValue = {
      name: e.name,
      value: resolve(e.name, new Set()),
      rawValue: e.rawValue,
      type: e.type,
      header: e.header,
      version: e.version,
      info: e.info,
      sentinel: isSentinel(e),
      ...(e.bitShift === undefined ? {} : { bitShift: e.bitShift }),
    };
    return value;
  }).sort(byName);
}

/**
 * Builds the model from the XML texts of the API descriptions.
 *
 * @param sources the XML text of each description, keyed by {@link ApiName}
 * @returns the resolved, sorted model
 * @throws {SyntaxError} when the XML lacks a required attribute or an enum alias cannot be resolved
 *
 * @example
 * ```ts
 * import { buildApiModel } from "./api_model.ts";
 * const xml = `<api name='libvirt'><symbols><enum name='VIR_A' file='libvirt-host' value='1' type='virA'/></symbols></api>`;
 * const model = buildApiModel({ libvirt: xml, "libvirt-qemu": "<api name='libvirt-qemu'><symbols/></api>" });
 * console.log(model.enums[0].name, model.enums[0].values[0].value); // virA 1
 * ```
 */
export function buildApiModel(sources: Readonly<Record<ApiName, string>>): ApiModel {
  const parts = API_SOURCES.map(({ api }) => ({ api, ...parseApiXml(sources[api], api) }));
  const enumValues = resolveEnums(parts.flatMap((p) => p.enums));
  const typedefs = parts.flatMap((p) => p.typedefs).sort(byName);
  const typedefInfo = new Map(typedefs.map((t) => [t.name, t.info]));
  const apiOf = new Map(parts.flatMap((p) => p.enums.map((e) => [e.name, p.api] as const)));
  const groups = new Map<string, ApiEnumValue[]>();
  for (const value of enumValues) {
    const group = groups.get(value.type);
    if (group === undefined) groups.set(value.type, [value]);
    else group.push(value);
  }
  const enums: ApiEnum[] = [...groups].map(([name, values]) => {
    values.sort((a, b) => a.value - b.value || byName(a, b));
    return {
      name,
      api: apiOf.get(values[0].name)!,
      header: values[0].header,
      info: typedefInfo.get(name) ?? "",
      isFlags: values.some((v) => v.bitShift !== undefined),
      values,
    };
  }).sort(byName);
  return {
    functions: parts.flatMap((p) => p.functions).sort(byName),
    callbacks: parts.flatMap((p) => p.callbacks).sort(byName),
    enums,
    enumValues,
    typedefs,
    structs: parts.flatMap((p) => p.structs).sort(byName),
    macros: parts.flatMap((p) => p.macros).sort(byName),
  };
}

/**
 * Reads and models the installed API descriptions.
 *
 * @param dir the directory holding `libvirt-api.xml` and `libvirt-qemu-api.xml`
 * @returns the model
 * @throws {Deno.errors.NotFound} with the package to install when a file is missing
 */
export async function loadApiModel(dir: string = DEFAULT_API_DIR): Promise<ApiModel> {
  const texts = {} as Record<ApiName, string>;
  for (const { api, file } of API_SOURCES) {
    try {
      texts[api] = await Deno.readTextFile(`${dir}/${file}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(
          `Cannot read ${dir}/${file}: install libvirt's API description with "apt-get install libvirt-dev"`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  return buildApiModel(texts);
}

/** Indexes a model's lists by name, for lookups (`index.functions.get("virDomainGetInfo")`). */
export function indexApiModel(model: ApiModel): {
  functions: ReadonlyMap<string, ApiFunction>;
  callbacks: ReadonlyMap<string, ApiFunction>;
  enums: ReadonlyMap<string, ApiEnum>;
  enumValues: ReadonlyMap<string, ApiEnumValue>;
  typedefs: ReadonlyMap<string, ApiTypedef>;
  structs: ReadonlyMap<string, ApiStruct>;
  macros: ReadonlyMap<string, ApiMacro>;
} {
  const map = <T extends { name: string }>(list: readonly T[]) => new Map(list.map((x) => [x.name, x]));
  return {
    functions: map(model.functions),
    callbacks: map(model.callbacks),
    enums: map(model.enums),
    enumValues: map(model.enumValues),
    typedefs: map(model.typedefs),
    structs: map(model.structs),
    macros: map(model.macros),
  };
}
