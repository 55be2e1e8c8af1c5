// The committed script bundles (scripts/_generated/*.js, lib/ffi/_gen/script_bundles.ts) hold the
// library's modules as esbuild joined them, so what the modules' own tests check holds only if the
// joining kept it. deno task gen:check says a bundle is current; this says a current bundle still
// behaves as its modules do, in the three ways esbuild may change them without a test failing:
//   - a module's position: `import.meta` and an import() esbuild could not resolve (a computed
//     specifier) are left as they are, and then resolve against scripts/_generated/, not the module;
//   - a class's name: esbuild renames a top-level name two modules share (`LibvirtError2`), and the
//     error classes take their `name` from the class (`new.target.name`), which --json prints;
//   - the script: it must load its bundle and nothing else (but the link's start), or the bundle is
//     dead code.
// And the generator's own rewrite (compiledAtLoad: functions compiled with the bundle) must mean what
// esbuild's code meant, and must have reached every function it is for.
import assert from "node:assert/strict";
import { compiledAtLoad, SCRIPT_BUNDLES } from "../lib/ffi/_gen/script_bundles.ts";
import { REPO_ROOT } from "./_helpers.ts";

/** Every class the bundle assigns (`Name = class`), with the name it gets. */
function assignedClasses(text: string): string[] {
  return [...text.matchAll(/\b([A-Za-z_$][\w$]*) = class\b/g)].map((m) => m[1]);
}

/** The classes the bundled sources declare: what esbuild must keep the names of. */
async function declaredClasses(): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(`${REPO_ROOT}${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory && e.name !== "_gen") await walk(path);
      else if (/\.(ts|js)$/.test(e.name)) {
        const text = await Deno.readTextFile(`${REPO_ROOT}${path}`);
        for (const m of text.matchAll(/\bclass ([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
      }
    }
  };
  await walk("lib");
  await walk("scripts");
  return names;
}

for (const { output, entry } of SCRIPT_BUNDLES) {
  Deno.test(`script bundles: ${output} resolves nothing against its own place`, async () => {
    const text = await Deno.readTextFile(`${REPO_ROOT}${output}`);
    // outside the strings the worker's source is built from, the bundle imports node: modules only
    const code = text.replace(/String\.raw\s*`[^`]*`/g, "``");
    const relative = [...code.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)].map((m) => m[1].trim())
      .filter((specifier) => !/^["']node:[a-z_/]+["']$/.test(specifier));
    assert.deepEqual(relative, [], `${output}: import() esbuild left unresolved (from ${entry})`);
    assert.deepEqual(code.match(/\bimport\.meta\b/g) ?? [], [], `${output}: import.meta in the bundle`);
  });

  Deno.test(`script bundles: ${output} keeps every class's name`, async () => {
    const text = await Deno.readTextFile(`${REPO_ROOT}${output}`);
    const declared = await declaredClasses();
    const renamed = assignedClasses(text).filter((name) => !declared.has(name));
    assert.deepEqual(renamed, [], `${output}: classes esbuild renamed (their .name changes)`);
    for (const name of ["LibvirtError", "NotFoundError", "LibvirtLoadError", "UsageError"]) {
      assert.ok(assignedClasses(text).includes(name) || text.includes(`class ${name} `), name);
    }
  });

  Deno.test(`script bundles: the script of ${entry} loads ${output} only`, async () => {
    const script = entry.replace(/\/_([^/]+)$/, "/$1");
    const text = await Deno.readTextFile(`${REPO_ROOT}${script}`);
    const imports = [...text.matchAll(/^import\s+(?:[^"']*from\s+)?["']([^"']+)["']/gm)].map((m) => m[1]);
    const own = `./${output.slice(output.lastIndexOf("/", output.lastIndexOf("/") - 1) + 1)}`;
    // statically only the module that starts libvirt's link, which imports nothing itself (it runs
    // before the bundle loads, so that the two overlap); the bundle by import()
    assert.deepEqual(imports, ["../lib/ffi/_preload.ts"], `${script}'s static imports`);
    const preload = await Deno.readTextFile(`${REPO_ROOT}lib/ffi/_preload.ts`);
    assert.deepEqual(preload.match(/^\s*import\b.*$/gm) ?? [], [], "lib/ffi/_preload.ts imports nothing");
    const loaded = [...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    assert.deepEqual(loaded, [own], `${script}'s import()`);
  });
}

Deno.test("script bundles: compiledAtLoad keeps hoisting, module bodies and what it does not touch", async () => {
  // esbuild's shapes: a call before the declaration, a lazily run module body, a nested declaration,
  // an async and a generator function, and the text of a template that looks like a declaration
  const code = [
    "var __esm = (fn, res) => function __init() {",
    "  return fn && (res = (0, fn[Object.getOwnPropertyNames(fn)[0]])(fn = 0)), res;",
    "};",
    "var early = twice(21);",
    "var init_mod = __esm({",
    '  "lib/mod.ts"() {',
    "    modValue = typeof this + ':' + nested();",
    "    function nested() { return 'nested'; }",
    "  }",
    "});",
    "var modValue;",
    "function twice(x) { return 2 * x; }",
    "async function later() { return early; }",
    "function* count() { yield 1; yield 2; }",
    "var source = `",
    "function notCode() {}`;",
    "init_mod();",
    "export const result = { early, modValue, later: await later(), count: [...count()], source };",
  ].join("\n");
  const rewritten = compiledAtLoad(code);
  assert.match(rewritten, /^var twice = \(function twice\(x\)/m);
  assert.match(rewritten, /^var later = \(async function later\(\)/m);
  assert.match(rewritten, /"lib\/mod\.ts": \(function \(\) \{/);
  assert.match(rewritten, /^function notCode\(\) \{\}`;$/m, "a template's text is not code");
  const load = async (text: string) =>
    (await import(`data:text/javascript;base64,${btoa(text)}`)).result as Record<string, unknown>;
  assert.deepEqual(await load(rewritten), await load(code));
  assert.deepEqual((await load(rewritten)).modValue, "undefined:nested");
});

for (const { output } of SCRIPT_BUNDLES) {
  Deno.test(`script bundles: ${output} compiles its functions at load`, async () => {
    const text = await Deno.readTextFile(`${REPO_ROOT}${output}`);
    const code = text.replace(/String\.raw\s*`[^`]*`/g, "``"); // the worker's source is a string
    assert.deepEqual(
      code.match(/^(async )?function\b.*$/gm) ?? [],
      [],
      `${output}: top-level declarations left`,
    );
    assert.deepEqual(
      code.match(/^\s*"[^"]+"\(\) \{$/gm) ?? [],
      [],
      `${output}: module bodies left as methods`,
    );
    assert.ok(
      (code.match(/^var \w+ = \((async )?function\*? ?\w+\(/gm) ?? []).length > 200,
      "hoisted functions",
    );
  });
}
