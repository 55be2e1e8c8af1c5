// The API rule (docs/design.md, "The API rule"): a method of an object is one libvirt call; a free
// function finds or creates objects (from a connection or a parent object), or orchestrates several
// calls. What the rule forbids is the alias: an exported free function whose body is nothing but one
// call to a method of its first argument (`startNetwork(net)` = `net.create()`), which gives a user two
// names for one thing. Such an alias may stay only as a `@deprecated` pointer to its method.
//
// The test walks the public exports of every entry point (`deno doc --json`), reads each exported
// function's source with the TypeScript parser, and fails on a non-deprecated alias. Argument checks
// before the call (`check*(...)`, `validate*(...)`, `if (...) throw ...`) and the `asOperation(x, verb,
// () => x.m())` wrapper do not make an alias orchestration. Finders and creators (functions that return
// an object handle: `lookupVolume(pool, name)`, `createSnapshot(dom, options)`) are not aliases.
import assert from "node:assert/strict";
import { ts } from "./_deps.ts";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

const ENTRY_POINTS = ["mod.ts", "lib/ip/mod.ts", "lib/range/mod.ts", "lib/events.ts", "lib/ffi/mod.ts"];

interface DocTag {
  kind: string;
  doc?: string;
}
interface DocDeclaration {
  kind: string;
  location: { filename: string; line: number };
  jsDoc?: { tags?: DocTag[] };
  def?: { extends?: string };
  classDef?: { extends?: string };
}
interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

/** An exported function, as deno doc reports it. */
interface ExportedFunction {
  name: string;
  file: string;
  line: number;
  deprecated?: string;
}

async function docSymbols(): Promise<DocSymbol[]> {
  const output = await runDeno(denoChildArgs("doc", "--json", ...ENTRY_POINTS), { cwd: REPO_ROOT });
  assert.equal(output.code, 0, output.stderr);
  const doc = JSON.parse(output.stdout) as { nodes: Record<string, { symbols: DocSymbol[] }> };
  return Object.values(doc.nodes).flatMap((node) => node.symbols);
}

/** The exported functions (once per name) and the classes that are object handles. */
async function inventory(): Promise<{ functions: ExportedFunction[]; handles: Set<string> }> {
  const symbols = await docSymbols();
  const functions = new Map<string, ExportedFunction>();
  const parents = new Map<string, string>();
  for (const symbol of symbols) {
    for (const d of symbol.declarations) {
      if (d.kind === "class") {
        const base = (d.def ?? d.classDef)?.extends;
        if (base !== undefined) parents.set(symbol.name, base);
      }
      if (d.kind !== "function" || functions.has(symbol.name)) continue;
      const deprecated = d.jsDoc?.tags?.find((t) => t.kind === "deprecated");
      functions.set(symbol.name, {
        name: symbol.name,
        file: decodeURIComponent(new URL(d.location.filename).pathname),
        line: d.location.line,
        ...(deprecated ? { deprecated: deprecated.doc ?? "" } : {}),
      });
    }
  }
  const handles = new Set<string>();
  for (const name of parents.keys()) {
    for (let at: string | undefined = name, hops = 0; at !== undefined && hops < 10; hops++) {
      if (at === "ObjectHandle") handles.add(name);
      at = parents.get(at);
    }
  }
  return { functions: [...functions.values()], handles };
}

const sources = new Map<string, ts.SourceFile>();
function sourceOf(file: string): ts.SourceFile {
  let sf = sources.get(file);
  if (sf === undefined) {
    sf = ts.createSourceFile(file, Deno.readTextFileSync(file), ts.ScriptTarget.Latest, true);
    sources.set(file, sf);
  }
  return sf;
}

/** The function declaration `name` in `sf` with a body (the implementation, not an overload). */
function declarationOf(sf: ts.SourceFile, name: string): ts.FunctionDeclaration | undefined {
  for (const statement of sf.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name?.text === name && statement.body) {
      return statement;
    }
  }
  return undefined;
}

function isGuard(statement: ts.Statement): boolean {
  if (ts.isExpressionStatement(statement) && ts.isCallExpression(statement.expression)) {
    const callee = statement.expression.expression;
    return ts.isIdentifier(callee) && /^(check|validate)[A-Z]/.test(callee.text);
  }
  if (ts.isIfStatement(statement) && statement.elseStatement === undefined) {
    const then = statement.thenStatement;
    return ts.isThrowStatement(then) ||
      (ts.isBlock(then) && then.statements.length === 1 && ts.isThrowStatement(then.statements[0]));
  }
  return false;
}

/** `await x`, `(x)`, `asOperation(first, verb, () => x)` and `() => { return x; }` down to `x`. */
function unwrap(expression: ts.Expression, first: string): ts.Expression {
  for (;;) {
    if (ts.isAwaitExpression(expression) || ts.isParenthesizedExpression(expression)) {
      expression = expression.expression;
      continue;
    }
    if (
      ts.isCallExpression(expression) && ts.isIdentifier(expression.expression) &&
      /^asOperation(Sync)?$/.test(expression.expression.text) && expression.arguments.length === 3 &&
      ts.isIdentifier(expression.arguments[0]) && expression.arguments[0].text === first
    ) {
      const run = expression.arguments[2];
      if (!ts.isArrowFunction(run)) return expression;
      if (!ts.isBlock(run.body)) {
        expression = run.body;
        continue;
      }
      const only = run.body.statements.length === 1 ? run.body.statements[0] : undefined;
      if (only === undefined || !ts.isReturnStatement(only) || only.expression === undefined) {
        return expression;
      }
      expression = only.expression;
      continue;
    }
    return expression;
  }
}

