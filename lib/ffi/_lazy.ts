// Symbols bound on first use. Deno compiles a call trampoline for every symbol a table names when it
// is dlopen'ed (measured here: 140-270 ms for the 909 entries of the generated tables, 40-125 ms for
// the 222 hand-written ones they replace), while a script uses a few dozen at most. So each entry
// is bound alone when it is first read: from the function's address when the caller can look it up
// (dlsym + Deno.UnsafeFnPointer: 0.03 ms, against 0.25-0.6 ms for a dlopen of one symbol, which
// compiles its trampoline), else by its own small dlopen of the same library (the dynamic loader
// returns the copy already mapped). A function's two twins bind apart: the blocking twin of a call
// made nonblocking is bound only if something runs it blocking (runBlocking) or calls it directly.
//
// A call through an UnsafeFnPointer costs more than one through a dlopen'ed symbol, though: Deno
// deserializes the definition and builds the libffi call interface on every call (a nonblocking one
// also clones it on the blocking-pool thread: measured on the pool benchmark's two calls, +1.3-5 µs of
// the main thread and +7-15 µs of the pool's threads per operation), and a blocking one misses V8's
// fast call path. So an entry bound from its address is bound again by its own dlopen once it has been
// called PROMOTE_AFTER times: a one-shot script never pays the dlopen (a one-shot vm_ip.ts binds ~25
// entries, 11 of them blocking), a pool or a range pays it once per hot symbol.
//
// The returned object starts empty; its prototype is a Proxy that binds a key on its first read and
// stores the function as an own data property of the object, so later reads are ordinary property
// reads that never reach the Proxy. (The first design defined ~1,800 accessors on the object and
// replaced each by a data property when bound: V8 copies the object's whole descriptor array for
// every such redefinition, 2-4 ms per bound symbol, 50-90 ms of a one-shot script's start.)
import { decodeSignature, type SymbolDefinition } from "./_signatures.ts";

/**
 * Returns an object shaped like `Deno.dlopen(path, table).symbols` whose entries are bound on first
 * access. The libraries opened stay open as long as the process (libvirt is never unloaded).
 *
 * Each entry binds alone (a function's blocking and `...Async` twins are two entries: a script that
 * calls one does not pay for the other). With `resolve`, an entry binds from the symbol's address
 * (`Deno.UnsafeFnPointer`, cheaper than a dlopen) and is bound again by a dlopen of its own once it has
 * been called {@link PROMOTE_AFTER} times (which gives a blocking one V8's fast call path); without,
 * by a dlopen. `key in symbols` is true for every key of the table; the object's own keys are the
 * entries bound so far.
 *
 * @param path the library to bind from, as given to dlopen
 * @param table the symbol table: an object table (as `Deno.dlopen` takes), or a compact one (a
 *   generated `..._SIGNATURES` string, see lib/ffi/_signatures.ts), decoded entry by entry
 * @param eager keys to bind now (those every process calls at once, so the first call does not pay
 *   for binding: opening a connection and reading its errors); without `resolve`, in one dlopen
 * @param resolve the address of a C function in the library (dlsym), or null when it has none
 * @returns the lazily bound symbols
 * @throws {Error} from Deno.dlopen, on first access, when a non-optional symbol is missing
 *
 * @example
 * ```ts
 * import { lazySymbols } from "./_lazy.ts";
 * const libc = lazySymbols("libc.so.6", { getpid: { parameters: [], result: "i32" } });
 * console.log(libc.getpid() === Deno.pid); // true: bound on this first read
 * ```
 */
