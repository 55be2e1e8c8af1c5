// Every exported function and class of every entry point has an example that looks like a user's.
// `deno test --doc` (deno task test) and `deno check --doc` (deno task check) type-check and run the
// examples themselves; this test makes sure they exist and are about the symbol they document.
//
// The rule, for each function or class declaration exported by an entry point (deno.json "exports"):
// at least one of its `@example`s
//   (a) imports from the package's public path, `@deno-libvirt/deno-libvirt` or one of its subpaths
//       (a key of deno.json "exports"), not from a file inside lib/;
//   (b) imports the symbol's own name (`import { Lease }`, `import { type Lease }`, `import { X as Y }`,
//       or `import * as ns` then `ns.X`) from an entry point that actually exports it (by `deno doc --json`
//       of that entry point);
//   (c) uses that name in its code, outside the import and outside comments: a call, `new`, a static
//       member, or, for a class users never construct themselves (a `Lease`, a `NetworkPort`, a generated
//       `*Calls` base), a type annotation, `satisfies` or `instanceof` on an instance obtained from the
//       API (`using lease: Lease = await pool.acquire();`).
// A `@deprecated` function's example shows its replacement, which is what a user should write: it keeps
// (a), and instead of (b) and (c) names the deprecated call in a comment (`// was: await startNetwork(net)`).
// So an example that never mentions its class, or imports it from a subpath that does not export it,
// fails here even though it type-checks.
import assert from "node:assert/strict";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

const PACKAGE = "@deno-libvirt/deno-libvirt";

/**
 * Modules whose examples are still being rewritten, with the reason. Shrink it; never grow it.
 * Each entry exempts the module's exports from the rules above.
 */
const PENDING: Record<string, string> = {};

interface DocTag {
  kind: string;
  doc?: string;
}
interface DocDeclaration {
  kind: string;
  location: { filename: string };
  jsDoc?: { tags?: DocTag[] };
  def?: { hasBody?: boolean };
}
interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`)) as {
  exports: Record<string, string>;
};
/** import specifier ("@deno-libvirt/deno-libvirt/ip") -> entry point file ("lib/ip/mod.ts") */
const ENTRY_BY_SPECIFIER = new Map(
  Object.entries(config.exports).map(([key, file]) => [
    key === "." ? PACKAGE : `${PACKAGE}${key.slice(1)}`,
    file.replace(/^\.\//, ""),
  ]),
);

async function exportedSymbols(entry: string): Promise<DocSymbol[]> {
  const output = await runDeno(denoChildArgs("doc", "--json", entry), { cwd: REPO_ROOT });
  assert.equal(output.code, 0, output.stderr);
  const doc = JSON.parse(output.stdout);
  return (Object.values(doc.nodes)[0] as { symbols: DocSymbol[] } | undefined)?.symbols ?? [];
}

const SYMBOLS = new Map<string, DocSymbol[]>();
for (const entry of ENTRY_BY_SPECIFIER.values()) SYMBOLS.set(entry, await exportedSymbols(entry));
const EXPORTED_NAMES = new Map(
  [...SYMBOLS].map(([entry, symbols]) => [entry, new Set(symbols.map((s) => s.name))]),
);

/** Comments removed (a `//` only counts after the line start or a space: `test:///default` stays). */
function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
}

const IMPORT = /import\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+\w+|\w+)\s+from\s+"([^"]+)";?/g;

/** Which of the rules (a)-(c) an example breaks for `name`, or null when it keeps them all. */
function exampleProblem(example: string, name: string, deprecated = false): string | null {
  const code = withoutComments(example);
  let publicImport = false;
  const localNames: string[] = [];
  for (const [, , clause, specifier] of code.matchAll(IMPORT)) {
    const entry = ENTRY_BY_SPECIFIER.get(specifier);
    if (entry === undefined) continue;
    publicImport = true;
    const exported = EXPORTED_NAMES.get(entry)!;
    if (!exported.has(name)) continue;
    if (clause.startsWith("*")) {
      localNames.push(`${clause.split(/\s+/).at(-1)}.${name}`);
      continue;
    }
    for (const item of clause.replace(/[{}]/g, "").split(",")) {
      const [imported, alias] = item.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
      if (imported === name) localNames.push(alias ?? imported);
    }
  }
  if (!publicImport) return `imports no ${PACKAGE}(/subpath) entry point`;
  if (deprecated) {
    return new RegExp(`//.*\\bwas: .*\\b${name}\\(`).test(example)
      ? null
      : `shows no \`// was: ${name}(...)\` next to the replacement`;
  }
  if (localNames.length === 0) return `imports ${name} from no entry point that exports it`;
  const body = code.replace(IMPORT, "");
  const used = localNames.some((local) =>
    new RegExp(`(^|[^\\w$.])${local.replace(/[.$]/g, "\\$&")}(?![\\w$])`).test(body)
  );
  return used ? null : `imports ${name} but never uses it`;
}

