/**
 * The FFI generator: reads libvirt's API description ({@link ./api_model.ts}) and the overrides
 * ({@link ./overrides.ts}) and writes the committed files under `lib/ffi/_generated/`:
 *
 * - one symbol table per header (`libvirt_domain.ts`, `virterror.ts`, `libvirt_qemu.ts`, ...), each
 *   `as const satisfies Deno.ForeignLibraryInterface`, every entry documented with its C prototype;
 *   calls that may do I/O get a nonblocking `<name>Async` twin; calls newer than the minimum libvirt
 *   load with `optional: true`;
 * - `symbols.ts`: the tables merged, one for libvirt.so and one for libvirt-qemu.so;
 * - `signatures.ts`: the same definitions in compact form, one line per function: what the library
 *   binds from at run time (generate_signatures.ts; the object tables cost 35-60 ms to evaluate);
 * - `versions.ts`: function -> the libvirt version that added it;
 * - `enums.ts`: every C enum as named typed constants; `constants.ts`: the numeric macros;
 * - `typed_params.ts`: typed-parameter field names grouped into schemas with their value types;
 * - `callbacks.ts`: every callback type as a `Deno.UnsafeCallbackDefinition`;
 * - `structs.ts`: struct layouts (sizes, offsets) for x86_64 / aarch64 LP64;
 *
 * and, last, the bundled one-shot scripts (script_bundles.ts: `scripts/_generated/vm_ip.js`, which
 * holds the modules written above among others).
 *
 * Output is deterministic (sorted, no timestamps) and formatted with `deno fmt`.
 *
 * The parts, by job: generate_ctypes.ts (C types to FFI types, macro values, shared comment text),
 * generate_structs.ts (struct layouts), generate_methods.ts (the one-call methods stage, with its
 * modules methods_*.ts); this module writes the symbol tables, enums, constants, typed parameters and
 * callbacks, and runs the stages.
 *
 * Usage: `deno task gen` (write), `deno task gen:check` (regenerate into a temporary directory and
 * exit 1 on any difference, naming the files). The directories it writes (lib/ffi/_generated/,
 * lib/objects/_generated/, scripts/_generated/) hold what it produces and nothing else: gen removes a
 * file no stage produces any more, gen:check fails on one (./_stale.ts).
 *
 * @module
 */
import {
  type ApiEnum,
  type ApiFunction,
  type ApiMacro,
  type ApiModel,
  DEFAULT_API_DIR,
  indexApiModel,
  loadApiModel,
} from "./api_model.ts";
import {
  comment,
  evaluateMacro,
  HEADER_BANNER,
  type Index,
  isObjectHandle,
  isPointer,
  prototype,
  resolveType,
  scalar,
} from "./generate_ctypes.ts";
import { methodsStageMain } from "./generate_methods.ts";
import { scriptBundlesStageMain } from "./script_bundles.ts";
import { structsFile } from "./generate_structs.ts";
import { signaturesFile } from "./generate_signatures.ts";

export { type FieldLayout, structLayout } from "./generate_structs.ts";
import { ARG_FFI_TYPES, isLocal, returnOwnership, TYPED_PARAM_GROUPS } from "./overrides.ts";
import { MINIMUM_LIBVIRT_VERSION } from "../_version.ts";

/** The header -> (file, export) naming of the per-header symbol tables. */
export function tableName(header: string): { file: string; exportName: string } {
  const special: Record<string, string> = { virterror: "errorSymbols" };
  const base = header.replace(/^libvirt-/, "");
  const camel = base.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { file: `${header.replace(/-/g, "_")}.ts`, exportName: special[header] ?? `${camel}Symbols` };
}

/**
 * The FFI parameter type of one argument. The rules: callback types are "function"; pointer arguments
 * of `...Free`/`...Clear` functions, and the `params` of the virTypedParamsGet* readers, are "pointer"
 * (memory libvirt allocated); `void *` and object handles are "pointer"; every other pointer
 * (`const char *`, out-parameters, caller-allocated structs) is "buffer"; {@link ARG_FFI_TYPES} overrides.
 */
