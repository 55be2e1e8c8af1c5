// Emission: the TypeScript of each generated method and of each object's base class.
import type { ApiFunction } from "./methods_api.ts";
import { firstSentence, HEADER, objects, type ObjectSpec } from "./methods_names.ts";
import type { Plan } from "./methods_plan.ts";
import { LOST_CONNECTION_RESULTS, methodOverrides, OBJECT_RELEASE, returnOwnership } from "./overrides.ts";

function libvirtUrl(fn: ApiFunction): string {
  return `https://libvirt.org/html/libvirt-${fn.file}.html#${fn.name}`;
}

/** The object classes' names, longest first (DomainSnapshot before Domain), as whole words. */
const classNames = new RegExp(
  `\\b(${objects.map((o) => o.className).sort((a, b) => b.length - a.length).join("|")})\\b`,
  "g",
);

/**
 * A type as the generated source writes it: each object class named through the registry
 * (`Domain[]` -> `ObjectClasses["Domain"][]`), because the bases sit below the classes that extend them
 * and cannot import them (see lib/objects/_types.ts). The plan, the manifest and the docs keep the
 * plain names.
 */
function classRefs(type: string): string {
  return type.replace(classNames, (cls) => `ObjectClasses[${JSON.stringify(cls)}]`);
}

/** The TypeScript return type of a planned method (the C return and the out values, as one type). */
export function returnType(p: Plan): string {
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
    case "string": {
      // who frees it: the FFI overrides' rule (non-const char * is the caller's) and its exceptions
      main = returnOwnership({ name: p.fn.name, returns: { type: p.fn.returnType } } as never).kind === "free"
        ? `m.takeString(${r})`
        : `m.readString(${r})`;
      const lost = LOST_CONNECTION_RESULTS[p.fn.name];
      if (lost !== undefined) {
        if (p.object.className !== "Connection") {
          throw new Error(`LOST_CONNECTION_RESULTS.${p.fn.name}: only Connection methods are supported`);
        }
        const operation = `\`call ${p.fn.name} on \${JSON.stringify(this.#uri())}\``;
        main = `m.lostConnectionIf(${main}, ${JSON.stringify(lost.value)}, ${operation}, ${
          JSON.stringify(lost.reason)
        })`;
      }
      break;
    }
    case "handle":
      main = `wrapHandle<${classRefs(p.handleResult!.className)}>(${JSON.stringify(p.handleResult!.cType)}, ${
        p.owner ?? "this"
      }, ${r}!)`;
      break;
    case "count":
      if (p.handleArray) {
        main = `m.takeHandles(${p.handleArray.out}.pointer, ${r}).map((x) => wrapHandle<${
          classRefs(p.handleArray.object.className)
        }>(${JSON.stringify(p.handleArray.object.cType)}, this, x))`;
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

/** The JSDoc lines of a method: libvirt's first sentence, the call, @param, @returns, @throws. */
function methodDocs(p: Plan, sync: boolean, rt: string): string[] {
  const fn = p.fn;
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
  const retDoc = [cleanReturnDoc(p.ret.doc), ...p.outs.map((o) => `${o.key ? `\`${o.key}\`: ` : ""}${o.doc}`)]
    .filter(Boolean)
    .join("; ");
  if (rt !== "void") docs.push(`@returns ${retDoc || rt}`);
  docs.push(
    `@throws {LibvirtError} the error libvirt reports for exactly this call (NotSupportedError when the driver or the loaded libvirt lacks it)`,
  );
  const lost = LOST_CONNECTION_RESULTS[p.fn.name];
  if (lost !== undefined) {
    docs.push(
      `@throws {ConnectionLostError} when libvirt answers ${JSON.stringify(lost.value)}: ${lost.reason}`,
    );
  }
  if (sync) docs.push(`@throws {TypeError} when an asynchronous call is in flight on the connection`);
  return docs;
}

/**
 * The call of a two-call sized array: libvirt is asked for the count, then for the values (or, where it
 * refuses the sizing call, once with room for every field). Pushes the buffer's declaration onto `body`.
 */
function sizedRun(p: Plan, callSym: string, asyncCall: boolean, body: string[]): string {
  const aw = asyncCall ? "await " : "";
  const sn = p.sizedName!;
  const ffi = (h: string) => [h, ...p.ffiArgs].join(", ");
  const args0 = ffi("h").replace("SIZED_BUFFER", "null");
  const args1 = ffi("h").replace("SIZED_BUFFER", `${sn}Buffer`);
  const capacity = methodOverrides.paramsCapacity[p.fn.name];
  if (capacity !== undefined) {
    // libvirt refuses the sizing call (params NULL): one call with room for every field it has
    body.push(`const ${sn}Buffer = m.paramsBuffer(${capacity});`, `${sn}Count.setInt(${capacity});`);
    return `(h) => ${callSym}(${args1})`;
  }
  body.push(`let ${sn}Buffer = ${p.sizedStruct ? `m.structBuffer(${p.sizedStruct})` : "m.paramsBuffer(0)"};`);
  return `${
    asyncCall ? "async " : ""
  }(h) => {\n        const f = ${callSym};\n        const n = ${aw}f(${args0});\n        if (n < 0) return n;\n        ${sn}Buffer = ${
    p.sizedStruct ? `m.structBuffer(${p.sizedStruct}, ${sn}Count.int)` : `m.paramsBuffer(${sn}Count.int)`
  };\n        return ${aw}f(${args1});\n      }`;
}

/** One method (the async one, or with `sync` its `...Sync` twin): JSDoc, signature and body. */
function emitMethod(p: Plan, sync: boolean): string {
  const fn = p.fn;
  const name = sync ? `${p.method}Sync` : p.method;
  const sig = p.params.map((x) => `${x.name}${x.optional ? "?" : ""}: ${classRefs(x.type)}`).join(", ");
  const accessor = fn.file === "libvirt-qemu" ? "qemuSymbol" : "libvirtSymbol";
  const callSym = `${accessor}(${JSON.stringify(p.io && !sync ? `${fn.name}Async` : fn.name)})`;
  const asyncCall = p.io && !sync;
  const aw = asyncCall ? "await " : "";
  const rt = returnType(p);
  const docs = methodDocs(p, sync, rt);
  let outIndex = 0;
  const body: string[] = p.prelude.map((line) =>
    asyncCall ? line : line.replace(/new m\.Out\(\)/, () => `m.syncOut(${outIndex++})`).replace(
      /m\.structBuffer\((structLayouts\.\w+)\)/,
      "m.syncStruct($1)",
    )
  );
  if (p.sizedParams && p.held.length) {
    throw new Error(`${fn.name}: object arguments in a sized call are not planned`);
  }
  const call = `${callSym}(${["h", ...p.ffiArgs].join(", ")})`;
  const run = p.sizedParams
    ? sizedRun(p, callSym, asyncCall, body)
    : p.held.length
    ? `(h) => m.holding(${JSON.stringify(fn.name)}, [${p.held.join(", ")}], (held) => ${call})`
    : `(h) => ${call}`;
  const gate = p.object.className === "Connection"
    ? `this.#gate().${
      asyncCall ? "call" : "callSync"
    }(() => \`call ${fn.name} on \${JSON.stringify(this.#uri())}\``
    : `this[${asyncCall ? "kCall" : "kCallSync"}](${JSON.stringify(`call ${fn.name} on`)}`;
  const value = resultExpr(p, "r");
  const tsRet = asyncCall ? `Promise<${classRefs(rt)}>` : classRefs(rt);
  if (p.needsWrap) {
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

/** A call kept hand-written on the object class, listed in the base class's doc. */
export interface HandMember {
  fn: string;
  member: string;
}

/** The base class's doc: what it is, how handles are released, the hand-written calls, an example. */
function baseDoc(object: ObjectSpec, plans: Plan[], handMembers: HandMember[]): string {
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
  return `/**\n * The one-call methods of {@link ${object.className}}: one per libvirt function whose first argument is a\n * \`${object.cType}\`, generated from libvirt's API description. Extended by ${object.className}; not used directly.\n${
    extraDoc.length ? ` *\n${extraDoc.map((l) => ` * ${l}`).join("\n")}\n` : ""
  }${classExample(object.className, object.baseName, plans)} */`;
}

/** True when a base names an object class (a parameter, a returned handle): it imports the registry. */
function namesClasses(plans: Plan[]): boolean {
  return plans.some((p) =>
    classRefs(returnType(p)) !== returnType(p) || p.params.some((x) => classRefs(x.type) !== x.type)
  );
}

/** The first imports of a base class: the handle and internals machinery it builds on. */
function handleImports(object: ObjectSpec, plans: Plan[], imports: Set<string>): string[] {
  if (object.className !== "Connection") {
    return [
      ...(imports.has("kInternals") ? [`import { kInternals } from "../../_internals.ts";`] : []),
      `import { kCall, kCallSync${
        holdsObjects(plans) ? ", kHold" : ""
      }, ObjectHandle } from "../../_handle.ts";`,
    ];
  }
  return [
    `import { type ConnectionInternals, kInternals } from "../../_internals.ts";`,
    ...(holdsObjects(plans)
      ? [
        `import { kHold${
          plans.some((p) => p.params.some((x) => x.type.includes("ObjectHandle")))
            ? ", type ObjectHandle"
            : ""
        } } from "../../_handle.ts";`,
      ]
      : []),
  ];
}

/** True when a method of the base holds an object argument (m.holding with kHold). */
function holdsObjects(plans: Plan[]): boolean {
  return plans.some((p) => p.held.some((spec) => spec.includes("kHold")));
}

/** Every import line of a base class, in the order the generated files have them. */
function objectImports(object: ObjectSpec, plans: Plan[]): string[] {
  const imports = new Set<string>();
  for (const p of plans) for (const i of p.imports) imports.add(i);
  const optionImports = [...imports].filter((i) => !i.startsWith("enum:") && i !== "kInternals");
  const enumImports = [...imports].filter((i) => i.startsWith("enum:")).map((i) => i.slice(5)).sort();
  const lines = handleImports(object, plans, imports);
  const hand = methodOverrides.handBases[object.className];
  if (hand) lines.push(`import { ${hand.name} } from "${hand.module}";`);
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
  if (namesClasses(plans)) lines.push(`import type { ObjectClasses } from "../_types.ts";`);
  return lines;
}

/** The class line of a base class (and, for Connection, the private accessors its methods call). */
function classOpening(object: ObjectSpec): string[] {
  const hand = methodOverrides.handBases[object.className];
  if (object.className !== "Connection") {
    return [`export abstract class ${object.baseName} extends ${hand?.name ?? "ObjectHandle"} {`];
  }
  return [
    `export abstract class ${object.baseName}${hand ? ` extends ${hand.name}` : ""} {`,
    `  /** @internal the call gate of the connection (Connection defines it) */\n  #gate(): ConnectionInternals {\n    return (this as unknown as { [kInternals]: ConnectionInternals })[kInternals];\n  }\n\n  #uri(): string {\n    return (this as unknown as { uri: string }).uri;\n  }\n`,
  ];
}

/** lib/objects/_generated/<object>.ts: the abstract base class with every generated method. */
export function emitObject(object: ObjectSpec, plans: Plan[], handMembers: HandMember[]): string {
  const lines: string[] = [HEADER, ...objectImports(object, plans), ""];
  lines.push(baseDoc(object, plans, handMembers));
  lines.push(...classOpening(object));
  for (const p of plans) {
    lines.push(emitMethod(p, false));
    if (p.sync && p.io) lines.push(emitMethod(p, true));
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * How the example of a generated base gets an instance on `test:///default`, for the classes whose
 * instance the test driver has and whose picked method it answers: the example then runs under
 * `deno test --doc` and says what it prints. `method` is the method the example was written for: when the
 * pick changes, the example falls back to the function form below until this entry is updated.
 */
const RUNNABLE: Record<
  string,
  { method: string; imports: string[]; get: string[]; print: string; prints: string }
> = {
  Connection: {
    method: "getCapabilities",
    imports: ["Connection"],
    get: [],
    print: '(await calls.getCapabilities()).includes("<capabilities>")',
    prints: "true: the host's capabilities XML",
  },
  Domain: {
    method: "getAutostart",
    imports: ["Connection", "lookupDomain"],
    get: ['using domain = await lookupDomain(conn, "test");'],
    print: "await calls.getAutostart()",
    prints: "0: the test domain does not start with the host",
  },
  Network: {
    method: "getAutostart",
    imports: ["Connection", "lookupNetwork"],
    get: ['using network = await lookupNetwork(conn, "default");'],
    print: "await calls.getAutostart()",
    prints: "0: not started with the host",
  },
  StoragePool: {
    method: "getAutostart",
    imports: ["Connection", "lookupStoragePool"],
    get: ['using storagePool = await lookupStoragePool(conn, "default-pool");'],
    print: "await calls.getAutostart()",
    prints: "0: not started with the host",
  },
};

/**
 * A type-checked example for a generated base class: the first method that needs no argument (a read,
 * where there is one: `get...`), called on the public class through the base it documents (users never
 * construct the base: an instance of the public class is one), both imported from the public path, as
 * tests/doc_examples_test.ts asks of every exported class. On `test:///default` where the test driver has
 * an instance (RUNNABLE), otherwise as a function that takes one.
 */
function classExample(
  className: string,
  baseName: string,
  plans: readonly { method: string; params: readonly { optional?: boolean }[] }[],
): string {
  const noArgs = plans.filter((p) => p.params.every((x) => x.optional));
  const pick = noArgs.find((p) => p.method.startsWith("get")) ?? noArgs[0];
  if (!pick) return "";
  // a class name lowered may be a reserved word ("interface"): those get a short name of their own
  const short: Record<string, string> = { Connection: "conn", Interface: "iface" };
  const variable = short[className] ?? className[0].toLowerCase() + className.slice(1);
  const runnable = RUNNABLE[className];
  const body = runnable?.method === pick.method
    ? [
      ` * import { ${
        [...runnable.imports, `type ${baseName}`].sort(byName).join(", ")
      } } from "@deno-libvirt/deno-libvirt";`,
      ' * await using conn = await Connection.open("test:///default");',
      ...runnable.get.map((l) => ` * ${l}`),
      ` * const calls: ${baseName} = ${variable}; // every ${className} has the generated one-call methods`,
      ` * console.log(${runnable.print}); // ${runnable.prints}`,
    ]
    : [
      ` * import type { ${className}, ${baseName} } from "@deno-libvirt/deno-libvirt";`,
      ` * async function show(${variable}: ${className}): Promise<void> {`,
      ` *   const calls: ${baseName} = ${variable}; // every ${className} has the generated one-call methods`,
      ` *   console.log(await calls.${pick.method}());`,
      " * }",
      " * void show;",
    ];
  return [" *", " * @example", " * ```ts", ...body, " * ```", ""].join("\n");
}

/** Import names in the order `deno lint`'s and the repo's examples use: case-insensitive, `type` ignored. */
function byName(a: string, b: string): number {
  const key = (x: string) => x.replace(/^type /, "").toLowerCase();
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
