// C typedefs as FFI type aliases, so that the symbol tables read like libvirt's headers.
// Private to lib/ffi/: nothing above this folder deals in native types.

/** `virConnectPtr`, `virDomainPtr`, ...: opaque libvirt object pointers. */
export const ptr = "pointer" as const;
/** `const char *` we pass in: a NUL-terminated UTF-8 buffer from {@link cString}. */
export const cstr = "buffer" as const;
/** An out-parameter (`T *`, `T **`): a per-call buffer the callee writes into. */
export const out = "buffer" as const;
/** A C function pointer (`virErrorFunc`, `virConnectAuthCallbackPtr`, ...). */
export const fn = "function" as const;
export const int = "i32" as const;
export const uint = "u32" as const;
export const ulong = "u64" as const;
export const ulonglong = "u64" as const;
export const voidT = "void" as const;

/** Marks an entry as an I/O-capable call: {@link withNonblocking} adds an `...Async` twin for it. */
export interface IoSymbol extends Deno.ForeignFunction {
  readonly io: true;
}

/** The `<name>Async` keys {@link withNonblocking} adds: each I/O-capable call, run on Deno's blocking pool. */
type AsyncTwins<T extends Record<string, Deno.ForeignFunction>> = {
  [K in keyof T & string as T[K] extends IoSymbol ? `${K}Async` : never]: Omit<T[K], "io"> & {
    name: K;
    nonblocking: true;
  };
};

/**
 * Returns the table plus, for each entry marked `io: true`, a nonblocking twin named `<name>Async`
 * bound to the same C function. Sync variants stay for the in-process drivers (test:///), where a
 * thread hop would cost ten times the call itself (see docs/design.md).
 */
export function withNonblocking<T extends Record<string, Deno.ForeignFunction>>(
  table: T,
): { [K in keyof T]: Omit<T[K], "io"> } & AsyncTwins<T> {
  // deno-lint-ignore no-explicit-any
  const result: Record<string, any> = {};
  for (const [key, def] of Object.entries(table)) {
    const { io, ...plain } = def as Deno.ForeignFunction & { io?: boolean };
    result[key] = plain;
    if (io) result[`${key}Async`] = { ...plain, name: key, nonblocking: true };
  }
  // deno-lint-ignore no-explicit-any
  return result as any;
}
