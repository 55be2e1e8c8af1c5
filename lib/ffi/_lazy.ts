// Symbols bound on first use. Deno compiles a call trampoline for every symbol a table names when it
// is dlopen'ed (measured here: 140-270 ms for the 909 entries of the generated tables, 40-125 ms for
// the 222 hand-written ones they replace), while a script uses a few dozen at most. So
// each function (with its `...Async` twin) is bound by its own small dlopen of the same library (the
// dynamic loader returns the copy already mapped) when it is first read, and the getter is then
// replaced by the plain function: later reads are ordinary property reads.

/**
 * Returns an object shaped like `Deno.dlopen(path, table).symbols` whose entries are bound on first
 * access. The libraries opened stay open as long as the process (libvirt is never unloaded).
 *
 * @param path the library to bind from, as given to dlopen
 * @param table the symbol table
 * @param eager C functions to bind now, in one dlopen (those every process calls at once, so the
 *   first call does not pay for binding: opening a connection and reading its errors)
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
  table: S,
  eager: readonly string[] = [],
): Deno.DynamicLibrary<S>["symbols"] {
  const groups = new Map<string, string[]>();
  for (const [key, def] of Object.entries(table)) {
    const cName = (def as Deno.ForeignFunction).name ?? key;
    const keys = groups.get(String(cName));
    if (keys === undefined) groups.set(String(cName), [key]);
    else keys.push(key);
  }
  const symbols: Record<string, unknown> = {};
  const opened: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>[] = [];
  for (const keys of groups.values()) {
    const bind = (): void => {
      const subset = Object.fromEntries(keys.map((k) => [k, table[k]]));
      const lib = Deno.dlopen(path, subset);
      opened.push(lib);
      for (const k of keys) {
        Object.defineProperty(symbols, k, {
          value: blockable(k, lib.symbols),
          enumerable: true,
          writable: false,
        });
      }
    };
    for (const key of keys) {
      Object.defineProperty(symbols, key, {
        configurable: true,
        enumerable: true,
        get() {
          bind();
          return symbols[key];
        },
      });
    }
  }
  const now = eager.flatMap((cName) => groups.get(cName) ?? []);
  if (now.length > 0) {
    const lib = Deno.dlopen(path, Object.fromEntries(now.map((k) => [k, table[k]])));
    opened.push(lib);
    for (const k of now) {
      Object.defineProperty(symbols, k, { value: lib.symbols[k], enumerable: true, writable: false });
    }
  }
  return symbols as Deno.DynamicLibrary<S>["symbols"];
}

let blocking = 0;

/**
 * A nonblocking `...Async` twin that, inside {@link runBlocking}, runs its blocking twin on the calling
 * thread instead (the result wrapped in a resolved promise); every other symbol as bound.
 */
function blockable(key: string, bound: Record<string, unknown>): unknown {
  const base = key.endsWith("Async") ? key.slice(0, -"Async".length) : undefined;
  if (base === undefined || !(base in bound)) return bound[key];
  const nonblocking = bound[key] as (...args: unknown[]) => Promise<unknown>;
  const sync = bound[base] as (...args: unknown[]) => unknown;
  return (...args: unknown[]) => blocking > 0 ? Promise.resolve(sync(...args)) : nonblocking(...args);
}

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
