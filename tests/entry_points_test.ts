// The entry points (deno.json's exports) list what they export by name, grouped by layer, so that an
// internal helper never reaches users through an `export *` of the file it lives in. Internal callers
// import such helpers from their files; the helpers say `@internal`.
import assert from "node:assert/strict";
import { denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

const ENTRY_POINTS = ["mod.ts", "lib/ip/mod.ts", "lib/range/mod.ts", "lib/events.ts", "lib/ffi/mod.ts"];

/** The one `export *` left, and why. */
const STAR_EXPORTS: Record<string, string> = {
  'mod.ts: export * from "./lib/objects/_generated/options.js";':
    "the generated methods' option types and bit tables: the generator owns the list, all public",
};

/** Helpers that once leaked through `export *`, and who uses them (from their files). */
const INTERNAL = [
  "effectiveUserId", // lib/ffi/library.ts (scripts ask libvirt for its default URI instead)
  "connectionFailureCodes", // lib/errors.ts
  "checkConsoleLogOptions", // lib/console.ts, lib/range/consoles.ts
  "shellQuote", // lib/range/tasks/, lib/range/playbook.ts
  "sha256File", // lib/range/images.ts
  "groupName", // lib/range/inventory.ts
  "taskMarker", // lib/range/tasks/, lib/range/playbook.ts
  "TASK_MARKER_DIR", // lib/range/playbook.ts
  "describeTask", // lib/range/playbook.ts
];

Deno.test("entry points: named export lists, no export * but the stated one", async () => {
  const found: string[] = [];
  for (const entry of ENTRY_POINTS) {
    const text = await Deno.readTextFile(`${REPO_ROOT}${entry}`);
    for (const line of text.split("\n")) {
      if (/^export \* from /.test(line)) found.push(`${entry}: ${line}`);
    }
  }
  assert.deepEqual(found.filter((f) => !(f in STAR_EXPORTS)), []);
  assert.deepEqual(
    Object.keys(STAR_EXPORTS).filter((s) => !found.includes(s)),
    [],
    "stale STAR_EXPORTS entry",
  );
});

for (const entry of ENTRY_POINTS) {
  Deno.test(`entry points: ${entry} exports no internal helper`, async () => {
    const module = await import(`../${entry}`);
    assert.deepEqual(INTERNAL.filter((name) => name in module), []);
  });
}

/** The names an entry point exports, types included (deno doc). */
async function exportedNames(entry: string): Promise<Set<string>> {
  const output = await runDeno(denoChildArgs("doc", "--json", entry), { cwd: REPO_ROOT });
  assert.equal(output.code, 0, output.stderr);
  const doc = JSON.parse(output.stdout) as { nodes: Record<string, { symbols: { name: string }[] }> };
  return new Set(Object.values(doc.nodes).flatMap((n) => n.symbols.map((s) => s.name)));
}

Deno.test("entry points: mod.ts re-exports every name of ./ip, ./range, ./events and ./ffi (its lists are complete)", async () => {
  const all = await exportedNames("mod.ts");
  const missing: string[] = [];
  for (const entry of ENTRY_POINTS.slice(1)) {
    for (const name of await exportedNames(entry)) if (!all.has(name)) missing.push(`${name} (${entry})`);
  }
  assert.deepEqual(missing, [], "add them to mod.ts's list for that entry point");
});
