// The layers of docs/design.md, checked on the source tree:
//   1. nothing above lib/ffi/ and lib/objects/ reaches native memory or the FFI tables: no `.symbols`
//      lookup, no `Deno.UnsafePointer` / `Deno.UnsafePointerView`, no pointer-array or C-string
//      decoding helpers (`takePointerArray`, `takeCString`, `readCString`), except in the files of
//      ALLOWED below, each with the reason it must stay and the most references it may keep (so the
//      list can only shrink: a count above the bound fails, a count below it asks to lower the bound);
//   2. no import cycle among the runtime imports of lib/ (`deno info --json`), except the ones listed
//      in KNOWN_CYCLES with the issue that removes them.
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { denoChildArgs, runDeno } from "./_helpers.ts";
import { SCRIPT_BUNDLES } from "../lib/ffi/_gen/script_bundles.ts";

const root = fromFileUrl(new URL("..", import.meta.url));

/** What counts as reaching below the object layer. */
const RAW =
  /\.symbols\b|\bDeno\.UnsafePointer(View)?\b|\btakePointerArray\b|\btakeCString\b|\breadCString\b/g;

/** Layers allowed to use RAW freely. */
const RAW_LAYERS = ["lib/ffi/", "lib/objects/"];

/**
 * Files above the object layer that keep raw references, with the most they may keep and why. Each
 * entry is plumbing that has no one-call method to move onto (event loop, opens), or work still open.
 */
