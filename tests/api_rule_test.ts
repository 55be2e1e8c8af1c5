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

// ---------------------------------------------------------------------------------------------------
// Methods: a hand-written method of an object (lib/objects/*.ts) makes one libvirt call. What counts as
// a call, by name: a libvirt symbol (`symbols.virX(...)`, `lib.virX(...)`, `libvirtSymbol("virX")`,
// `qemuSymbol("virX")`), a gate call (`this[kCall](...)`, `[kCallSync]`) that names no symbol, a call
// of another method of `this` that makes libvirt calls (its calls counted), and a call of a function of
// lib/objects/ with `this` as an argument (a delegation: `domainOpenConsole(this, ...)`, its calls
// counted). The `...Async` twin is the same call; `vir*Ref`/`vir*Free` are the reference a call holds
// while in flight or the cleanup of a failed one, not calls of their own. Private members (`#call`,
// the gate plumbing) are not followed.

const OBJECTS = `${REPO_ROOT}lib/objects/`;

/**
 * The stated exceptions (docs/design.md, "The API rule"): methods that make more than one libvirt
 * call, and why they stay methods. An entry no longer flagged fails the test (remove it).
 */
const METHOD_EXCEPTIONS: Record<string, string> = {
  "Domain.openConsole":
    "virStreamNew + virDomainOpenConsole (virStreamFree on failure): the stream is the call's out-value, " +
    "made for it and freed if it fails, so the caller never holds a stream that is not attached",
  "Domain.openChannel": "virStreamNew + virDomainOpenChannel (virStreamFree on failure): as openConsole",
};

interface ClassInfo {
  name: string;
  file: string;
  base?: string;
  methods: Map<string, ts.MethodDeclaration>;
}

function tsFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) =>
    `${dir}${e.name}`
  )
    .sort();
}

/** The classes and top-level functions of lib/objects/ and its generated bases. */
function objectIndex(): { classes: Map<string, ClassInfo>; functions: Map<string, ts.FunctionDeclaration> } {
  const classes = new Map<string, ClassInfo>();
  const functions = new Map<string, ts.FunctionDeclaration>();
  for (const file of [...tsFiles(OBJECTS), ...tsFiles(`${OBJECTS}_generated/`)]) {
    for (const statement of sourceOf(file).statements) {
      if (ts.isFunctionDeclaration(statement) && statement.name && statement.body) {
        functions.set(statement.name.text, statement);
      }
      if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue;
      const heritage = statement.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
      const base = heritage?.types[0]?.expression;
      const methods = new Map<string, ts.MethodDeclaration>();
      for (const member of statement.members) {
        if (ts.isMethodDeclaration(member) && member.body && ts.isIdentifier(member.name)) {
          methods.set(member.name.text, member);
        }
      }
      classes.set(statement.name.text, {
        name: statement.name.text,
        file,
        ...(base && ts.isIdentifier(base) ? { base: base.text } : {}),
        methods,
      });
    }
  }
  return { classes, functions };
}

/** The method `name` of `className` or of the first base class that has it. */
function resolveMethod(
  classes: Map<string, ClassInfo>,
  className: string | undefined,
  name: string,
): ts.MethodDeclaration | undefined {
  for (let at = className, hops = 0; at !== undefined && hops < 10; hops++) {
    const info = classes.get(at);
    const method = info?.methods.get(name);
    if (method) return method;
    at = info?.base;
  }
  return undefined;
}

const SYMBOL_LOOKUPS = /^(libvirt|qemu|lxc|admin)Symbol$/;

/**
 * The distinct libvirt calls a body makes (see above), by name.
 *
 * @param body the method's or function's body
 * @param className the class whose `this` the body sees (undefined in a function)
 * @param index the classes and functions of lib/objects/
 * @param self the method itself (a recursive call is not another call)
 * @param depth how deep the delegations already go (at most 3)
 * @returns the names
 */