export function ffiArgType(fn: ApiFunction, argName: string, type: string, index: Index): string {
  const override = ARG_FFI_TYPES[`${fn.name}.${argName}`];
  if (override !== undefined) return override;
  if (index.callbacks.has(type)) return "function";
  if (isPointer(type, index)) {
    if (/(Free|Clear)$/.test(fn.name)) return "pointer";
    if (/^virTypedParamsGet/.test(fn.name) && argName === "params") return "pointer";
    if (resolveType(type, index) === "void *") return "pointer";
    if (isObjectHandle(type, index)) return "pointer";
    return "buffer";
  }
  return scalar(type, index, `${fn.name} argument ${argName}`);
}

/** The FFI result type: every pointer is "pointer", scalars map as usual. */
export function ffiResultType(fn: ApiFunction, index: Index): string {
  return isPointer(fn.returns.type, index) ? "pointer" : scalar(fn.returns.type, index, `${fn.name} result`);
}

function ffiTypes(fn: ApiFunction, index: Index): { parameters: string[]; result: string } {
  return {
    parameters: fn.args.map((a) => ffiArgType(fn, a.name, a.type, index)),
    result: ffiResultType(fn, index),
  };
}

function ownershipNote(fn: ApiFunction): string | undefined {
  const owner = returnOwnership(fn);
  switch (owner.kind) {
    case "none":
      return undefined;
    case "borrowed":
      return `Returns a borrowed pointer: ${owner.note}.`;
    case "free":
      return "The caller frees the result with free().";
    case "object":
      return `The caller releases the result with ${owner.release}.`;
  }
}

function symbolEntries(fn: ApiFunction, index: Index): string {
  const parameters = fn.args.map((a) => JSON.stringify(ffiArgType(fn, a.name, a.type, index)));
  const result = JSON.stringify(ffiResultType(fn, index));
  const optional = fn.version.number > MINIMUM_LIBVIRT_VERSION;
  const local = isLocal(fn);
  const notes = [
    `Since libvirt ${fn.version.text}${
      optional ? " (optional: null when the installed libvirt is older)" : ""
    }.`,
    local
      ? "Process-local: no nonblocking twin."
      : `May do I/O: \`${fn.name}Async\` is its nonblocking twin.`,
  ];
  const ownership = ownershipNote(fn);
  if (ownership !== undefined) notes.push(ownership);
  const body = `parameters: [${parameters.join(", ")}], result: ${result}${
    optional ? ", optional: true" : ""
  }`;
  let out = comment([prototype(fn), "", ...notes]);
  out += `  ${fn.name}: { ${body} },\n`;
  if (!local) {
    out += comment([`Nonblocking twin of ${fn.name}: runs on Deno's blocking thread pool.`]);
    out += `  ${fn.name}Async: { name: ${JSON.stringify(fn.name)}, ${body}, nonblocking: true },\n`;
  }
  return out;
}

function headerTable(header: string, functions: readonly ApiFunction[], index: Index): string {
  const { exportName } = tableName(header);
  let out = HEADER_BANNER(`<libvirt/${header}.h>: ${functions.length} functions.`);
  out += "\n";
  out +=
    `/** The functions of <libvirt/${header}.h>, with nonblocking \`...Async\` twins for calls that may do I/O. */\n`;
  out += `export const ${exportName} = {\n`;
  for (const fn of functions) out += symbolEntries(fn, index);
  out += "} as const satisfies Deno.ForeignLibraryInterface;\n";
  return out;
}

function symbolsIndex(headers: readonly string[]): string {
  const libvirt = headers.filter((h) => h !== "libvirt-qemu");
  let out = HEADER_BANNER("Every generated table, merged per shared library.");
  out += "\n";
  for (const h of headers) {
    const { file, exportName } = tableName(h);
    out += `import { ${exportName} } from "./${file}";\n`;
  }
  out += "\n";
  for (const h of headers) {
    const { file, exportName } = tableName(h);
    out += `export { ${exportName} } from "./${file}";\n`;
  }
  out += "\n/** Every function of libvirt.so.0 (all headers but libvirt-qemu). */\n";
  out += "export const libvirtSymbols = {\n";
  for (const h of libvirt) out += `  ...${tableName(h).exportName},\n`;
  out += "} as const satisfies Deno.ForeignLibraryInterface;\n";
  out += "\n/** Every function of libvirt-qemu.so.0 (loaded lazily, on the first QEMU-specific call). */\n";
  out += `export const libvirtQemuSymbols = { ...${
    tableName("libvirt-qemu").exportName
  } } as const satisfies Deno.ForeignLibraryInterface;\n`;
  return out;
}

