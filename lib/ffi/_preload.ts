// libvirt's dynamic linking, started on a thread of Deno's blocking pool by a module that loads nothing
// else. Linking libvirt and its ~55 libraries takes 10-14 ms (the relocations virsh pays at exec), the
// longest single step of a one-shot query; a script that starts it from its first statement, before it
// loads the code that makes the calls, overlaps the two. A one-shot script's bundle costs Deno ~4 ms to
// load before the bundle's own first statement runs, so the script starts the link from a small entry
// module that imports only this one, then loads its bundle with import() (scripts/vm_ip.ts;
// docs/benchmarks.md, "Session h11-vmip3"). lib/ffi/library.ts takes its path rules from here.

/** The environment variable that overrides where libvirt is loaded from. */
export const LIBRARY_PATH_ENV = "DENO_LIBVIRT_PATH";

/** libvirt's soname: what is loaded when {@link LIBRARY_PATH_ENV} is not set. */
export const DEFAULT_LIBRARY = "libvirt.so.0";

/** dlopen's RTLD_LAZY: functions resolve at their first call, as Deno.dlopen loads. */
export const RTLD_LAZY = 1;

/** The override of {@link LIBRARY_PATH_ENV}, read only where permission is already granted (no prompt). */
export function configuredPath(): string | undefined {
  // --allow-env stays optional: without it the default library loads
  const state = Deno.permissions.querySync?.({ name: "env", variable: LIBRARY_PATH_ENV }).state;
  if (state !== "granted") return undefined;
  const value = Deno.env.get(LIBRARY_PATH_ENV);
  return value === undefined || value === "" ? undefined : value;
}

/** A C string: the text and its terminating NUL. */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
}

/** libc's dlopen bound nonblocking: the call runs on a thread of Deno's blocking pool. */
export type BackgroundDlopen = (filename: Uint8Array, flags: number) => Promise<Deno.PointerValue>;

/**
 * Starts dlopen of libvirt (RTLD_LAZY | RTLD_LOCAL, as Deno.dlopen opens) on a thread of the blocking
 * pool and returns at once. The handle is never closed: libvirt is never unloaded, and the later dlopen
 * that binds the symbols (lib/ffi/library.ts) finds the library mapped, or waits on the dynamic
 * linker's lock until this one is done. Does nothing without `--allow-ffi` granted (it never prompts)
 * and never fails: a missing or wrong library is reported by that later load, with its fix.
 *
 * While the link runs, a dlopen or dlsym on another thread waits for it (the linker's lock): a caller
 * that needs libc's functions bound binds them first and passes its own `dlopen`.
 *
 * @param dlopen libc's dlopen bound nonblocking; by default one is bound here (one Deno.dlopen)
 * @returns settled when the link has finished, whatever its outcome (never rejected)
 */
export function linkLibvirtInBackground(dlopen?: BackgroundDlopen): Promise<void> {
  try {
    if (Deno.permissions.querySync?.({ name: "ffi" }).state !== "granted") return Promise.resolve();
    const open = dlopen ?? Deno.dlopen(
      "libc.so.6",
      {
        dlopen: { parameters: ["buffer", "i32"], result: "pointer", nonblocking: true },
      } as const,
    ).symbols.dlopen;
    return open(cString(configuredPath() ?? DEFAULT_LIBRARY), RTLD_LAZY).then(() => {}, () => {});
  } catch {
    return Promise.resolve(); // libc not found by that name: the library loads on the main thread later
  }
}
