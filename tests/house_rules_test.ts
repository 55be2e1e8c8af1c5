// The house rules of issue 12, checked: no file over 600 lines, no function, method or arrow-function
// over 80 lines (in lib/ and scripts/, and with allow-lists of their own in tests/ and bench/), and no
// import cycle among lib/ modules, unless an allow-list below names it with a one-line reason. Generated
// output (lib/ffi/_generated/, lib/objects/_generated/, tests/_generated_methods.ts) is not measured: the
// generator that writes it is.
//
// Functions are measured with the TypeScript compiler's own parser (pinned npm:typescript), so strings,
// template literals, regular expressions and comments cannot fool the count. A function's length is the
// number of lines from its first token (the `function`/name/parameter list) to its closing brace; a nested
// function counts inside its parent and on its own. A test's callback is named by its call and the test's
// name as written, without quotes (`Deno.test(…)`, `t.step(…)`), so an allow-list entry does not move with
// its line. Imports are read from the same syntax trees: every static `import`/`export ... from` with a
// relative specifier, type-only ones included (they tie the layers together just as much), so the graph
// covers every lib/ module, also those mod.ts does not reach.
import assert from "node:assert/strict";
import { ts } from "./_deps.ts";

export const MAX_FILE_LINES = 600;
export const MAX_FUNCTION_LINES = 80;

// THE ALLOW-LISTS MAY ONLY SHRINK. An entry is a debt with its reason, not a permission: split the file or
// the function and delete the entry; do not add new ones (a new long file or function is split before it
// lands). Each test below also fails on a stale entry (one that no longer exceeds the limit), so the lists
// shrink as the code does.

/** Files over MAX_FILE_LINES lines, path relative to the repository root -> reason. */
const FILE_ALLOW: Record<string, string> = {
  "lib/ffi/_gen/overrides.ts": "data: the overrides table, one entry per libvirt function",
};

/** Functions over MAX_FUNCTION_LINES lines, `path#name` (see functionName) -> reason. */
const FUNCTION_ALLOW: Record<string, string> = {
  "lib/ffi/event_args.ts#copyEventArgs":
    "self-contained by design: lib/_event_loop_worker.ts embeds its source text, so its helpers must be nested in it",
};

// Tests and benchmarks: the same limits, and allow-lists of their own under the same rule (they may only
// shrink). A test may stay long when it is one lab scenario: it pays for a booted guest (or two hosts) once
// and walks steps that each start from the state the one before left, so separate tests would boot again
// per step and named step functions would only pass that state along; its steps are numbered or commented
// in the body. Say so in the reason, and split any part that does not need the state before it.

/** Files in tests/ or bench/ over MAX_FILE_LINES lines -> reason. */
const TEST_FILE_ALLOW: Record<string, string> = {};

/** Functions in tests/ or bench/ over MAX_FUNCTION_LINES lines, `path#name` -> reason. */
const TEST_FUNCTION_ALLOW: Record<string, string> = {
  "tests/integration/range_firewall_test.ts#Deno.test(range firewall added to a running range: from the attacker only port 80 of web answers, 8080 not)":
    "lab scenario: one running range; the firewall added live, probed from the attacker and from the host, then the CLI's exercise on the same range",
  "tests/integration/range_migrate_test.ts#Deno.test(range migrate: a guest moves between the lab's hosts, status follows, a failed move leaves it)":
    "lab scenario in 4 numbered steps on two hosts: a guest moves, status follows, an aborted move, the way back; each starts where the last left the guest",
  "tests/integration/range_images_test.ts#Deno.test(upRange: a base image missing on the second host is uploaded over libvirt, verified, once per host)":
    "lab scenario in 6 numbered steps on two hosts: a failed verification, a crash after upload, the retry, a no-op up, down, the script; each starts from host 2's state",
  "tests/integration/console_test.ts#Deno.test(lab consoles: range up logs each boot, explains a guest without address, range.ts console attaches)":
    "lab scenario in 5 numbered steps on one booted range: the boot logs, the shell, a second up, the held console, --force; each uses the consoles the last opened",
  "tests/integration/stream_test.ts#Deno.test(lab streams: console capture, a channel, agent and monitor commands, calls beside a pending read)":
    "lab scenario: one guest taken from paused to resumed to powered off; its console, channel, agent and monitor checked at each of those moments",
  "tests/integration/lifecycle_test.ts#Deno.test(lab lifecycle: agent/ACPI shutdown, fallback, reboot, suspend, managed save, snapshot revert, with events)":
    "lab scenario: one guest through start, reboot, suspend, ACPI and agent shutdown, fallback, managed save and snapshot revert, each from the state the last left",
};

