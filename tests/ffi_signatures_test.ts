// The compact symbol tables (lib/ffi/_generated/signatures.ts) the library binds from must say exactly
// what the object tables (lib/ffi/_generated/symbols.ts) say, entry by entry; and the lazy symbols
// object built on them must bind each entry once, on its first read, without touching the others.
import assert from "node:assert/strict";
import { libvirtQemuSymbols, libvirtSymbols } from "../lib/ffi/_generated/symbols.ts";
import { LIBVIRT_QEMU_SIGNATURES, LIBVIRT_SIGNATURES } from "../lib/ffi/_generated/signatures.ts";
import { decodeSignature, signatureKeys } from "../lib/ffi/_signatures.ts";
import { lazySymbols, PROMOTE_AFTER, runBlocking } from "../lib/ffi/_lazy.ts";
import { libvirt } from "../lib/ffi/library.ts";

const tables = [
  ["libvirt", LIBVIRT_SIGNATURES, libvirtSymbols],
  ["libvirt-qemu", LIBVIRT_QEMU_SIGNATURES, libvirtQemuSymbols],
] as const;

Deno.test("signatures: every key decodes to the object table's entry, and no other key exists", () => {
  for (const [lib, compact, objects] of tables) {
    const table = objects as Record<string, unknown>;
    assert.deepEqual(signatureKeys(compact), Object.keys(table), `${lib}: the same keys, in order`);
    for (const key of Object.keys(table)) assert.deepEqual(decodeSignature(compact, key), table[key], key);
  }
  // a process-local call has no twin; a prefix of a name is not a name
  assert.equal(decodeSignature(LIBVIRT_SIGNATURES, "virGetVersionAsync"), undefined);
  assert.equal(decodeSignature(LIBVIRT_SIGNATURES, "virDomainGet"), undefined);
  assert.equal(decodeSignature(LIBVIRT_SIGNATURES, "nothing"), undefined);
});

Deno.test("signatures: a malformed line names itself", () => {
  assert.throws(
    () => decodeSignature("\nvirX|pq|i|\n", "virX"),
    /Cannot decode FFI type "q" in signature "virX\|pq\|i\|"/,
  );
});

Deno.test("lazySymbols: an entry binds on its first read only; `in` knows every key; others read undefined", () => {
  const path = libvirt().path;
  const symbols = lazySymbols<typeof libvirtSymbols>(path, LIBVIRT_SIGNATURES, ["virGetVersion"]);
  // eager: the function and its twin (virGetVersion has none) are own properties already
  assert.deepEqual(Object.keys(symbols), ["virGetVersion"]);
  assert.ok("virDomainGetState" in symbols && "virDomainGetStateAsync" in symbols);
  assert.ok(!("virGetVersionAsync" in symbols) && !("toJSON" in symbols));
  assert.equal((symbols as unknown as Record<string, unknown>).toJSON, undefined);
  const first = symbols.virDomainGetStateAsync;
  assert.equal(typeof first, "function");
  assert.equal(symbols.virDomainGetStateAsync, first, "bound once, then an own property");
  assert.deepEqual(Object.keys(symbols), ["virGetVersion", "virDomainGetStateAsync"]);
  const version = new BigUint64Array(1);
  assert.equal(symbols.virGetVersion(new Uint8Array(version.buffer), null, null), 0);
  assert.ok(version[0] >= 6_000_000n);
});

Deno.test("signatures: an optional function carries the release that added it; twins name their C function", async () => {
  const { FUNCTION_VERSIONS } = await import("../lib/ffi/_generated/versions.ts");
  const { MINIMUM_LIBVIRT_VERSION } = await import("../lib/ffi/_version.ts");
  const { signatureFunctionName, signatureSince } = await import("../lib/ffi/_signatures.ts");
  const { cFunctionName } = await import("../lib/ffi/optional.ts");
  let optional = 0;
  for (const [name, since] of Object.entries(FUNCTION_VERSIONS)) {
    const compact = name in libvirtQemuSymbols ? LIBVIRT_QEMU_SIGNATURES : LIBVIRT_SIGNATURES;
    const [major, minor, micro] = since.split(".").map(Number);
    const newer = major * 1_000_000 + minor * 1_000 + micro > MINIMUM_LIBVIRT_VERSION;
    assert.equal(signatureSince(compact, name), newer ? since : undefined, name);
    if (newer) optional++;
    assert.equal(cFunctionName(name), name);
    if (`${name}Async` in (compact === LIBVIRT_SIGNATURES ? libvirtSymbols : libvirtQemuSymbols)) {
      assert.equal(signatureFunctionName(compact, `${name}Async`), name);
      assert.equal(cFunctionName(`${name}Async`), name);
    }
  }
  assert.ok(optional > 0);
});