function versionsFile(model: ApiModel): string {
  const libvirtVersion = model.macros.find((m) => m.name === "LIBVIR_VERSION_NUMBER")?.raw ?? "0";
  const n = Number(libvirtVersion);
  const text = `${Math.floor(n / 1_000_000)}.${Math.floor((n % 1_000_000) / 1_000)}.${n % 1_000}`;
  let out = HEADER_BANNER("The libvirt version that added each function.");
  out += "\n";
  out += comment(["The libvirt whose API description these files were generated from."], "");
  out += `export const GENERATED_FROM_LIBVIRT = ${JSON.stringify(text)};\n\n`;
  out += comment([
    "The libvirt release that added each public function (libvirt.so and libvirt-qemu.so), as",
    "`major.minor.micro`. Functions newer than MINIMUM_LIBVIRT_VERSION load as optional symbols.",
  ], "");
  out += "export const FUNCTION_VERSIONS = {\n";
  for (const fn of model.functions) out += `  ${fn.name}: ${JSON.stringify(fn.version.text)},\n`;
  out += "} as const satisfies Record<string, string>;\n\n";
  out += comment(["The header (without `.h`) each function is declared in."], "");
  out += "export const FUNCTION_HEADERS = {\n";
  for (const fn of model.functions) out += `  ${fn.name}: ${JSON.stringify(fn.header)},\n`;
  out += "} as const satisfies Record<string, string>;\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Enums

/** `virDomainState` -> `DomainState`. */
export function enumExportName(cName: string): string {
  return cName.replace(/^vir/, "");
}

/** Two ways to upper-snake a C type name: `XMLFlags` as one word (`XMLFLAGS`) or two (`XML_FLAGS`). */
function snakes(cName: string): string[][] {
  const simple = cName.replace(/([a-z0-9])([A-Z])/g, "$1_$2");
  const split = simple.replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2");
  return [simple, split].map((s) => s.toUpperCase().split("_"));
}

/**
 * The member names of an enum: the enumerators without their common `VIR_..._` prefix, backing off a
 * segment when a member would start with a digit or be empty.
 */
export function enumMemberNames(e: ApiEnum): Map<string, string> {
  const values = e.values.filter((v) => !v.sentinel);
  const split = values.map((v) => v.name.split("_"));
  let common: number;
  if (split.length > 1) {
    common = 0;
    const shortest = Math.min(...split.map((s) => s.length));
    while (common < shortest - 1 && split.every((s) => s[common] === split[0][common])) common++;
  } else {
    // one member: strip as much of the type's own name as the member shares
    const parts = split[0] ?? [];
    common = 1; // at least VIR_
    for (const typeParts of snakes(e.name)) {
      let k = 0;
      while (k < parts.length - 1 && k < typeParts.length && parts[k] === typeParts[k]) k++;
      common = Math.max(common, k);
    }
  }
  const valid = (k: number) => split.every((s) => s.length > k && /^[A-Z_]/.test(s[k]));
  while (common > 1 && !valid(common)) common--;
  return new Map(values.map((v, i) => [v.name, split[i].slice(common).join("_")]));
}

/**
 * The enums the library's core reads at run time (error codes and domains, lib/ffi/constants.ts's flags):
 * generated into `enums_core.ts`, which every process loads, and re-exported by `enums.ts` (157 KB of
 * source, ~5-8 ms to load), which only code that names the other enums loads.
 */
export const CORE_ENUMS: readonly string[] = [
  "virErrorDomain",
  "virErrorNumber",
  "virConnectCredentialType",
  "virConnectFlags",
  "virConnectListAllNetworksFlags",
  "virConnectListAllStoragePoolsFlags",
  "virDomainSnapshotCreateFlags",
  "virDomainSnapshotDeleteFlags",
  "virDomainSnapshotListFlags",
  "virDomainSnapshotRevertFlags",
  "virNetworkXMLFlags",
  "virStorageXMLFlags",
  "virDomainChannelFlags",
  "virDomainConsoleFlags",
  "virDomainQemuAgentCommandTimeoutValues",
  "virDomainQemuMonitorCommandFlags",
  "virStorageVolDownloadFlags",
  "virStorageVolUploadFlags",
  "virStreamEventType",
  "virStreamFlags",
  "virStreamRecvFlagsValues",
];

function enumsFile(model: ApiModel, core: boolean): { text: string; enums: number; values: number } {
  let out = HEADER_BANNER(
    core
      ? "The C enums the library's core reads at every start (CORE_ENUMS in lib/ffi/_gen/generate.ts)."
      : "Every C enum of libvirt's API as named typed constants (sentinels `_LAST` omitted).",
  );
  if (!core) {
    const names = model.enums.filter((e) => CORE_ENUMS.includes(e.name) && enumMemberNames(e).size > 0)
      .map((e) => enumExportName(e.name));
    out += `\n// The core enums live in enums_core.ts (loaded by every process); the rest only here.\n`;
    out += `export { ${names.join(", ")} } from "./enums_core.ts";\n`;
  }
  let enums = 0;
  let count = 0;
  for (const e of model.enums) {
    const members = enumMemberNames(e);
    if (members.size === 0) continue;
    if (CORE_ENUMS.includes(e.name) !== core) {
      if (!core) {
        enums++;
        count += members.size;
      }
      continue;
    }
    const name = enumExportName(e.name);
    enums++;
    const summary = e.info === "" ? "" : ` ${e.info.replace(/\s+/g, " ")}`;
    out += "\n";
    out += comment([
      `\`${e.name}\` (<libvirt/${e.header}.h>)${e.isFlags ? ", flags to OR together" : ""}.${summary}`,
    ], "");
    out += `export const ${name} = {\n`;
    for (const v of e.values) {
      const member = members.get(v.name);
      if (member === undefined) continue;
      count++;
      const alias = v.rawValue === String(v.value) ? "" : ` (= ${v.rawValue})`;
      const info = v.info === "" ? "" : `: ${v.info}`;
      out += comment([`${v.name}${alias}${info} (since ${v.version.text})`]);
      out += `  ${member}: ${v.value},\n`;
    }
    out += "} as const;\n";
    out += comment([`One of the values of {@link ${name}}.`], "");
    out += `export type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
  }
  return { text: out, enums, values: count };
}

// ---------------------------------------------------------------------------------------------
// Numeric macros and typed-parameter schemas

function constantsFile(model: ApiModel, index: Index): { text: string; count: number } {
  let out = HEADER_BANNER("libvirt's numeric macros (buffer lengths, limits) as constants.");
  let count = 0;
  for (const m of model.macros) {
    if (m.raw === undefined || m.params !== undefined || m.name === "LIBVIR_VERSION_NUMBER") continue;
    const value = evaluateMacro(m.raw, index.macros, index);
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value)) throw new Error(`Cannot represent macro ${m.name} = ${m.raw} exactly`);
    count++;
    const info = m.info === "" ? "" : `: ${m.info.replace(/\s+/g, " ")}`;
    out += "\n";
    out += comment([`${m.name} = ${m.raw.replace(/\s+/g, " ")}${info} (since ${m.version.text})`], "");
    out += `export const ${m.name.replace(/^VIR_/, "")} = ${value};\n`;
  }
  return { text: out, count };
}

function typedParamGroup(name: string): string {
  let best = "";
  for (const prefix of Object.keys(TYPED_PARAM_GROUPS)) {
    if (name.startsWith(prefix) && prefix.length > best.length) best = prefix;
  }
  if (best === "") {
    throw new Error(
      `Cannot group typed-parameter macro ${name}: add its prefix to TYPED_PARAM_GROUPS in lib/ffi/_gen/overrides.ts`,
    );
  }
  return best;
}

function typedParamsFile(model: ApiModel): { text: string; groups: number; fields: number; typed: number } {
  const groups = new Map<string, ApiMacro[]>();
  for (const m of model.macros) {
    if (m.string === undefined) continue;
    const prefix = typedParamGroup(m.name);
    const list = groups.get(prefix) ?? [];
    list.push(m);
    groups.set(prefix, list);
  }
  let out = HEADER_BANNER(
    "Typed-parameter field names (libvirt's VIR_*_PARAM_* string macros), grouped into schemas.",
  );
  out += `
/** A typed parameter's value type (\`virTypedParameterType\` without the prefix). */
export type TypedParamTypeName = "INT" | "UINT" | "LLONG" | "ULLONG" | "DOUBLE" | "BOOLEAN" | "STRING";

/** One typed-parameter field: its name on the wire and the value type libvirt documents for it. */
export interface TypedParamField {
  /** The field name libvirt uses, e.g. \`"bandwidth"\`. */
  readonly field: string;
  /** The documented value type, or null where libvirt's documentation does not state one. */
  readonly type: TypedParamTypeName | null;
  /** True when the field may be given several times (e.g. \`VIR_MIGRATE_PARAM_MIGRATE_DISKS\`). */
  readonly multiple?: true;
  /** The libvirt release that added the field. */
  readonly since: string;
}
`;
  let fields = 0;
  let typed = 0;
  for (const prefix of [...groups.keys()].sort()) {
    const name = TYPED_PARAM_GROUPS[prefix];
    out += "\n";
    out += comment([`The \`${prefix}*\` typed-parameter fields.`], "");
    out += `export const ${name} = {\n`;
    for (const m of groups.get(prefix)!) {
      fields++;
      if (m.typedParamType !== undefined) typed++;
      const info = m.info.replace(/\s+/g, " ");
      out += comment([`${m.name}${info === "" ? "" : `: ${info}`}`]);
      const type = m.typedParamType === undefined ? "null" : JSON.stringify(m.typedParamType);
      out += `  ${m.name.slice(prefix.length)}: { field: ${JSON.stringify(m.string)}, type: ${type}${
        m.typedParamMultiple ? ", multiple: true" : ""
      }, since: ${JSON.stringify(m.version.text)} },\n`;
    }
    out += "} as const satisfies Record<string, TypedParamField>;\n";
  }
  return { text: out, groups: groups.size, fields, typed };
}