/** Where the size rules apply, each place with its allow-lists (named in the failure messages). */
const AREAS: {
  dirs: string[];
  files: [string, Record<string, string>];
  functions: [string, Record<string, string>];
}[] = [
  {
    dirs: ["lib/", "scripts/"],
    files: ["FILE_ALLOW", FILE_ALLOW],
    functions: ["FUNCTION_ALLOW", FUNCTION_ALLOW],
  },
  {
    dirs: ["tests/", "bench/"],
    files: ["TEST_FILE_ALLOW", TEST_FILE_ALLOW],
    functions: ["TEST_FUNCTION_ALLOW", TEST_FUNCTION_ALLOW],
  },
];

/**
 * Import cycles among lib/ modules that exist today. A cycle found (a strongly connected component of the
 * import graph) passes when all its modules are members of one entry; an entry fails as stale when one of
 * its members is no longer in any cycle (delete that member), so an entry can only shrink. Empty since
 * issue 12 (the object layer names its classes through lib/objects/_types.ts): keep it so.
 */
const CYCLE_ALLOW: { members: string[]; reason: string }[] = [];

const ROOT = new URL("../", import.meta.url);
/** Generated output: directories (ending in "/") and files. */
const GENERATED = ["lib/ffi/_generated/", "lib/objects/_generated/", "tests/_generated_methods.ts"];

/** A function-like node's name and extent. */
export interface FunctionSpan {
  /** `outer.inner` path of names; anonymous functions are `<arrow>`/`<function>` at their line. */
  name: string;
  /** 1-based first and last line. */
  start: number;
  end: number;
  lines: number;
}

/** `Deno.test("name", fn)`, `t.step("name", fn)` or `Deno.test({ name: "name", fn })`: the call's name. */
function testName(node: ts.Node, sf: ts.SourceFile): string | undefined {
  let call = node.parent;
  let args: readonly ts.Expression[] | undefined;
  if (
    ts.isPropertyAssignment(call) && call.name.getText(sf) === "fn" &&
    ts.isObjectLiteralExpression(call.parent)
  ) {
    const nameProp = call.parent.properties.find((p) =>
      ts.isPropertyAssignment(p) && p.name.getText(sf) === "name"
    ) as ts.PropertyAssignment | undefined;
    args = nameProp === undefined ? undefined : [nameProp.initializer];
    call = call.parent.parent;
  } else if (ts.isCallExpression(call)) {
    args = call.arguments;
  }
  if (args === undefined || !ts.isCallExpression(call)) return undefined;
  const callee = call.expression.getText(sf);
  if (callee !== "Deno.test" && !/^\w+\.step$/.test(callee)) return undefined;
  const first = args[0];
  if (first === undefined || !(ts.isStringLiteral(first) || ts.isTemplateLiteral(first))) return undefined;
  return `${callee}(${first.getText(sf).slice(1, -1)})`;
}

function ownName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const test = testName(node, sf);
  if (test !== undefined) return test;
  const parent = node.parent;
  if (
    ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)
  ) {
    return parent.name.getText(sf);
  }
  if (ts.isExportAssignment(parent)) return "default";
  const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  return `${ts.isArrowFunction(node) ? "<arrow>" : "<function>"}@${line}`;
}

function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node);
}

