// libvirt API coverage, modelled on libvirt-go-module's API test: read the INSTALLED API description
// (libvirt-api.xml, libvirt-qemu-api.xml) and account for every public function. A function is
//   - bound: it has an entry in the generated FFI tables (lib/ffi/_generated/) that binds;
//   - exposed: its C name (`virXxx`) appears in the JSDoc of a public export of mod.ts, or of one of
//     its members, as `deno doc --json mod.ts` reports them (so the method is public and documented);
//   - ignored: an entry of COVERAGE_IGNORE (lib/ffi/_gen/overrides.ts) covers it, with a reason;
//   - missing: none of the above.
// The test prints the counts; it fails when a function is not bound, when the ignore list grows past
// 40 entries or has a stale entry, and when fewer than REQUIRED_EXPOSED_PERCENT of the functions
// that are not ignored are exposed.
import assert from "node:assert/strict";
import { loadApiModel } from "../lib/ffi/_gen/api_model.ts";
import { COVERAGE_IGNORE, coverageIgnoreOf } from "../lib/ffi/_gen/overrides.ts";
import { libvirtQemuSymbols, libvirtSymbols } from "../lib/ffi/_generated/symbols.ts";
import { libvirt } from "../lib/ffi/library.ts";
import { denoChildArgs, runDeno } from "./_helpers.ts";
import { libvirtQemu } from "../lib/ffi/qemu_library.ts";

/**
 * The share of not-ignored functions that must be exposed through documented public exports. 0 until
 * the typed one-call methods (issue 10, item 3) land; then 95 (the goal), and 100 turns this
 * into libvirt-go's rule: every function exposed or ignored with a reason.
 */
const REQUIRED_EXPOSED_PERCENT = 95;
/** The bound on the ignore list. */
const MAX_IGNORE_ENTRIES = 40;

const model = await loadApiModel();
const names = model.functions.map((f) => f.name);
const known = new Set(names);

let exposedOnce: Promise<Set<string>> | undefined;
/** Every `virXxx` a JSDoc of mod.ts's public exports (and their members) names (computed once). */
function exposedNames(): Promise<Set<string>> {
  return exposedOnce ??= readExposedNames();
}

async function readExposedNames(): Promise<Set<string>> {
  const output = await runDeno(
    denoChildArgs("doc", "--json", new URL("../mod.ts", import.meta.url).pathname),
  );
  assert.equal(output.code, 0, `deno doc failed: ${output.stderr}`);
  const doc = JSON.parse(output.stdout);
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (record.accessibility === "private") return;
    for (const [key, value] of Object.entries(record)) {
      if (key === "jsDoc") {
        for (const match of JSON.stringify(value).matchAll(/\bvir[A-Z][A-Za-z0-9]*/g)) {
          if (known.has(match[0])) found.add(match[0]);
        }
      } else {
        walk(value);
      }
    }
  };
  // version 2: { nodes: { [module]: { symbols: [...] } } }, only mod.ts's own exports
  const modules = doc.nodes as Record<string, { symbols?: unknown }>;
  const mod = Object.entries(modules).find(([url]) => url.endsWith("/mod.ts"));
  assert.ok(mod !== undefined, "deno doc --json mod.ts: no mod.ts node (has the JSON format changed?)");
  walk(mod[1].symbols);
  return found;
}

Deno.test("api coverage: every public function of the installed libvirt is bound by the generated tables", () => {
  const { symbols, version } = libvirt();
  const qemu = libvirtQemu().symbols;
  const notBound: string[] = [];
  for (const fn of model.functions) {
    const table = (fn.api === "libvirt-qemu" ? libvirtQemuSymbols : libvirtSymbols) as Record<
      string,
      unknown
    >;
    const bound = (fn.api === "libvirt-qemu" ? qemu : symbols) as Record<string, unknown>;
    if (!(fn.name in table)) {
      notBound.push(`${fn.name} (not generated: run "deno task gen")`);
    } else if (fn.version.number <= version && typeof bound[fn.name] !== "function") {
      notBound.push(`${fn.name} (does not resolve in the installed library)`);
    }
  }
  assert.deepEqual(notBound, []);
});

Deno.test("api coverage: the ignore list is under 40 entries, each with a reason, none stale", async () => {
  const exposed = await exposedNames();
  assert.ok(COVERAGE_IGNORE.length < MAX_IGNORE_ENTRIES, `${COVERAGE_IGNORE.length} ignore entries`);
  const problems: string[] = [];
  for (const entry of COVERAGE_IGNORE) {
    const label = String(entry.match);
    if (entry.reason.trim().length < 10 || entry.reason.includes("\n")) {
      problems.push(`${label}: needs a one-line reason`);
    }
    const matched = typeof entry.match === "string"
      ? names.filter((n) => n === entry.match)
      : names.filter((n) => (entry.match as RegExp).test(n));
    if (matched.length === 0) problems.push(`${label}: matches no function of the installed libvirt`);
    else if (matched.every((n) => exposed.has(n))) {
      problems.push(`${label}: every function it covers is exposed now`);
    }
    if (typeof entry.match === "string" && exposed.has(entry.match)) problems.push(`${label}: exposed now`);
  }
  assert.deepEqual(problems, []);
});

Deno.test(`api coverage: at least ${REQUIRED_EXPOSED_PERCENT}% of the functions not ignored are exposed`, async () => {
  const exposed = await exposedNames();
  const ignored = names.filter((n) => !exposed.has(n) && coverageIgnoreOf(n) !== undefined);
  const missing = names.filter((n) => !exposed.has(n) && coverageIgnoreOf(n) === undefined);
  const considered = names.length - ignored.length;
  const percent = (100 * exposed.size) / considered;
  console.log(
    `libvirt API coverage: ${names.length} functions, ${names.length} bound, ${exposed.size} exposed, ` +
      `${ignored.length} ignored (${COVERAGE_IGNORE.length} entries), ${missing.length} missing: ` +
      `${
        percent.toFixed(1)
      }% of the ${considered} not ignored exposed (required: ${REQUIRED_EXPOSED_PERCENT}%)` +
      (missing.length ? `; missing: ${missing.join(", ")}` : ""),
  );
  assert.ok(
    percent >= REQUIRED_EXPOSED_PERCENT,
    `only ${percent.toFixed(1)}% exposed; missing (neither exposed nor ignored): ${missing.join(", ")}`,
  );
});