const ALLOWED: Record<string, { max: number; why: string }> = {
  // plumbing below the objects, with no one-call method to move onto
  "lib/_event_loop_worker.ts": {
    max: 7,
    why: "the event-loop worker's own FFI: it runs in a worker isolate, from the serialized tables",
  },
  "lib/event_loop.ts": { max: 3, why: "registers libvirt's default event loop (virEvent*) before any open" },
  "lib/connection/_open_errors.ts": {
    max: 2,
    why: "failed opens have no connection: their errors come from the process-wide handler (virSetErrorFunc)",
  },
  "lib/_handle.ts": { max: 2, why: "the handle base every object extends reads the name libvirt returns" },
  // the connection and the event registrations: plumbing of the layers below the objects
  "lib/connection.ts": {
    max: 13,
    why:
      "the connection's own plumbing: open with auth callbacks, close, its silent error handler, the pointer " +
      "for the event worker, the URI libvirt chose for an open of its default (virConnectGetURI), and the " +
      "local checks (isAlive/isEncrypted/isSecure) on the pool's hot path",
  },
  "lib/events/_hub.ts": {
    max: 3,
    why:
      "event registration: the worker gets the connection pointer as a number; teardown deregisters synchronously",
  },
  "lib/qemu/monitor_events.ts": {
    max: 3,
    why: "QEMU monitor event registration: the worker gets the connection and domain pointers as numbers",
  },
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(root, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sourceFiles(path));
    else if (entry.isFile && path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** Source text without comments, so that documentation may name the FFI. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

Deno.test("layering: nothing above lib/ffi/ and lib/objects/ looks up a symbol or decodes memory", async () => {
  const files = ["mod.ts", ...await sourceFiles("lib"), ...await sourceFiles("scripts")]
    .filter((path) => !RAW_LAYERS.some((layer) => path.startsWith(layer)));
  const problems: string[] = [];
  const counts: Record<string, number> = {};
  for (const path of files) {
    const count = (code(await Deno.readTextFile(join(root, path))).match(RAW) ?? []).length;
    const allowed = ALLOWED[path];
    if (count > 0) counts[path] = count;
    if (allowed === undefined && count > 0) {
      problems.push(`${path}: ${count} raw FFI references (move them onto an object's method)`);
    } else if (allowed !== undefined && count > allowed.max) {
      problems.push(
        `${path}: ${count} raw FFI references, more than the ${allowed.max} allowed (${allowed.why})`,
      );
    } else if (allowed !== undefined && count < allowed.max) {
      problems.push(`${path}: only ${count} raw FFI references now: lower its bound in ALLOWED to ${count}`);
    }
  }
  for (const path of Object.keys(ALLOWED)) {
    if (!files.includes(path)) problems.push(`${path}: listed in ALLOWED but gone: remove the entry`);
  }
  assert.deepEqual(problems, [], JSON.stringify(counts, null, 2));
});

/**
 * Runtime import cycles that other work removes, as sorted lists of the modules in the cycle.
 * Type-only imports are not runtime edges and do not count.
 */
const KNOWN_CYCLES: { modules: string[]; why: string }[] = [];

Deno.test("layering: no import cycle among the modules of lib/", async () => {
  const output = await runDeno(denoChildArgs("info", "--json", "mod.ts"), { cwd: root });
  assert.equal(output.code, 0, output.stderr);
  const info = JSON.parse(output.stdout) as {
    modules: { specifier: string; dependencies?: { code?: { specifier?: string } }[] }[];
  };
  const name = (specifier: string) => relative(root, fromFileUrl(specifier)).replaceAll("\\", "/");
  const graph = new Map<string, string[]>();
  for (const module of info.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    const from = name(module.specifier);
    if (!from.startsWith("lib/")) continue;
    graph.set(
      from,
      (module.dependencies ?? []).map((d) => d.code?.specifier).filter((s): s is string =>
        s !== undefined && s.startsWith("file:")
      ).map(name).filter((to) => to.startsWith("lib/")),
    );
  }
  assert.ok(graph.size > 50, `deno info listed only ${graph.size} modules of lib/`);
  // Tarjan's strongly connected components: every component of more than one module is a cycle
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  const known = new Set(KNOWN_CYCLES.map((c) => JSON.stringify(c.modules)));
  const found = new Set(cycles.map((c) => JSON.stringify(c)));
  assert.deepEqual(
    cycles.filter((c) => !known.has(JSON.stringify(c))),
    [],
    "import cycles among lib/ modules",
  );
  for (const cycle of KNOWN_CYCLES) {
    if (!found.has(JSON.stringify(cycle.modules))) {
      console.log(`KNOWN_CYCLES lists a cycle that is gone (remove it): ${cycle.modules.join(" <-> ")}`);
    }
  }
});

/**
 * The generated object modules have runtime twins (lib/objects/_generated/<name>.js, written by
 * lib/ffi/_gen/methods_js.ts): the code without its types and JSDoc, which stay in <name>.ts for the
 * type checker and deno doc (the .js names it with `@ts-self-types`). A program must load the twins
 * only: a runtime import of a generated .ts loads the bulk the twins exist to save, and a second copy
 * of each base class (so `instanceof` would fail across the copies). Type-only imports do not load.
 */
Deno.test("layering: programs load the runtime twins of lib/objects/_generated/, never its .ts", async () => {
  const problems: string[] = [];
  // every published entry point (deno.json's exports) and every runnable script, so that a new one is
  // checked without editing this list
  const exports = Object.values(
    (JSON.parse(await Deno.readTextFile(join(root, "deno.json"))) as { exports: Record<string, string> })
      .exports,
  ).map((path) => path.replace(/^\.\//, ""));
  const scripts: string[] = [];
  for await (const e of Deno.readDir(join(root, "scripts"))) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_")) scripts.push(`scripts/${e.name}`);
  }
  // a bundled script loads only its bundle: the modules it holds are checked from the bundle's entry
  const bundled = SCRIPT_BUNDLES.map((b) => b.entry);
  const entries = [...new Set([...exports, ...scripts, ...bundled])].sort();
  assert.ok(
    entries.includes("mod.ts") && entries.includes("scripts/vm_ip.ts") &&
      entries.includes("scripts/_vm_ip.ts"),
    entries.join(", "),
  );
  for (const entry of entries) {
    const output = await runDeno(denoChildArgs("info", "--json", entry), { cwd: root });
    assert.equal(output.code, 0, output.stderr);
    const info = JSON.parse(output.stdout) as {
      roots: string[];
      modules: { specifier: string; dependencies?: { code?: { specifier?: string } }[] }[];
    };
    const modules = new Map(info.modules.map((m) => [m.specifier, m]));
    // what `deno run` loads: the code edges from the root (static and dynamic), never the types ones
    const loaded = new Set<string>();
    const queue = [...info.roots];
    while (queue.length) {
      const specifier = queue.pop()!;
      if (loaded.has(specifier)) continue;
      loaded.add(specifier);
      for (const d of modules.get(specifier)?.dependencies ?? []) {
        if (d.code?.specifier) queue.push(d.code.specifier);
      }
    }
    const generated = [...loaded].filter((s) => s.startsWith("file:")).map((s) =>
      relative(root, fromFileUrl(s)).replaceAll("\\", "/")
    ).filter((path) => path.startsWith("lib/objects/_generated/"));
    for (const path of generated) {
      if (!path.endsWith(".js")) {
        problems.push(
          `${entry} loads ${path}: import ${path.replace(/\.ts$/, ".js")}`,
        );
      }
    }
    if (entry === "mod.ts") {
      assert.ok(
        generated.length >= 15,
        `mod.ts loads ${generated.length} generated twins`,
      );
    }
  }
  assert.deepEqual(problems, []);
});