/** Every function, method, accessor, constructor and arrow function of `text` with a body, and its span. */
export function measureFunctions(text: string, fileName = "sample.ts"): FunctionSpan[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: FunctionSpan[] = [];
  const visit = (node: ts.Node, scope: string[], className: string | undefined): void => {
    let inner = scope;
    let cls = className;
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
      cls = node.name?.getText(sf) ?? "<class>";
    } else if (isFunctionLike(node) && node.body !== undefined) {
      const own = ownName(node, sf);
      const isMember = ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) ||
        ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node) ||
        ts.isPropertyDeclaration(node.parent);
      inner = [...scope, isMember && cls !== undefined && scope.length === 0 ? `${cls}.${own}` : own];
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      out.push({ name: inner.join("."), start, end, lines: end - start + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, inner, cls));
  };
  visit(sf, [], undefined);
  return out;
}

/** The relative module specifiers `text` imports or re-exports statically (type-only ones included). */
export function relativeImports(text: string, fileName = "sample.ts"): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const statement of sf.statements) {
    const spec = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))
      ? statement.moduleSpecifier
      : undefined;
    if (spec !== undefined && ts.isStringLiteral(spec) && spec.text.startsWith(".")) out.push(spec.text);
  }
  return out;
}

/** Strongly connected components with more than one member (or a self-import), by Tarjan's algorithm. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return found;
}

async function* walk(dir: string, withGenerated: boolean): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const entry of entries) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) {
      if (withGenerated || !GENERATED.includes(`${path}/`)) yield* walk(`${path}/`, withGenerated);
    } else if (entry.isFile && path.endsWith(".ts") && (withGenerated || !GENERATED.includes(path))) {
      yield path;
    }
  }
}

async function sources(dirs: string[], withGenerated = false): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of dirs) {
    for await (const path of walk(dir, withGenerated)) {
      out.set(path, await Deno.readTextFile(new URL(path, ROOT)));
    }
  }
  return out;
}

function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

function staleEntries(allow: Record<string, string>, over: Set<string>): string[] {
  return Object.keys(allow).filter((key) => !over.has(key));
}

/** Every allow-list entry states its reason, on one line. */
function assertReasons(reasons: [string, string][]): void {
  const bad = reasons.filter(([, reason]) => reason.trim() === "" || reason.includes("\n")).map(([key]) =>
    key
  );
  assert.deepEqual(bad, [], "give these allow-list entries a one-line reason");
}

Deno.test("measureFunctions: counts declarations, methods and arrows, not strings or comments", () => {
  const sample = [
    "export function a(x: string): string {", // 1
    '  const s = "}{ not a brace }";', // 2
    "  const t = `${x} } ${'{'} }`;", // 3
    "  const r = /\\}{2}/g; // }", // 4
    "  /* } */", // 5
    "  return s + t + r.source;", // 6
    "}", // 7
    "class K {", // 8
    "  m(): number {", // 9
    "    const f = (y: number) => {", // 10
    "      return y;", // 11
    "    };", // 12
    "    return f(1);", // 13
    "  }", // 14
    "  get g(): number { return 1; }", // 15
    "}", // 16
    "const h = async () => 1;", // 17
    "declare function d(): void;", // 18 (no body: not measured)
  ].join("\n");
  const spans = measureFunctions(sample).map((s) => `${s.name}:${s.start}-${s.end}:${s.lines}`);
  assert.deepEqual(spans, ["a:1-7:7", "K.m:9-14:6", "K.m.f:10-12:3", "K.g:15-15:1", "h:17-17:1"]);
});

Deno.test("measureFunctions: names object-literal methods, anonymous callbacks and constructors", () => {
  const sample = [
    "const o = {", // 1
    "  p() {", // 2
    "    [1].map(function () { return 2; });", // 3
    "    [1].forEach((v) => {", // 4
    "      void v;", // 5
    "    });", // 6
    "  },", // 7
    "};", // 8
    "class C { constructor() {", // 9
    "} }", // 10
  ].join("\n");
  const spans = measureFunctions(sample).map((s) => `${s.name}:${s.lines}`);
  assert.deepEqual(spans, ["p:6", "p.<function>@3:1", "p.<arrow>@4:3", "C.constructor:2"]);
});