export function libvirtCalls(
  body: ts.Node,
  className: string | undefined,
  index: ReturnType<typeof objectIndex>,
  self?: ts.Node,
  depth = 0,
): Set<string> {
  const calls = new Set<string>();
  const add = (name: string) => {
    const call = name.replace(/(Async|Sync)$/, "");
    if (!/(Ref|Free)$/.test(call)) calls.add(call);
  };
  const namesSymbol = (node: ts.Node): boolean => {
    let found = false;
    const look = (n: ts.Node): void => {
      if (ts.isPropertyAccessExpression(n) && /^vir[A-Z]/.test(n.name.text)) found = true;
      if (ts.isStringLiteral(n) && /^vir[A-Z]/.test(n.text)) found = true;
      if (!found) ts.forEachChild(n, look);
    };
    look(node);
    return found;
  };
  const visit = (node: ts.Node): void => {
    // a libvirt call in a loop of the method's own body is made again and again: more than one call
    if (depth === 0 && ts.isIterationStatement(node, false)) {
      if (libvirtCalls(node, className, index, self, 1).size > 0) calls.add("calls repeated in a loop");
    }
    visitCall(node);
  };
  const visitCall = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isPropertyAccessExpression(callee) && /^vir[A-Z]/.test(callee.name.text)) add(callee.name.text);
      if (
        ts.isIdentifier(callee) && SYMBOL_LOOKUPS.test(callee.text) && node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0])
      ) add(node.arguments[0].text);
      // a gate call naming no symbol is a call of its own in the method's body; in a helper the method
      // delegates to (`callOnce(this, verb, run)`), it passes the caller's callback on
      if (
        depth === 0 && ts.isElementAccessExpression(callee) && ts.isIdentifier(callee.argumentExpression) &&
        /^kCall(Sync)?$/.test(callee.argumentExpression.text) && !node.arguments.some(namesSymbol)
      ) calls.add(`gate call "${node.arguments[0]?.getText() ?? ""}"`);
      if (
        ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword &&
        ts.isIdentifier(callee.name) && depth < 3
      ) {
        const method = resolveMethod(index.classes, className, callee.name.text);
        if (method && method !== self && method.body) {
          for (const c of libvirtCalls(method.body, className, index, method, depth + 1)) calls.add(c);
        }
      }
      if (ts.isIdentifier(callee) && depth < 3) {
        const fn = index.functions.get(callee.text);
        const delegates = depth > 0 || node.arguments.some((a) => a.kind === ts.SyntaxKind.ThisKeyword);
        if (fn?.body && fn !== self && delegates) {
          for (const c of libvirtCalls(fn.body, undefined, index, fn, depth + 1)) calls.add(c);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(body);
  return calls;
}

Deno.test("api rule: a hand-written method of an object makes one libvirt call, or is a stated exception", () => {
  const index = objectIndex();
  const flagged = new Map<string, string[]>();
  for (const info of index.classes.values()) {
    if (!info.file.startsWith(OBJECTS) || info.file.includes("/_")) continue; // hand-written object classes
    for (const [name, method] of info.methods) {
      const calls = libvirtCalls(method.body!, info.name, index, method);
      if (calls.size > 1) flagged.set(`${info.name}.${name}`, [...calls].sort());
    }
  }
  assert.ok(index.classes.has("Domain") && index.classes.has("Stream"), "no object classes found");
  const offenders = [...flagged].filter(([key]) => !(key in METHOD_EXCEPTIONS)).map(([key, calls]) =>
    `${key} makes ${calls.length} libvirt calls (${
      calls.join(", ")
    }): make it one call, or a free function ` +
    `above the objects that orchestrates them (docs/design.md, "The API rule")`
  );
  assert.deepEqual(offenders, []);
  const stale = Object.keys(METHOD_EXCEPTIONS).filter((key) => !flagged.has(key));
  assert.deepEqual(stale, [], "exceptions no longer flagged: remove them from METHOD_EXCEPTIONS");
  for (const [key, reason] of Object.entries(METHOD_EXCEPTIONS)) {
    assert.ok(reason.length > 20, `${key}: say why it stays a method`);
  }
});

Deno.test("api rule: libvirtCalls counts symbols, gate calls, this-methods and delegations", () => {
  const sf = ts.createSourceFile(
    "case.ts",
    `
    function helper(h: H) { return lib().symbols.virStreamNew(h); }
    class K extends B {
      one() { return this[kCall]("x", (h) => libvirt().symbols.virDomainGetStateAsync(h)); }
      twin() { libvirt().symbols.virDomainGetState(p); return libvirt().symbols.virDomainGetStateAsync(p); }
      refs() { const lib = libvirt().symbols; lib.virDomainRef(p); lib.virDomainSuspend(p); lib.virDomainFree(p); }
      two() { const x = this.xml(); return this[kCall]("y", (h) => qemuSymbol("virDomainQemuAgentCommandAsync")(h)); }
      xml() { return this[kCall]("z", (h) => libvirt().symbols.virDomainGetXMLDescAsync(h)); }
      gate() { return this[kCall]("w", () => loop.request({})); }
      delegate() { return helperTwo(this); }
      pure() { return parse(this.name); }
      loop(d: U8) { let o = 0; while (o < d.length) o += this.send(d); }
      send(d: U8) { return this[kCall]("s", (h) => libvirt().symbols.virStreamSendAsync(h, d)); }
    }
    function helperTwo(d: D) { helper(d); return d[kCall]("v", (h) => libvirt().symbols.virDomainOpenConsoleAsync(h)); }
    `,
    ts.ScriptTarget.Latest,
    true,
  );
  const classes = new Map<string, ClassInfo>();
  const functions = new Map<string, ts.FunctionDeclaration>();
  for (const s of sf.statements) {
    if (ts.isFunctionDeclaration(s)) functions.set(s.name!.text, s);
    if (ts.isClassDeclaration(s)) {
      const methods = new Map<string, ts.MethodDeclaration>();
      for (const m of s.members) {
        if (ts.isMethodDeclaration(m)) methods.set((m.name as ts.Identifier).text, m);
      }
      classes.set("K", { name: "K", file: "case.ts", methods });
    }
  }
  const index = { classes, functions };
  const count = (m: string) => {
    const method = classes.get("K")!.methods.get(m)!;
    return [...libvirtCalls(method.body!, "K", index, method)].sort();
  };
  assert.deepEqual(count("one"), ["virDomainGetState"]);
  assert.deepEqual(count("twin"), ["virDomainGetState"]);
  assert.deepEqual(count("refs"), ["virDomainSuspend"]);
  assert.deepEqual(count("two"), ["virDomainGetXMLDesc", "virDomainQemuAgentCommand"]);
  assert.deepEqual(count("gate"), ['gate call ""w""']);
  assert.deepEqual(count("delegate"), ["virDomainOpenConsole", "virStreamNew"]);
  assert.deepEqual(count("pure"), []);
  assert.deepEqual(count("loop"), ["calls repeated in a loop", "virStreamSend"]);
});