/**
 * libc's symbols resolved from its own handle (as lib/ffi/library.ts resolves libvirt's), and every
 * Deno.dlopen's symbol names recorded in `opened` until `restore()`: what a lazySymbols test watches.
 */
function spiedLibc(): { resolve: (name: string) => Deno.PointerValue; opened: string[]; restore(): void } {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
      dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
    } as const,
  );
  const encode = (text: string) => new TextEncoder().encode(text + "\0");
  const self = libc.symbols.dlopen(encode("libc.so.6"), 2);
  const opened: string[] = [];
  const dlopen = Deno.dlopen;
  Deno.dlopen = ((path: string, symbols: Record<string, unknown>) => {
    opened.push(...Object.keys(symbols));
    return dlopen(path, symbols as Deno.ForeignLibraryInterface);
  }) as typeof Deno.dlopen;
  return {
    resolve: (name) => libc.symbols.dlsym(self, encode(name)),
    opened,
    restore: () => {
      Deno.dlopen = dlopen;
      libc.close();
    },
  };
}

Deno.test("lazySymbols: a nonblocking entry bound from its address is bound by dlopen once it is hot", async () => {
  const table = {
    getpid: { parameters: [], result: "i32" },
    getpidAsync: { name: "getpid", parameters: [], result: "i32", nonblocking: true },
    abs: { parameters: ["i32"], result: "i32" },
    absAsync: { name: "abs", parameters: ["i32"], result: "i32", nonblocking: true },
  } as const;
  const { resolve, opened, restore } = spiedLibc();
  try {
    const symbols = lazySymbols("libc.so.6", table, [], resolve);
    for (let i = 1; i < PROMOTE_AFTER; i++) assert.equal(await symbols.absAsync(-i), i);
    assert.deepEqual(opened, [], "through the pointer: no dlopen yet");
    for (let i = 0; i < 5; i++) assert.equal(await symbols.absAsync(-7 - i), 7 + i);
    assert.deepEqual(opened, ["absAsync"], "bound again once, by its own dlopen");
    assert.equal(await symbols.getpidAsync(), Deno.pid);
    // inside runBlocking the blocking twin runs, whichever binding the entry has now; the twin binds
    // from its address too
    assert.equal(await runBlocking(() => symbols.absAsync(-3)), 3);
    assert.deepEqual(opened, ["absAsync"]);
  } finally {
    restore();
  }
});

Deno.test("lazySymbols: a blocking entry binds from its address too, and by dlopen once it is hot", () => {
  const table = {
    abs: { parameters: ["i32"], result: "i32" },
    labs: { parameters: ["i64"], result: "i64" },
  } as const;
  const { resolve, opened, restore } = spiedLibc();
  try {
    // eager or not: from the address (a one-shot script binds ~25 entries, 0.03 ms each instead of
    // 0.25-0.6 ms for a dlopen that compiles a trampoline)
    const symbols = lazySymbols(
      "libc.so.6",
      table,
      ["labs"],
      resolve,
    );
    assert.deepEqual(Object.keys(symbols), ["labs"]);
    for (let i = 1; i < PROMOTE_AFTER; i++) assert.equal(symbols.abs(-i), i);
    assert.equal(symbols.labs(-5n), 5n);
    assert.deepEqual(opened, [], "through the pointer: no dlopen yet");
    for (let i = 0; i < 5; i++) assert.equal(symbols.abs(-7 - i), 7 + i);
    assert.deepEqual(opened, ["abs"], "bound again once, by its own dlopen (V8's fast call path)");
  } finally {
    restore();
  }
});
