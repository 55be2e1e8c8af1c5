// ObjectClasses (lib/objects/_types.ts) is how the generated method bases and the handle base name the
// classes above them without importing them. These checks hold it to its promise that the public types
// lose nothing: each entry is exactly the class of that name, what a generated method returns (or takes)
// is the full class with its hand-written members, and every public entry point puts every entry in the
// type checker's program. The type-level checks fail `deno test`'s type check, before any test runs.
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  Connection,
  Domain,
  type DomainCheckpoint,
  type DomainSnapshot,
  type Interface,
  type Network,
  type NetworkPort,
  type NodeDevice,
  type NWFilter,
  type NWFilterBinding,
  type ObjectClasses,
  type ObjectHandle,
  type Secret,
  type StoragePool,
  type StorageVolume,
} from "../mod.ts";
import { DENO_CONFIG, DENO_LOCK, denoChildArgs, REPO_ROOT, runDeno } from "./_helpers.ts";

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** Compiles only when every check is `true`. */
function holds<_ extends true[]>(): void {}
type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** The classes as mod.ts exports them, by the names ObjectClasses files them under. */
interface Exported {
  Connection: Connection;
  Domain: Domain;
  DomainCheckpoint: DomainCheckpoint;
  DomainSnapshot: DomainSnapshot;
  Interface: Interface;
  Network: Network;
  NetworkPort: NetworkPort;
  NodeDevice: NodeDevice;
  NWFilter: NWFilter;
  NWFilterBinding: NWFilterBinding;
  Secret: Secret;
  StoragePool: StoragePool;
  StorageVolume: StorageVolume;
}

Deno.test("ObjectClasses: every entry is exactly the exported class of its name", () => {
  holds<[
    Equal<keyof ObjectClasses, keyof Exported>,
    ...{ [K in keyof Exported]: Equal<ObjectClasses[K], Exported[K]> }[keyof Exported][],
  ]>();
  // and the check itself can fail: a class is not its base, nor another class
  holds<[Equal<Equal<ObjectClasses["Domain"], ObjectHandle>, false>]>();
  holds<[Equal<Equal<ObjectClasses["StoragePool"], StorageVolume>, false>]>();
});

Deno.test("ObjectClasses: generated methods return and take the full classes", () => {
  holds<[
    Equal<Result<Connection["domainLookupByName"]>, Domain>,
    Equal<Result<Connection["domainLookupByNameSync"]>, Domain>,
    Equal<Result<Connection["domainDefineXmlFlags"]>, Domain>,
    Equal<Result<Connection["listAllNetworks"]>, Network[]>,
    Equal<Result<Connection["listAllStoragePools"]>, StoragePool[]>,
    Equal<Result<Connection["listAllInterfaces"]>, Interface[]>,
    Equal<Result<Connection["listAllNodeDevices"]>, NodeDevice[]>,
    Equal<Result<Connection["listAllNwFilters"]>, NWFilter[]>,
    Equal<Result<Connection["listAllNwFilterBindings"]>, NWFilterBinding[]>,
    Equal<Result<Connection["secretDefineXml"]>, Secret>,
    Equal<Result<Domain["snapshotLookupByName"]>, DomainSnapshot>,
    Equal<Result<Domain["checkpointLookupByName"]>, DomainCheckpoint>,
    Equal<Result<Domain["migrate3"]>, Domain>,
    Equal<Parameters<Domain["migrate3"]>[0], Connection>,
    Equal<Result<DomainSnapshot["getParent"]>, DomainSnapshot>,
    Equal<Result<DomainCheckpoint["listAllChildren"]>, DomainCheckpoint[]>,
    Equal<Result<Network["portLookupByUuidString"]>, NetworkPort>,
    Equal<Result<StoragePool["storageVolLookupByName"]>, StorageVolume>,
    Equal<Result<StorageVolume["storagePoolLookupByVolume"]>, StoragePool>,
    Equal<Result<Connection["qemuAttach"]>, Domain>,
    // the handle base names its connection through the registry too
    Equal<Domain["connection"], Connection>,
    Equal<ObjectHandle["connection"], Connection>,
  ]>();
});

Deno.test("ObjectClasses: a looked-up domain is a Domain with its hand-written members", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await conn.domainLookupByName("test");
  assert.ok(dom instanceof Domain);
  // hand-written members (not in the generated base), reached without a cast
  assert.equal((await dom.state()).state, "running");
  assert.equal(dom.connection, conn);
  holds<[Equal<typeof dom, Domain>, Equal<typeof dom.connection, Connection>]>();
});

/** The modules of lib/ that add an entry to ObjectClasses (a `declare module ".../_types.ts"`). */
async function registeringModules(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${REPO_ROOT}${dir}`)) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (path.endsWith(".ts")) {
        const text = await Deno.readTextFile(`${REPO_ROOT}${path}`);
        if (/^declare module "[./]*(objects\/)?_types\.ts"/m.test(text)) out.push(path);
      }
    }
  };
  await walk("lib/");
  return out.sort();
}

Deno.test("ObjectClasses: each public entry point reaches every module that adds an entry", async () => {
  const registering = await registeringModules();
  assert.equal(registering.length, 11, `modules that add entries: ${registering.join(", ")}`);
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`)) as {
    exports: Record<string, string>;
  };
  for (const [entry, path] of Object.entries(config.exports)) {
    const output = await runDeno(denoChildArgs("info", "--json", path), { cwd: REPO_ROOT });
    assert.equal(output.code, 0, output.stderr);
    const info = JSON.parse(output.stdout) as { modules: { specifier: string }[] };
    const reached = new Set(
      info.modules.filter((m) => m.specifier.startsWith("file:")).map((m) =>
        relative(REPO_ROOT, fromFileUrl(m.specifier)).replaceAll("\\", "/")
      ),
    );
    if (!reached.has("lib/objects/_types.ts")) continue; // (./ffi: below the objects)
    const missing = registering.filter((m) => !reached.has(m));
    assert.deepEqual(
      missing,
      [],
      `entry point ${entry} (${path}) names ObjectClasses entries it does not load: ` +
        `add \`import type {} from ".../objects/_classes.ts"\` (and list new class modules there)`,
    );
  }
});

// The registry's module augmentations are what JSR's fast check calls slow types
// (`unsupported-ambient-module`): deno.json turns deno lint's no-slow-types off for them, so this keeps
// its guard for everything else. `deno publish --dry-run` runs the same fast check, offline; it is not
// a runDeno child (publish takes no --cached-only): the config and the frozen lockfile are explicit.
Deno.test("ObjectClasses: its augmentations are the package's only slow types", async () => {
  const registering = await registeringModules();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "publish",
      "--dry-run",
      "--allow-dirty",
      "--no-check", // the fast check still runs; the type check is deno task check's
      `--config=${DENO_CONFIG}`,
      `--lock=${DENO_LOCK}`,
      "--frozen-lockfile",
    ],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  // it exits non-zero on any problem: what matters is which problems
  // errors only: a warning (a benchmark's computed dynamic import, say) is no slow type of the API
  const problems = [...stderr.matchAll(/^error\[([\w-]+)\][^\n]*\n\s*--> ([^:\n]+)/gm)]
    .map(([, code, file]) => ({ code, file: relative(REPO_ROOT, file).replaceAll("\\", "/") }))
    .filter((p) => p.code !== "missing-license"); // not a type question (the package is used by URL)
  assert.deepEqual(
    problems,
    registering.map((file) => ({ code: "unsupported-ambient-module", file })),
    stderr,
  );
});
