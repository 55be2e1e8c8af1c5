// Garbage arguments on every public lookup, list and define entry point: each must be refused with a
// TypeError or RangeError that names the argument and says what was expected, before anything reaches
// FFI (where it would surface as a raw TypeError from inside the library, or be cut at a NUL, or be
// silently ignored). Runs on the in-process test driver.
import assert from "node:assert/strict";
import {
  Connection,
  createDomain,
  createNetwork,
  createSnapshot,
  createStoragePool,
  createVolume,
  currentSnapshot,
  defineDomain,
  defineNetwork,
  defineStoragePool,
  listAllDomains,
  listAllDomainsSync,
  listAllNetworks,
  listAllStoragePools,
  listSnapshots,
  listVolumes,
  lookupDomain,
  lookupDomainSync,
  lookupNetwork,
  lookupSnapshot,
  lookupStoragePool,
  lookupVolume,
  lookupVolumeByPath,
  snapshotTree,
} from "../mod.ts";

type Fn = (...args: unknown[]) => unknown;
interface Case {
  /** The call as written in the test report: `lookupDomain(conn, 2**40)`. */
  label: string;
  call: () => unknown;
  error: typeof TypeError | typeof RangeError;
  /** What the message must say: the argument's name and what it must be. */
  says: RegExp;
}

const conn = await Connection.open("test:///default");
const dom = await lookupDomain(conn, "test");
const pool = await lookupStoragePool(conn, "default-pool");
const NUL = "te\0st";
const notAnObject = [null, 42, "yes", ["a"]] as const;

/** Cases every function of the shape (connection, ...) gets for its connection argument. */
function connectionCases(name: string, fn: Fn, rest: unknown[]): Case[] {
  return [undefined, null, {}, "test:///default", dom].map((bad) => ({
    label: `${name}(${Deno.inspect(bad)}, ...)`,
    call: () => fn(bad, ...rest),
    error: TypeError,
    says: /connection must be a Connection \(from Connection\.open\(\) or a pool lease\), got /,
  }));
}

/** Cases for a string argument at `index` (name, key, path, xml). */
function stringCases(name: string, fn: Fn, args: unknown[], index: number, arg: string): Case[] {
  const at = (value: unknown) => args.map((a, i) => i === index ? value : a);
  return [
    ...[undefined, null, 42, {}, Symbol("x"), 10n].map((bad) => ({
      label: `${name}(${arg}: ${String(typeof bad === "symbol" ? "Symbol()" : Deno.inspect(bad))})`,
      call: () => fn(...at(bad)),
      error: TypeError,
      says: new RegExp(`${arg.replace(".", "\\.")} must be a string, got `),
    })),
    {
      label: `${name}(${arg}: "te\\0st")`,
      call: () => fn(...at(NUL)),
      error: TypeError,
      says: new RegExp(`${arg} "te\\\\u0000st" contains a NUL character`),
    },
  ];
}

/** Cases for an options argument at `index` with a boolean field `flag`. */
function optionCases(name: string, fn: Fn, args: unknown[], index: number, flag: string): Case[] {
  const at = (value: unknown) => args.map((a, i) => i === index ? value : a);
  return [
    ...notAnObject.map((bad) => ({
      label: `${name}(options: ${Deno.inspect(bad)})`,
      call: () => fn(...at(bad)),
      error: TypeError,
      says: /options must be an object, got /,
    })),
    ...["yes", 1, {}].map((bad) => ({
      label: `${name}(options: { ${flag}: ${Deno.inspect(bad)} })`,
      call: () => fn(...at({ [flag]: bad })),
      error: TypeError,
      says: new RegExp(`options\\.${flag} must be a boolean, got `),
    })),
  ];
}

const DOMAIN_XML =
  "<domain type='test'><name>args-x</name><memory>1024</memory><os><type>hvm</type></os></domain>";
const NETWORK_XML = "<network><name>args-x</name></network>";
const POOL_XML = "<pool type='dir'><name>args-x</name><target><path>/nonexistent</path></target></pool>";
const VOLUME_XML = "<volume><name>args-x</name><capacity>1</capacity></volume>";

const cases: Case[] = [];
const add = (...more: Case[]) => cases.push(...more);