// ---------------------------------------------------------------------------------------------
// Callback types

function callbacksFile(model: ApiModel, index: Index): string {
  let out = HEADER_BANNER("Every callback type of libvirt's API as a Deno.UnsafeCallbackDefinition.");
  out += "\n";
  out += comment([
    'libvirt\'s callback types. Every pointer a callback receives is "pointer" (read it with',
    "Deno.UnsafePointerView: strings are borrowed for the duration of the call).",
  ], "");
  out += "export const callbackDefinitions = {\n";
  for (const cb of model.callbacks) {
    const parameters = cb.args.map((a) =>
      JSON.stringify(
        isPointer(a.type, index) ? "pointer" : scalar(a.type, index, `${cb.name} argument ${a.name}`),
      )
    );
    const result = isPointer(cb.returns.type, index)
      ? "pointer"
      : scalar(cb.returns.type, index, `${cb.name} result`);
    out += comment([`${prototype(cb).replace(cb.name, `(*${cb.name})`)} (since ${cb.version.text})`]);
    out += `  ${cb.name}: { parameters: [${parameters.join(", ")}], result: ${JSON.stringify(result)} },\n`;
  }
  out += "} as const satisfies Record<string, Deno.UnsafeCallbackDefinition>;\n";
  return out;
}

// ---------------------------------------------------------------------------------------------

