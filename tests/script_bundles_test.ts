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
import { compiledAtLoad, SCRIPT_BUNDLES, SCRIPT_BUNDLES_DIR } from "../lib/ffi/_gen/script_bundles.ts";
import { pruneStale, staleFiles } from "../lib/ffi/_gen/_stale.ts";
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
    "function once() { once = () => 'again'; return 'first'; }",
    "var onceCalls = [once(), once()];",
    "function* count() { yield 1; yield 2; }",
    "var source = `",
    "function notCode() {}`;",
    "init_mod();",
    "export const result = {",
    "  early, modValue, later: await later(), count: [...count()], source, onceCalls, names: [twice.name, later.name],",
    "};",
  ].join("\n");
  const rewritten = compiledAtLoad(code);
  assert.match(rewritten, /^var twice = \(function \(x\)/m);
  assert.match(rewritten, /^var later = \(async function \(\)/m);
  assert.match(rewritten, /"lib\/mod\.ts": \(function \(\) \{/);
  assert.match(rewritten, /^function notCode\(\) \{\}`;$/m, "a template's text is not code");
  const load = async (text: string) =>
    (await import(`data:text/javascript;base64,${btoa(text)}`)).result as Record<string, unknown>;
  assert.deepEqual(await load(rewritten), await load(code));
  assert.deepEqual((await load(rewritten)).modValue, "undefined:nested");
  // a function that replaces itself, and the names stack traces and .name give
  assert.deepEqual((await load(rewritten)).onceCalls, ["first", "again"]);
  assert.deepEqual((await load(rewritten)).names, ["twice", "later"]);
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
      (code.match(/^var \w+ = \((async )?function\*? ?\(/gm) ?? []).length > 200,
      "hoisted functions",
    );
  });
}

Deno.test("pruneStale: gen removes the files of a generated directory that nothing produces any more; gen:check names them", async () => {
  const root = await Deno.makeTempDir({ prefix: "deno_libvirt_stale_" });
  const rootUrl = new URL(`file://${root}/`);
  try {
    await Deno.mkdir(`${root}/scripts/_generated`, { recursive: true });
    await Deno.writeTextFile(`${root}/scripts/_generated/vm_ip.js`, "current");
    await Deno.writeTextFile(`${root}/scripts/_generated/range_up.js`, "an entry removed from the list");
    await Deno.writeTextFile(`${root}/scripts/_generated/NOTES.md`, "not the generator's");
    await Deno.mkdir(`${root}/scripts/_generated/sub`);
    const produced = ["scripts/_generated/vm_ip.js"];
    const stale = ["scripts/_generated/NOTES.md", "scripts/_generated/range_up.js", "scripts/_generated/sub"];
    assert.deepEqual(await staleFiles(rootUrl, SCRIPT_BUNDLES_DIR, produced), stale);
    // check: named, left in place
    assert.deepEqual(await pruneStale(rootUrl, SCRIPT_BUNDLES_DIR, produced, true), stale);
    assert.ok(await Deno.stat(`${root}/scripts/_generated/range_up.js`));
    // gen: the stale module removed, the bundle still produced kept, what no stage writes left alone
    await pruneStale(rootUrl, SCRIPT_BUNDLES_DIR, produced, false);
    assert.deepEqual(await staleFiles(rootUrl, SCRIPT_BUNDLES_DIR, []), [
      "scripts/_generated/NOTES.md",
      "scripts/_generated/sub",
      "scripts/_generated/vm_ip.js",
    ]);
    assert.deepEqual(await staleFiles(rootUrl, "missing/", produced), [], "no directory: nothing stale");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("gen:check fails on a file in scripts/_generated/ that no bundle of SCRIPT_BUNDLES produces", async () => {
  const probe = `${REPO_ROOT}${SCRIPT_BUNDLES_DIR}_stale_probe_${crypto.randomUUID().slice(0, 8)}.js`;
  await Deno.writeTextFile(probe, "// a bundle whose entry left SCRIPT_BUNDLES\n");
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "gen:check"],
      cwd: REPO_ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 1, text);
    assert.match(text, new RegExp(`${probe.slice(probe.lastIndexOf("/") + 1)}: no longer generated`));
  } finally {
    await Deno.remove(probe);
  }
});

Deno.test("gen:check fails on a file in lib/objects/_generated/ that the methods stage no longer produces", async () => {
  const probe = `${REPO_ROOT}lib/objects/_generated/_stale_probe_${crypto.randomUUID().slice(0, 8)}.js`;
  await Deno.writeTextFile(probe, "// an object module whose class went away\n");
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "gen:check"],
      cwd: REPO_ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 1, text);
    assert.match(text, new RegExp(`${probe.slice(probe.lastIndexOf("/") + 1)}: no longer generated`));
  } finally {
    await Deno.remove(probe);
  }
});