// domains: lookup by name, UUID or id
for (const [name, fn] of [["lookupDomain", lookupDomain], ["lookupDomainSync", lookupDomainSync]] as const) {
  const f = fn as Fn;
  add(...connectionCases(name, f, ["test"]));
  for (const bad of [undefined, null, {}, true, ["test"], 10n]) {
    add({
      label: `${name}(conn, ${Deno.inspect(bad)})`,
      call: () => f(conn, bad),
      error: TypeError,
      says: /key must be a name, a UUID string or a domain id \(number\), got /,
    });
  }
  for (const bad of [2 ** 40, 2 ** 31, -1, -(2 ** 40), 1.5, NaN, Infinity]) {
    add({
      label: `${name}(conn, ${bad})`,
      call: () => f(conn, bad),
      error: RangeError,
      says: /key must be a domain id, an integer from 0 to 2147483647, got /,
    });
  }
  add(
    { label: `${name}(conn, "")`, call: () => f(conn, ""), error: RangeError, says: /key must not be empty/ },
    {
      label: `${name}(conn, "te\\0st")`,
      call: () => f(conn, NUL),
      error: TypeError,
      says: /key "te\\u0000st" contains a NUL character/,
    },
    ...optionCases(name, f, [conn, "test", {}], 2, "fresh"),
  );
}
for (
  const [name, fn] of [["listAllDomains", listAllDomains], [
    "listAllDomainsSync",
    listAllDomainsSync,
  ]] as const
) {
  const f = fn as Fn;
  add(...connectionCases(name, f, []), ...optionCases(name, f, [conn, {}], 1, "active"));
  for (const flag of ["persistent", "hasManagedSave", "autostart", "hasSnapshot"]) {
    add({
      label: `${name}(conn, { ${flag}: "true" })`,
      call: () => f(conn, { [flag]: "true" }),
      error: TypeError,
      says: new RegExp(`options\\.${flag} must be a boolean`),
    });
  }
  add(
    {
      label: `${name}(conn, { state: "on" })`,
      call: () => f(conn, { state: "on" }),
      error: RangeError,
      says: /options\.state must be one of "running", "paused", "shutoff", "other", got "on"/,
    },
    {
      label: `${name}(conn, { state: 1 })`,
      call: () => f(conn, { state: 1 }),
      error: TypeError,
      says: /options\.state must be one of .*, got 1/,
    },
  );
}
for (const [name, fn] of [["defineDomain", defineDomain], ["createDomain", createDomain]] as const) {
  const f = fn as Fn;
  add(...connectionCases(name, f, [DOMAIN_XML]), ...stringCases(name, f, [conn, DOMAIN_XML], 1, "xml"));
}
add(...optionCases("createDomain", createDomain as Fn, [conn, DOMAIN_XML, {}], 2, "paused"));

// networks
add(
  ...connectionCases("lookupNetwork", lookupNetwork as Fn, ["default"]),
  ...stringCases("lookupNetwork", lookupNetwork as Fn, [conn, "default"], 1, "key"),
  ...connectionCases("listAllNetworks", listAllNetworks as Fn, []),
  ...optionCases("listAllNetworks", listAllNetworks as Fn, [conn, {}], 1, "persistent"),
);
for (const [name, fn] of [["defineNetwork", defineNetwork], ["createNetwork", createNetwork]] as const) {
  add(
    ...connectionCases(name, fn as Fn, [NETWORK_XML]),
    ...stringCases(name, fn as Fn, [conn, NETWORK_XML], 1, "xml"),
  );
}

// storage
add(
  ...connectionCases("lookupStoragePool", lookupStoragePool as Fn, ["default-pool"]),
  ...stringCases("lookupStoragePool", lookupStoragePool as Fn, [conn, "default-pool"], 1, "key"),
  ...connectionCases("listAllStoragePools", listAllStoragePools as Fn, []),
  ...optionCases("listAllStoragePools", listAllStoragePools as Fn, [conn, {}], 1, "autostart"),
  ...connectionCases("lookupVolumeByPath", lookupVolumeByPath as Fn, ["/x"]),
  ...stringCases("lookupVolumeByPath", lookupVolumeByPath as Fn, [conn, "/x"], 1, "path"),
);
for (
  const [name, fn] of [["defineStoragePool", defineStoragePool], [
    "createStoragePool",
    createStoragePool,
  ]] as const
) {
  add(
    ...connectionCases(name, fn as Fn, [POOL_XML]),
    ...stringCases(name, fn as Fn, [conn, POOL_XML], 1, "xml"),
  );
}
const poolCases = (name: string, fn: Fn, rest: unknown[]): Case[] =>
  [undefined, conn, dom, "default-pool"].map((bad) => ({
    label: `${name}(${Deno.inspect(bad)}, ...)`,
    call: () => fn(bad, ...rest),
    error: TypeError,
    says: /pool must be a StoragePool \(from lookupStoragePool\(\) or listAllStoragePools\(\)\), got /,
  }));