for (const [entry, symbols] of SYMBOLS) {
  Deno.test(`doc examples: every function and class of ${entry} has one about itself, via the public path`, () => {
    const missing: string[] = [];
    const weak: string[] = [];
    for (const symbol of symbols) {
      const overloaded = symbol.declarations.some((d) => d.kind === "function" && !d.def?.hasBody);
      for (const d of symbol.declarations) {
        if (d.kind !== "function" && d.kind !== "class") continue;
        // an overloaded function's implementation signature is not callable from outside: its overloads carry the docs
        if (overloaded && d.kind === "function" && d.def?.hasBody) continue;
        const file = d.location.filename.replace(`file://${REPO_ROOT}`, "");
        if (file in PENDING) continue;
        const examples = (d.jsDoc?.tags ?? []).filter((t) => t.kind === "example").map((t) => t.doc ?? "");
        if (examples.length === 0) {
          missing.push(`${symbol.name} (${file})`);
          continue;
        }
        const deprecated = (d.jsDoc?.tags ?? []).some((t) => t.kind === "deprecated");
        const problems = examples.map((e) => exampleProblem(e, symbol.name, deprecated));
        if (!problems.includes(null)) weak.push(`${symbol.name} (${file}): ${problems[0]}`);
      }
    }
    assert.deepEqual(missing, [], `exports without an @example:\n  ${missing.join("\n  ")}`);
    assert.deepEqual(weak, [], `examples that break the rule above:\n  ${weak.join("\n  ")}`);
  });
}

Deno.test("doc examples: the rule itself", () => {
  const ok = 'import { ConnectionPool, type Lease } from "@deno-libvirt/deno-libvirt";\n' +
    'await using pool = new ConnectionPool("test:///default");\nusing lease: Lease = await pool.acquire();';
  assert.equal(exampleProblem(ok, "Lease"), null);
  assert.equal(exampleProblem(ok, "ConnectionPool"), null);
  // names the class only in a comment
  assert.match(exampleProblem(ok.replace(": Lease", " // a Lease"), "Lease")!, /never uses/);
  // a subpath that does not export it
  assert.match(
    exampleProblem(ok.replace('deno-libvirt";', 'deno-libvirt/ip";'), "ConnectionPool")!,
    /no entry point that exports/,
  );
  // a file inside lib/
  assert.match(
    exampleProblem(ok.replace("@deno-libvirt/deno-libvirt", "./lib/pool.ts"), "Lease")!,
    /imports no/,
  );
  // a namespace import and an alias
  assert.equal(
    exampleProblem('import * as lv from "@deno-libvirt/deno-libvirt";\nnew lv.Connection();', "Connection"),
    null,
  );
  assert.equal(
    exampleProblem('import { Connection as C } from "@deno-libvirt/deno-libvirt";\nC.open();', "Connection"),
    null,
  );
  // a deprecated alias: its replacement, and the old call in a `was:` comment
  const alias =
    'import { Connection } from "@deno-libvirt/deno-libvirt";\nawait net.create(); // was: await startNetwork(net)';
  assert.equal(exampleProblem(alias, "startNetwork", true), null);
  assert.match(exampleProblem(alias.replace(/ \/\/.*/, ""), "startNetwork", true)!, /was:/);
  // test:///default is not a comment
  assert.equal(
    exampleProblem(
      'import { Connection } from "@deno-libvirt/deno-libvirt";\nf("test:///default", Connection);',
      "Connection",
    ),
    null,
  );
});