Deno.test("measureFunctions: names a test's callback by its call and name, not by its line", () => {
  const sample = [
    'Deno.test("a: b", async (t) => {', // 1
    "  await t.step(`step ${1}`, () => {});", // 2
    "});", // 3
    'Deno.test({ name: "c", ignore: true, fn: () => {} });', // 4
    'it("d", () => {});', // 5
  ].join("\n");
  const spans = measureFunctions(sample).map((s) => `${s.name}:${s.lines}`);
  assert.deepEqual(spans, [
    "Deno.test(a: b):3",
    "Deno.test(a: b).t.step(step ${1}):1",
    "Deno.test(c):1",
    "<arrow>@5:1",
  ]);
});

Deno.test("relativeImports and cycles: finds a two-module cycle and ignores packages", () => {
  assert.deepEqual(
    relativeImports(
      'import { a } from "./a.ts";\nimport type { B } from "../b.ts";\nexport * from "./c.ts";\n' +
        'import x from "npm:x@1";\nconst s = "import y from \'./no.ts\'";',
    ),
    ["./a.ts", "../b.ts", "./c.ts"],
  );
  const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a", "d"]], ["e", []]]);
  assert.deepEqual(cycles(graph), [["a", "b", "c"], ["d"]]);
  assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", []]])), []);
});

for (const { dirs, files: [fileList, fileAllow], functions: [functionList, functionAllow] } of AREAS) {
  const where = dirs.join(" or ");

  Deno.test(`house rules: no file in ${where} over ${MAX_FILE_LINES} lines without a reason`, async () => {
    assertReasons(Object.entries(fileAllow));
    const over = new Map<string, number>();
    for (const [path, text] of await sources(dirs)) {
      const n = lineCount(text);
      if (n > MAX_FILE_LINES) over.set(path, n);
    }
    const unlisted = [...over].filter(([path]) => !(path in fileAllow)).map(([p, n]) => `${p} (${n} lines)`);
    assert.deepEqual(unlisted, [], `split these files (at most ${MAX_FILE_LINES} lines each)`);
    const stale = staleEntries(fileAllow, new Set(over.keys()));
    assert.deepEqual(stale, [], `these files are within the limit now: delete their ${fileList} entries`);
  });

  Deno.test(`house rules: no function in ${where} over ${MAX_FUNCTION_LINES} lines without a reason`, async () => {
    assertReasons(Object.entries(functionAllow));
    const over = new Map<string, number>();
    for (const [path, text] of await sources(dirs)) {
      for (const span of measureFunctions(text, path)) {
        if (span.lines > MAX_FUNCTION_LINES) over.set(`${path}#${span.name}`, span.lines);
      }
    }
    const unlisted = [...over].filter(([key]) => !(key in functionAllow)).map(([k, n]) =>
      `${k} (${n} lines)`
    );
    assert.deepEqual(unlisted, [], `split these functions (at most ${MAX_FUNCTION_LINES} lines each)`);
    const stale = staleEntries(functionAllow, new Set(over.keys()));
    assert.deepEqual(
      stale,
      [],
      `these functions are within the limit now: delete their ${functionList} entries`,
    );
  });
}

Deno.test("house rules: no import cycle among lib/ modules without a reason", async () => {
  assertReasons(CYCLE_ALLOW.map((entry) => [entry.members.join(" <-> "), entry.reason]));
  // Generated modules are part of the graph: a cycle through them is a cycle all the same.
  const files = await sources(["lib/"], true);
  const graph = new Map<string, string[]>();
  for (const [path, text] of files) {
    const targets = relativeImports(text, path)
      .map((spec) => new URL(spec, new URL(path, ROOT)).href.slice(ROOT.href.length))
      .filter((target) => files.has(target));
    graph.set(path, targets);
  }
  const found = cycles(graph);
  const unlisted = found.filter((c) =>
    !CYCLE_ALLOW.some((entry) => c.every((m) => entry.members.includes(m)))
  )
    .map((c) => c.join(" <-> "));
  assert.deepEqual(
    unlisted,
    [],
    "break these import cycles (move the shared part into a module both import)",
  );
  const inCycles = new Set(found.flat());
  const stale = CYCLE_ALLOW.flatMap((entry) => entry.members).filter((m) => !inCycles.has(m));
  assert.deepEqual(stale, [], "these modules are in no cycle now: delete them from CYCLE_ALLOW");
});