add(
  ...poolCases("lookupVolume", lookupVolume as Fn, ["x"]),
  ...stringCases("lookupVolume", lookupVolume as Fn, [pool, "x"], 1, "name"),
  ...poolCases("listVolumes", listVolumes as Fn, []),
  ...poolCases("createVolume", createVolume as Fn, [VOLUME_XML]),
  ...stringCases("createVolume", createVolume as Fn, [pool, VOLUME_XML], 1, "xml"),
);
for (
  const [name, fn, args] of [["createStoragePool", createStoragePool, [conn, POOL_XML]], [
    "createVolume",
    createVolume,
    [pool, VOLUME_XML],
  ]] as const
) {
  for (
    const [bad, error, says] of [
      ["1", TypeError, /flags must be a number, got "1"/],
      [-1, RangeError, /flags must be an integer from 0 to 4294967295, got -1/],
      [2 ** 40, RangeError, /flags must be an integer from 0 to 4294967295, got 1099511627776/],
      [0.5, RangeError, /flags must be an integer/],
    ] as const
  ) {
    add({
      label: `${name}(..., flags: ${Deno.inspect(bad)})`,
      call: () => (fn as Fn)(...args, bad),
      error,
      says,
    });
  }
}

// snapshots
const domainCases = (name: string, fn: Fn, rest: unknown[]): Case[] =>
  [undefined, conn, pool, "test"].map((bad) => ({
    label: `${name}(${Deno.inspect(bad)}, ...)`,
    call: () => fn(bad, ...rest),
    error: TypeError,
    says: /domain must be a Domain \(from lookupDomain\(\) or listAllDomains\(\)\), got /,
  }));
add(
  ...domainCases("lookupSnapshot", lookupSnapshot as Fn, ["a"]),
  ...stringCases("lookupSnapshot", lookupSnapshot as Fn, [dom, "a"], 1, "name"),
  ...domainCases("listSnapshots", listSnapshots as Fn, []),
  ...optionCases("listSnapshots", listSnapshots as Fn, [dom, {}], 1, "roots"),
  ...domainCases("snapshotTree", snapshotTree as Fn, []),
  ...domainCases("currentSnapshot", currentSnapshot as Fn, []),
  ...domainCases("createSnapshot", createSnapshot as Fn, [{}]),
  ...optionCases("createSnapshot", createSnapshot as Fn, [dom, {}], 1, "atomic"),
  {
    label: "createSnapshot(dom, { name: 42 })",
    call: () => createSnapshot(dom, { name: 42 as unknown as string }),
    error: TypeError,
    says: /options\.name must be a string, got 42/,
  },
  {
    label: 'createSnapshot(dom, { description: "a\\0b" })',
    call: () => createSnapshot(dom, { description: "a\0b" }),
    error: TypeError,
    says: /options\.description "a\\u0000b" contains a NUL character/,
  },
);

Deno.test("entry points refuse garbage arguments with a TypeError/RangeError naming the argument", async () => {
  const wrong: string[] = [];
  for (const c of cases) {
    let thrown: unknown;
    try {
      await c.call();
    } catch (error) {
      thrown = error;
    }
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    if (
      !(thrown instanceof c.error) || thrown.constructor !== c.error || !/^Cannot [a-z]/.test(message) ||
      !c.says.test(message)
    ) {
      wrong.push(
        `${c.label}: ${thrown === undefined ? "did not throw" : `${(thrown as Error).name}: ${message}`}`,
      );
    }
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${cases.length} cases`);
  assert.ok(cases.length > 200, `${cases.length} cases`);
});

Deno.test("entry points still accept what they always did (the table's valid baselines)", async () => {
  using byName = await lookupDomain(conn, "test");
  using byId = await lookupDomain(conn, byName.id!);
  using byUuid = lookupDomainSync(conn, byName.uuid, { fresh: true });
  assert.deepEqual([byId.name, byUuid.name], ["test", "test"]);
  for (const d of await listAllDomains(conn, { active: true, state: "running" })) d.free();
  for (const d of listAllDomainsSync(conn, {})) d.free();
  using network = await lookupNetwork(conn, "default");
  for (const n of await listAllNetworks(conn, { persistent: true })) n.free();
  for (const p of await listAllStoragePools(conn, { autostart: undefined })) p.free();
  for (const v of await listVolumes(pool)) v.free();
  assert.deepEqual(await listSnapshots(dom, { roots: false }), []);
  assert.deepEqual(await snapshotTree(dom), []);
  assert.equal(await currentSnapshot(dom), undefined);
  assert.equal(network.name, "default");
});

globalThis.addEventListener("unload", () => {
  pool.free();
  dom.free();
  conn.closeSync();
});