export function lazySymbols<const S extends Deno.ForeignLibraryInterface>(
  path: string,
  table: S | string,
  eager: readonly string[] = [],
  resolve?: (cName: string) => Deno.PointerValue,
): Deno.DynamicLibrary<S>["symbols"] {
  const definitionOf = typeof table === "string"
    ? (key: string) => decodeSignature(table, key)
    : (key: string) => Object.hasOwn(table, key) ? table[key] as SymbolDefinition : undefined;
  const symbols: Record<string, unknown> = Object.create(unboundKeys(definitionOf, (key) => {
    const def = definitionOf(key);
    if (def === undefined) return undefined;
    bind(key, def);
    return symbols[key];
  }));
  const cNameOf = (key: string, def: SymbolDefinition) => String(def.name ?? key);
  const define = (key: string, value: unknown) =>
    Object.defineProperty(symbols, key, { value, enumerable: true, writable: false });
  // an `...Async` entry's blocking twin, for runBlocking: bound on its first such use, the result
  // wrapped in a resolved promise
  const twinOf = (key: string): Call | undefined => {
    const base = key.endsWith("Async") ? key.slice(0, -"Async".length) : undefined;
    if (base === undefined || definitionOf(base) === undefined) return undefined;
    return (...args: unknown[]) => Promise.resolve((symbols[base] as Call)(...args));
  };
  const dlopenOne = (key: string, def: SymbolDefinition): unknown => {
    const lib = Deno.dlopen(path, { [key]: def } as Deno.ForeignLibraryInterface);
    opened.push(lib);
    return lib.symbols[key];
  };
  const bind = (key: string, def: SymbolDefinition): void => {
    if (resolve) {
      const pointer = resolve(cNameOf(key, def));
      if (pointer !== null) {
        const fn = new Deno.UnsafeFnPointer(pointer as Deno.PointerObject<Deno.ForeignFunction>, def);
        const viaPointer = fn.call.bind(fn) as Call;
        const twin = def.nonblocking ? twinOf(key) : undefined;
        define(key, promotingEntry(def, viaPointer, twin, () => dlopenOne(key, def) as Call));
        return;
      }
      if (def.optional) {
        define(key, null);
        return;
      }
      // not found: the dlopen below fails with Deno's own message naming the symbol
    }
    const bound = dlopenOne(key, def);
    define(key, def.nonblocking ? promotingEntry(def, bound as Call, twinOf(key)) : bound);
  };
  const opened: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[] = [];
  // eager entries bind from their address, as on first use; without `resolve`, in one dlopen (one
  // library handle for all)
  const now: [string, SymbolDefinition][] = [];
  for (const key of eager) {
    const def = definitionOf(key);
    if (def === undefined) continue;
    if (resolve) bind(key, def);
    else now.push([key, def]);
  }
  if (now.length > 0) {
    const lib = Deno.dlopen(path, Object.fromEntries(now) as Deno.ForeignLibraryInterface);
    opened.push(lib);
    for (const [k, def] of now) {
      define(k, def.nonblocking ? promotingEntry(def, lib.symbols[k] as Call, twinOf(k)) : lib.symbols[k]);
    }
  }
  return symbols as Deno.DynamicLibrary<S>["symbols"];
}

/**
 * An entry that calls `first` until it has been called {@link PROMOTE_AFTER} times, then what `promote`
 * binds (when given: `first` is an UnsafeFnPointer's call); inside {@link runBlocking}, an `...Async`
 * entry runs `twin`, its blocking twin, on the calling thread instead. Arguments pass without a rest
 * array of ours for up to 6 parameters.
 */
function promotingEntry(def: SymbolDefinition, first: Call, twin?: Call, promote?: () => Call): Call {
  let target = first;
  let calls = promote === undefined ? PROMOTE_AFTER : 0;
  const pick = (): Call => {
    if (calls < PROMOTE_AFTER && ++calls === PROMOTE_AFTER) {
      try {
        target = promote!();
      } catch {
        // keep calling through the pointer: it works, only slower
      }
    }
    return blocking > 0 && twin !== undefined ? twin : target;
  };
  switch (def.parameters.length) {
    case 0:
      return () => pick()();
    case 1:
      return (a) => pick()(a);
    case 2:
      return (a, b) => pick()(a, b);
    case 3:
      return (a, b, c) => pick()(a, b, c);
    case 4:
      return (a, b, c, d) => pick()(a, b, c, d);
    case 5:
      return (a, b, c, d, e) => pick()(a, b, c, d, e);
    case 6:
      return (a, b, c, d, e, f) => pick()(a, b, c, d, e, f);
    default:
      return (...args) => pick()(...args);
  }
}

/** A bound FFI function, as called here. */
type Call = (...args: unknown[]) => unknown;

/**
 * How many calls an entry bound from its address makes before it is bound by a dlopen of its own (see
 * the module comment): past the few calls of a one-shot script, early in any loop.
 */
export const PROMOTE_AFTER = 32;

/**
 * The prototype of a lazy symbols object: reading a key the table has binds it (`bindKey` stores it
 * on the object and returns it); `in` answers for every key of the table; other keys read undefined.
 */
function unboundKeys(
  definitionOf: (key: string) => SymbolDefinition | undefined,
  bindKey: (key: string) => unknown,
): object {
  return new Proxy(Object.create(null), {
    get: (_target, key) => typeof key === "string" ? bindKey(key) : undefined,
    has: (_target, key) => typeof key === "string" && definitionOf(key) !== undefined,
  });
}

let blocking = 0;

/**
 * Runs `fn` with every `...Async` symbol it calls synchronously (before its first `await`) running as
 * its blocking twin: the call runs on the calling thread, without the hop to Deno's blocking pool. For
 * connections opened with `blocking: true` (lib/connection.ts): a sequential script on a local socket,
 * where the hop costs more than it saves. Blocks the isolate for the call's duration.
 *
 * @param fn the call, typically `() => libvirt().symbols.virDomainGetStateAsync(h, ...)`
 * @returns what `fn` returns
 */
export function runBlocking<T>(fn: () => T): T {
  blocking++;
  try {
    return fn();
  } finally {
    blocking--;
  }
}