/**
 * The method an alias forwards to (`create` for `startNetwork`), or undefined when the function does
 * more than one call to a method of its first parameter.
 *
 * @param fn the function's declaration
 * @returns the method's name, or undefined
 */
export function forwardedMethod(fn: ts.FunctionDeclaration): string | undefined {
  const first = fn.parameters[0]?.name;
  if (first === undefined || !ts.isIdentifier(first) || fn.body === undefined) return undefined;
  const rest = fn.body.statements.filter((s) => !isGuard(s));
  if (rest.length !== 1) return undefined;
  const only = rest[0];
  const expression = ts.isReturnStatement(only)
    ? only.expression
    : ts.isExpressionStatement(only)
    ? only.expression
    : undefined;
  if (expression === undefined) return undefined;
  const call = unwrap(expression, first.text);
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return undefined;
  const target = call.expression.expression;
  return ts.isIdentifier(target) && target.text === first.text ? call.expression.name.text : undefined;
}

/** True when the declared return type names an object handle class (a finder or creator). */
function returnsHandle(fn: ts.FunctionDeclaration, handles: Set<string>): boolean {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) names.add(node.typeName.text);
    ts.forEachChild(node, visit);
  };
  if (fn.type !== undefined) visit(fn.type);
  return [...names].some((n) => handles.has(n));
}

function relative(file: string): string {
  return file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length) : file;
}

let inventoryOnce: ReturnType<typeof inventory> | undefined;

Deno.test("api rule: no exported free function is a non-deprecated alias of one method of its first argument", async () => {
  const { functions, handles } = await (inventoryOnce ??= inventory());
  assert.ok(
    functions.length > 100,
    `only ${functions.length} exported functions: has deno doc's JSON changed?`,
  );
  assert.ok(handles.has("Domain") && handles.has("StorageVolume"), "no handle classes found");
  const aliases: string[] = [];
  for (const f of functions) {
    const fn = declarationOf(sourceOf(f.file), f.name);
    assert.ok(fn !== undefined, `${f.name}: no function declaration in ${relative(f.file)}`);
    const method = forwardedMethod(fn);
    if (method === undefined || f.deprecated !== undefined || returnsHandle(fn, handles)) continue;
    aliases.push(
      `${f.name} (${relative(f.file)}:${f.line}) only calls .${method}() of its first argument: make the ` +
        `method the API and the function a @deprecated alias ("@deprecated use x.${method}()")`,
    );
  }
  assert.deepEqual(aliases, []);
});

Deno.test("api rule: every deprecated alias names the method to use instead", async () => {
  const { functions } = await (inventoryOnce ??= inventory());
  const vague: string[] = [];
  for (const f of functions) {
    if (f.deprecated === undefined) continue;
    const fn = declarationOf(sourceOf(f.file), f.name);
    const method = fn === undefined ? undefined : forwardedMethod(fn);
    if (method === undefined) continue; // deprecated for another reason (an option renamed, ...)
    if (!new RegExp(`\\buse\\s+\`?[\\w.]+\\.${method}\\(`).test(f.deprecated)) {
      vague.push(`${f.name}: "@deprecated ${f.deprecated}" should say "use x.${method}()"`);
    }
  }
  assert.deepEqual(vague, []);
});

Deno.test("api rule: forwardedMethod tells an alias from orchestration and finders", () => {
  const parse = (text: string) => {
    const sf = ts.createSourceFile("case.ts", text, ts.ScriptTarget.Latest, true);
    return sf.statements.find(ts.isFunctionDeclaration)!;
  };
  const cases: [string, string | undefined][] = [
    ["async function a(n: N) { await asOperation(n, 'start', () => n.create()); }", "create"],
    ["async function a(n: N, o = {}) { return await n.getDhcpLeases(o); }", "getDhcpLeases"],
    ["async function a(p: P, f = 0) { checkInstance(p); await p.build(checkFlags(f, 'x')); }", "build"],
    ["function a(p: P, x: string) { if (!x) throw new TypeError('x'); return p.lookup(x); }", "lookup"],
    ["async function a(n: N) { const s = await n.state(); await n.create(); return s; }", undefined],
    ["async function a(d: D) { return parse(await d.xmlDesc()); }", undefined],
    ["async function a(d: D) { try { return await d.get(); } catch { return undefined; } }", undefined],
    ["async function a(c: C, n: N) { return await n.create(c); }", undefined],
    ["function a(x: string) { return escape(x); }", undefined],
  ];
  for (const [text, expected] of cases) assert.equal(forwardedMethod(parse(text)), expected, text);
});