/** What one generator run produced: file name -> contents (before formatting), and the counts. */
export interface Generated {
  files: Map<string, string>;
  counts: Record<string, number>;
}

/**
 * Generates every output file from the model.
 *
 * @param model the API model
 * @returns the files (relative names) and counts
 */
export function generate(model: ApiModel): Generated {
  const index = indexApiModel(model);
  const files = new Map<string, string>();
  const byHeader = new Map<string, ApiFunction[]>();
  for (const fn of model.functions) {
    const list = byHeader.get(fn.header) ?? [];
    list.push(fn);
    byHeader.set(fn.header, list);
  }
  const headers = [...byHeader.keys()].sort();
  let symbols = 0;
  let twins = 0;
  let optional = 0;
  for (const header of headers) {
    const functions = byHeader.get(header)!;
    files.set(tableName(header).file, headerTable(header, functions, index));
    symbols += functions.length;
    twins += functions.filter((f) => !isLocal(f)).length;
    optional += functions.filter((f) => f.version.number > MINIMUM_LIBVIRT_VERSION).length;
  }
  files.set("symbols.ts", symbolsIndex(headers));
  files.set("signatures.ts", signaturesFile(headers, byHeader, ffiTypes, index));
  files.set("versions.ts", versionsFile(model));
  const enums = enumsFile(model, false);
  files.set("enums.ts", enums.text);
  const missing = CORE_ENUMS.filter((name) => !model.enums.some((e) => e.name === name));
  if (missing.length > 0) {
    throw new Error(`CORE_ENUMS names enums libvirt does not declare: ${missing.join(", ")}`);
  }
  files.set("enums_core.ts", enumsFile(model, true).text);
  const constants = constantsFile(model, index);
  files.set("constants.ts", constants.text);
  const typedParams = typedParamsFile(model);
  files.set("typed_params.ts", typedParams.text);
  files.set("callbacks.ts", callbacksFile(model, index));
  const structs = structsFile(model, index);
  files.set("structs.ts", structs.text);
  return {
    files,
    counts: {
      functions: symbols,
      asyncTwins: twins,
      optional,
      headers: headers.length,
      enums: enums.enums,
      enumValues: enums.values,
      constants: constants.count,
      typedParamSchemas: typedParams.groups,
      typedParamFields: typedParams.fields,
      typedParamFieldsTyped: typedParams.typed,
      callbacks: model.callbacks.length,
      structs: structs.count,
    },
  };
}

