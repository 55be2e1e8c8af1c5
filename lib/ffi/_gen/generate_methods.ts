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
//
// The stage's parts, by job: methods_api.ts (the API description), methods_names.ts (objects, names,
// doc text), methods_structs.ts (enums and structs), methods_indexes.ts (flags options and typed-parameter
// schemas), methods_types.ts, methods_plan.ts and methods_plan_args.ts (classification: the plan of a
// method, one rule per argument shape), methods_emit.ts (the TypeScript written), methods_js.ts (each
// module's runtime twin, <name>.js: the code without types and JSDoc). This module runs them.
import { pruneStale } from "./_stale.ts";
import { loadApiModel } from "./api_model.ts";
import type { ApiModel } from "./api_model.ts";
import { type ApiDescription, fromApiModel } from "./methods_api.ts";
import { emitObject, type HandMember, returnType } from "./methods_emit.ts";
import { buildIndexes, type Indexes } from "./methods_indexes.ts";
import { hasJsTwin, jsTwin, jsTwinPath } from "./methods_js.ts";
import { HEADER, objects } from "./methods_names.ts";
import { type Plan, plan, type Skip } from "./methods_plan.ts";
import { structInterface, structReaders, structTypes } from "./methods_structs.ts";
import { coverageIgnoreOf, handWrittenModule, isLocal, methodOverrides } from "./overrides.ts";

export type { ApiArg, ApiDescription, ApiEnum, ApiFunction, ApiMacro } from "./methods_api.ts";
export { fromApiModel, readApiXml } from "./methods_api.ts";
export { methodName, type ObjectSpec } from "./methods_names.ts";
export type { Skip } from "./methods_plan.ts";

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

/** Why a function is not planned at all (skipped by overrides.ts, or written by hand elsewhere). */
function skipReason(fn: string): string | undefined {
  const elsewhere = handWrittenModule(fn);
  const ignore = coverageIgnoreOf(fn);
  const handModule = methodOverrides.handWritten[fn];
  return methodOverrides.skip[fn] ?? (handModule ? `hand-written in ${handModule}` : undefined) ??
    (elsewhere ? `hand-written in ${elsewhere}` : ignore ? `ignored: ${ignore.reason}` : undefined);
}

/** Plans every function into the report (skips, collisions, generated); returns the plans by class. */
function planAll(
  api: ApiDescription,
  indexes: Indexes,
  hand: Map<string, Set<string>>,
  local: Set<string>,
  report: MethodsReport,
): Map<string, Plan[]> {
  const byObject = new Map<string, Plan[]>();
  for (const fn of [...api.functions].sort((a, b) => a.name.localeCompare(b.name))) {
    const reason = skipReason(fn.name);
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
  return byObject;
}

/** The calls of a class kept hand-written: the collisions (but the frees) and overrides.ts's list. */
function handMembersOf(className: string, report: MethodsReport): HandMember[] {
  return [
    ...report.collisions.filter((c) => c.object === className && !/Free$/.test(c.fn)).map((c) => ({
      fn: c.fn,
      member: `${c.method}()`,
    })),
    ...Object.entries(methodOverrides.handMembers).filter(([, h]) => h.object === className).map((
      [fn, h],
    ) => ({ fn, member: h.member })),
  ];
}

/** lib/objects/_generated/structs.ts: the decoders of the structs the methods return. */
function structsModule(): string {
  return `${HEADER}// Decoders of the structs the methods return, one per struct, from lib/ffi/_generated/structs.ts.\nimport * as m from "../../ffi/marshal.ts";\nimport type { ${
    [...structTypes.keys()].sort().join(", ")
  } } from "./options.ts";\n\n${[...structReaders.values()].join("\n")}`;
}

/** tests/_generated_methods.ts: every generated method with its signature. */
function manifestModule(byObject: Map<string, Plan[]>): string {
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
  return `${HEADER}// Every generated method with its signature, for tests/methods_test.ts.\n\n/** One generated method. */\nexport interface GeneratedMethod {\n  object: string;\n  method: string;\n  fn: string;\n  since: string;\n  async: boolean;\n  params: { name: string; type: string; optional: boolean }[];\n  returns: string;\n}\n\nexport const generatedMethods: GeneratedMethod[] = ${
    JSON.stringify(manifest)
  };\n`;
}

/** Plans and emits every method; returns the files (path from the repo root -> text) and the counts. */
export function generateMethods(api: ApiDescription, root: URL, local: Set<string>): MethodsReport {
  const { indexes, module, unknownTypes } = buildIndexes(api);
  const report: MethodsReport = {
    files: new Map(),
    generated: [],
    collisions: [],
    skipped: [],
    unknownTypedParamTypes: unknownTypes,
  };
  for (const layout of methodOverrides.extraStructs) structInterface(layout); // for hand-written methods
  const byObject = planAll(api, indexes, handWritten(root), local, report);
  for (const o of objects) {
    report.files.set(
      `lib/objects/_generated/${o.file}.ts`,
      emitObject(o, byObject.get(o.className) ?? [], handMembersOf(o.className, report)),
    );
  }
  report.files.set("lib/objects/_generated/options.ts", module());
  report.files.set("lib/objects/_generated/structs.ts", structsModule());
  report.files.set("tests/_generated_methods.ts", manifestModule(byObject));
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
  const outputs = new Map<string, string>();
  for (const [path, raw] of report.files) {
    const text = await formatTs(raw, root);
    outputs.set(path, text);
    if (hasJsTwin(path)) outputs.set(jsTwinPath(path), await formatTs(jsTwin(path, text), root, "js"));
  }
  for (const [path, text] of outputs) {
    const url = new URL(path, root);
    let old = "";
    try {
      old = await Deno.readTextFile(url);
    } catch { /* new */ }
    if (old === text) continue;
    stale++;
    if (check) console.error(`${path} is out of date`);
    else await Deno.writeTextFile(url, text);
  }
  // the object modules' directory holds what this stage produced and nothing else
  const dir = "lib/objects/_generated/";
  stale += (await pruneStale(root, dir, [...outputs.keys()].filter((p) => p.startsWith(dir)), check)).length;
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

/**
 * Formats generated TypeScript (or, with `ext` "js", JavaScript) the way `deno fmt` would with the
 * repo's config (so fmt changes nothing). One pass is not always a fixed point (a call whose last
 * argument is an arrow function is laid out once more on a second pass), so it formats until nothing
 * changes.
 */
export async function formatTs(text: string, root: URL, ext: "ts" | "js" = "ts"): Promise<string> {
  let formatted = await formatOnce(text, root, ext);
  for (let pass = 0; pass < 3; pass++) {
    const again = await formatOnce(formatted, root, ext);
    if (again === formatted) return formatted;
    formatted = again;
  }
  throw new Error("Cannot format generated code: deno fmt does not reach a fixed point");
}

async function formatOnce(text: string, root: URL, ext: "ts" | "js"): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
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
