/**
 * Counts libvirt calls: wraps every I/O-capable symbol of the loaded library (those with an `...Async`
 * twin, i.e. the calls that may be a round trip to a daemon) in a counter, runs `fn`, and restores the
 * originals. Calls are counted by C function (`virDomainCreateWithFlags`, whether sync or async).
 * For benchmarks and profiling only: the counters are process-wide.
 *
 * @module
 */
import { libvirt } from "../lib/ffi/library.ts";

type Table = Record<string, unknown>;

/** Options for {@link countRpcs}. */
export interface CountOptions {
  /** Count the local C calls too (virDomainRef, virDomainFree, virDomainGetName, ...), not only I/O. */
  local?: boolean;
}

/**
 * Runs `fn` with every libvirt I/O call counted.
 *
 * @param fn the work to measure
 * @param options `local: true` counts every C function, local ones too
 * @returns calls per C function name
 * @example
 * ```ts ignore
 * const counts = await countRpcs(() => startDomain(dom));
 * ```
 */
export async function countRpcs(
  fn: () => Promise<unknown>,
  options: CountOptions = {},
): Promise<Map<string, number>> {
  // `libvirt().symbols` is a getter (the lazily bound table, or its blocking view inside
  // runBlocking): wrap whichever table it returns in a counting copy while fn runs; code reads
  // `libvirt().symbols` per call, so the copy sees every call made meanwhile.
  const loaded = libvirt();
  const descriptor = Object.getOwnPropertyDescriptor(loaded, "symbols")!;
  const read = () => (descriptor.get ? descriptor.get.call(loaded) : descriptor.value) as Table;
  const counts = new Map<string, number>();
  const views = new Map<Table, Table>();
  const counting = (original: Table): Table => {
    let view = views.get(original);
    if (view) return view;
    // a Proxy, not a copy of the keys: the bound table holds only the symbols used so far (the rest
    // bind on first read through its prototype), so every name is looked up when it is read
    // (over an empty target: the bound symbols are read-only data properties, which a Proxy of the
    // table itself would have to return unchanged)
    const target = original;
    view = new Proxy({} as Table, {
      has: (_, key) => key in target,
      get: (_, key) => {
        const f = Reflect.get(target, key);
        if (typeof key !== "string" || typeof f !== "function") return f;
        const base = key.endsWith("Async") ? key.slice(0, -"Async".length) : key;
        const io = options.local === true || key.endsWith("Async") || `${key}Async` in target;
        if (!io) return f;
        return (...args: unknown[]) => {
          counts.set(base, (counts.get(base) ?? 0) + 1);
          return (f as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    views.set(original, view);
    return view;
  };
  Object.defineProperty(loaded, "symbols", {
    configurable: true,
    enumerable: true,
    get: () => counting(read()),
  });
  try {
    await fn();
  } finally {
    Object.defineProperty(loaded, "symbols", descriptor);
  }
  return counts;
}