const OUTPUT_DIR = new URL("../_generated/", import.meta.url);
const CONFIG = new URL("../../../deno.json", import.meta.url);

async function writeFormatted(dir: string, files: Map<string, string>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of files) await Deno.writeTextFile(`${dir}/${name}`, text);
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", `--config=${CONFIG.pathname}`, ...[...files.keys()].map((n) => `${dir}/${n}`)],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!fmt.success) throw new Error(`Cannot format the generated files in ${dir}: deno fmt failed`);
}

/** Every file in `dir` (not only .ts: the directory holds what the generator writes and nothing else). */
async function listFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const apiDir = args.find((a) => a.startsWith("--api-dir="))?.slice("--api-dir=".length) ?? DEFAULT_API_DIR;
  const model = await loadApiModel(apiDir);
  if ((await methodsStageMain(model, check)) !== 0) return 1; // the one-call methods (generate_methods.ts)
  const { files, counts } = generate(model);
  const target = OUTPUT_DIR.pathname.replace(/\/$/, "");
  if (!check) {
    for (const stale of await listFiles(target)) {
      if (!files.has(stale)) await Deno.remove(`${target}/${stale}`, { recursive: true });
    }
    await writeFormatted(target, files);
    console.log(`Generated ${files.size} files in lib/ffi/_generated/: ${JSON.stringify(counts)}`);
    return await scriptBundlesStageMain(false); // last: a bundle holds the modules written above
  }
  const temp = await Deno.makeTempDir({ prefix: "deno_libvirt_gen_" });
  try {
    await writeFormatted(temp, files);
    const differing: string[] = [];
    const committed = await listFiles(target);
    for (const name of new Set([...committed, ...files.keys()])) {
      const [a, b] = await Promise.all([
        Deno.readTextFile(`${target}/${name}`).catch(() => undefined),
        Deno.readTextFile(`${temp}/${name}`).catch(() => undefined),
      ]);
      if (a === undefined) differing.push(`${name} (missing from lib/ffi/_generated/)`);
      else if (b === undefined) differing.push(`${name} (no longer generated)`);
      else if (a !== b) differing.push(name);
    }
    if (differing.length > 0) {
      console.error(
        `lib/ffi/_generated/ is out of date against ${apiDir}: ${
          differing.join(", ")
        }. Run "deno task gen" and commit.`,
      );
      return 1;
    }
    console.log(`lib/ffi/_generated/ is up to date (${files.size} files, ${JSON.stringify(counts)})`);
    return await scriptBundlesStageMain(true);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
