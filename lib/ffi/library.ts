// Loading libvirt.so once, lazily, and the process-wide setup that must precede any call:
// the version check and the silencing of libvirt's stderr error printer.
// The symbols bind from the compact tables (lib/ffi/_generated/signatures.ts, decoded per entry on
// first use); the object tables (lib/ffi/_generated/symbols.ts) give only their types here: evaluating
// them costs 35-60 ms at every start. Import `libvirtSymbols` from there to read the definitions.
import type { libvirtSymbols } from "./_generated/symbols.ts";
import { LIBVIRT_SIGNATURES } from "./_generated/signatures.ts";
import { decodeSignature } from "./_signatures.ts";
import { MINIMUM_LIBVIRT_VERSION } from "./_version.ts";
import { lazySymbols, runBlocking } from "./_lazy.ts";
import {
  configuredPath,
  cString as encode,
  DEFAULT_LIBRARY,
  LIBRARY_PATH_ENV,
  linkLibvirtInBackground,
  RTLD_LAZY,
} from "./_preload.ts";

export { MINIMUM_LIBVIRT_VERSION, runBlocking };

const libcSymbols = {
  /** void free(void *ptr) */
  free: { parameters: ["pointer"], result: "void" },
  /** void *malloc(size_t size) */
  malloc: { parameters: ["usize"], result: "pointer" },
  /** uid_t geteuid(void): whose defaults libvirt's clients pick (root: qemu:///system) */
  geteuid: { parameters: [], result: "u32" },
  /** void *dlopen(const char *filename, int flags) */
  dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
  /** void *dlsym(void *handle, const char *symbol) */
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  /** int open(const char *pathname, int flags) */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** off_t lseek(int fd, off_t offset, int whence): SEEK_DATA/SEEK_HOLE map a sparse file's holes */
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
} as const;

export { LIBRARY_PATH_ENV };

// Bound at load (from their addresses, as every symbol): what opening a connection, reading its errors
// and closing it call. Only the twin that runs: a blocking connection's virConnectOpenAuth, keepalive
// and the rest bind on first use.
const EAGER_SYMBOLS = [
  "virConnectOpenAuthAsync",
  "virConnectCloseAsync",
  "virConnectIsAlive",
  "virConnSetErrorFunc",
  "virConnCopyLastError",
  "virResetError",
  "virSetErrorFunc",
];
const RTLD_NOW = 2;

/**
 * Thrown when libvirt.so cannot be loaded or is too old; names every path tried and the fix.
 *
 * @example
 * ```ts
 * import { Connection, LibvirtLoadError } from "@deno-libvirt/deno-libvirt";
 * try {
 *   await (await Connection.open("test:///default")).close();
 * } catch (e) {
 *   if (!(e instanceof LibvirtLoadError)) throw e;
 *   console.error(e.message); // every path tried, and the package to install
 * }
 * ```
 */
export class LibvirtLoadError extends Error {
  /** The library paths that were tried, in order. */
  readonly pathsTried: readonly string[];
  /**
   * Makes the error.
   *
   * @param message what failed and how to fix it
   * @param pathsTried the library paths that were tried, in order
   * @param options the underlying `cause`, when there is one
   */
  constructor(message: string, pathsTried: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "LibvirtLoadError";
    this.pathsTried = pathsTried;
  }
}

/** The loaded libraries and what the process-wide setup found. */
export interface LoadedLibvirt {
  readonly symbols: Deno.DynamicLibrary<typeof libvirtSymbols>["symbols"];
  readonly libc: Deno.DynamicLibrary<typeof libcSymbols>["symbols"];
  /** The path given to dlopen (the env override, or the soname). */
  readonly path: string;
  /** libvirt's version as major * 1,000,000 + minor * 1,000 + release. */
  readonly version: number;
  /** A C function pointer to `virResetError`, a no-op handler that silences a connection's errors. */
  readonly silentErrorHandler: Deno.PointerObject;
}

let loaded: LoadedLibvirt | undefined;

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    // Deno 2 reports a missing --allow-ffi as NotCapable
    ("NotCapable" in Deno.errors &&
      error instanceof (Deno.errors as unknown as { NotCapable: ErrorConstructor }).NotCapable);
}

let preloading: Promise<void> | undefined;

/** The few libc functions the loading itself needs, each called a handful of times. */
interface LibcCore {
  /** dlopen on a thread of the blocking pool: the preload */
  dlopenAsync(filename: Uint8Array, flags: number): Promise<Deno.PointerValue>;
  dlopen(filename: Uint8Array, flags: number): Deno.PointerValue;
  dlsym(handle: Deno.PointerValue, symbol: Uint8Array): Deno.PointerValue;
  /** gives a failed load's handle back: a wrong library does not stay mapped, nor pile up on retries */
  dlclose(handle: Deno.PointerValue): number;
  geteuid(): number;
  /** libc's own handle: its functions are looked up in it, as a dlopen of libc.so.6 binds them */
  handle: Deno.PointerValue;
}
let core: LibcCore | undefined;

/**
 * libc's dlsym and the nonblocking dlopen, in one Deno.dlopen (one trampoline: ~0.3 ms), the rest from
 * their addresses (dlsym + UnsafeFnPointer, ~0.03 ms each). Bound before any background load starts: a
 * dlopen or dlsym on the main thread while the preload's dlopen runs would wait for the dynamic linker's
 * lock (8-15 ms). Throws what Deno.dlopen throws (no --allow-ffi, no libc.so.6).
 */
function libcCore(): LibcCore {
  if (core) return core;
  const { symbols } = Deno.dlopen(
    "libc.so.6",
    {
      dlopen: { parameters: ["buffer", "i32"], result: "pointer", nonblocking: true },
      dlsym: libcSymbols.dlsym,
    } as const,
  );
  const { dlsym } = symbols;
  const fn = <const D extends Deno.ForeignFunction>(handle: Deno.PointerValue, name: string, def: D) => {
    const pointer = dlsym(handle, encode(name));
    if (pointer === null) throw new Error(`Cannot find ${name} in libc.so.6`);
    const f = new Deno.UnsafeFnPointer(pointer as Deno.PointerObject<D>, def);
    return f.call.bind(f) as Deno.UnsafeFnPointer<D>["call"];
  };
  // libc's dlopen, found by the default scope (the executable's: Deno defines no dlopen of its own),
  // opens libc itself for a handle to look the others up in
  const dlopen = fn(null, "dlopen", libcSymbols.dlopen);
  const handle = dlopen(encode("libc.so.6"), RTLD_LAZY);
  if (handle === null) throw new Error("Cannot open libc.so.6");
  return core = {
    dlopenAsync: symbols.dlopen,
    dlopen,
    dlsym,
    geteuid: fn(handle, "geteuid", libcSymbols.geteuid),
    dlclose: fn(handle, "dlclose", { parameters: ["pointer"], result: "i32" } as const),
    handle,
  };
}

/**
 * Starts loading libvirt's shared library on a thread of Deno's blocking pool and returns at once. The
 * dynamic linking of libvirt and its ~55 libraries (8-10 ms of relocations, which virsh pays at exec)
 * then overlaps whatever the main thread does meanwhile, typically loading the modules that make the
 * calls; the first {@link libvirt} call finds the library mapped (or waits for the loader to finish)
 * and does the rest of the setup as usual. For scripts: call it once the command line is checked, then
 * `import()` the rest. Does nothing without `--allow-ffi` granted (it never prompts), nothing once
 * libvirt is loaded, and never fails: a missing library is reported by {@link libvirt}, as before.
 *
 * @returns a promise settled when the background load has finished (never rejected)
 * @example
 * ```ts
 * import { libvirt, preloadLibvirt } from "./library.ts";
 * const preloaded = preloadLibvirt(); // the dynamic linker works on another thread...
 * const { discoverMany } = await import("../ip/batch.ts"); // ...while these modules load
 * await preloaded;
 * console.log(libvirt().version >= 6_000_000, typeof discoverMany); // true "function"
 * ```
 */
export function preloadLibvirt(): Promise<void> {
  return preloading ??= startPreload();
}

function startPreload(): Promise<void> {
  // never a prompt: without --allow-ffi granted, libvirt() says what is missing when it is called
  if (loaded || Deno.permissions.querySync?.({ name: "ffi" }).state !== "granted") return Promise.resolve();
  let dlopen;
  try {
    dlopen = libcCore().dlopenAsync; // libc bound first: its dlsym would wait for the link's lock
  } catch {
    return Promise.resolve(); // libc by another name: libvirt() loads on the main thread
  }
  return linkLibvirtInBackground(dlopen);
}

/**
 * Loads libvirt (once) and returns its bound symbols.
 *
 * @throws {LibvirtLoadError} when the library is missing, the path is wrong or libvirt is too old.
 * @throws {Deno.errors.NotCapable} untouched when `--allow-ffi` is missing.
 */
export function libvirt(): LoadedLibvirt {
  return loaded ??= load();
}

function load(): LoadedLibvirt {
  const override = configuredPath();
  const path = override ?? DEFAULT_LIBRARY;
  const tried = override ? [`${override} (from ${LIBRARY_PATH_ENV})`] : [DEFAULT_LIBRARY];
  // Our own handle on the library (Deno loads libraries RTLD_LOCAL, so dlsym(RTLD_DEFAULT) cannot see
  // libvirt; this dlopen returns the copy the preload mapped, or maps it as Deno.dlopen would), and
  // virGetVersion's address in it: the library is there and is libvirt. Every symbol binds from its
  // address in this handle, on first use (see _lazy.ts). RTLD_LAZY, as Deno.dlopen and the preload
  // open it: RTLD_NOW would redo libvirt's relocations on the main thread (a libvirt whose symbols do
  // not resolve, a broken install, then fails at its first call instead of here).
  const libc = lazyLibc();
  const handle = libc?.core.dlopen(encode(path), RTLD_LAZY) ?? null;
  const versionPointer = handle === null ? null : libc!.core.dlsym(handle, encode("virGetVersion"));
  if (versionPointer === null) {
    if (handle !== null) libc!.core.dlclose(handle); // loadable but not libvirt
    // Not loadable, not libvirt, or no --allow-ffi: Deno.dlopen says why in its own words (a
    // permission error untouched), which the error below quotes.
    try {
      const virGetVersion = decodeSignature(LIBVIRT_SIGNATURES, "virGetVersion")!;
      Deno.dlopen(path, { virGetVersion } as { virGetVersion: typeof libvirtSymbols.virGetVersion }).close();
    } catch (error) {
      if (isPermissionError(error)) throw error;
      const fix = override
        ? `check ${LIBRARY_PATH_ENV} (it must name libvirt's shared library, e.g. /usr/lib/x86_64-linux-gnu/libvirt.so.0), or unset it`
        : `install it with "apt-get install libvirt0" (Debian/Ubuntu) or "dnf install libvirt-libs" (Fedora), or set ${LIBRARY_PATH_ENV} to its path`;
      throw new LibvirtLoadError(
        `Cannot load libvirt: tried ${tried.join(", ")}: ${(error as Error).message}; ${fix}`,
        tried,
        { cause: error },
      );
    }
    // Deno's dlopen found what ours did not (libc.so.6 under another name): libc's functions bind by
    // dlopen then, and so does libvirt
    return loadByDlopen(path, tried);
  }
  const resolve = (cName: string) => libc!.core.dlsym(handle, encode(cName));
  try {
    const symbols = lazySymbols<typeof libvirtSymbols>(path, LIBVIRT_SIGNATURES, EAGER_SYMBOLS, resolve);
    return setUp(symbols, libc!.symbols, path, tried, resolve("virResetError"));
  } catch (error) {
    libc!.core.dlclose(handle); // too old, or its setup failed: nothing of it is kept
    throw error;
  }
}

/** libc's functions, bound from their addresses; undefined when libc's core cannot be bound. */
function lazyLibc(): { core: LibcCore; symbols: LoadedLibvirt["libc"] } | undefined {
  let c: LibcCore;
  try {
    c = libcCore();
  } catch {
    return undefined; // no --allow-ffi (Deno.dlopen of libvirt then says so), or libc by another name
  }
  return {
    core: c,
    symbols: lazySymbols("libc.so.6", libcSymbols, [], (name) => c.dlsym(c.handle, encode(name))),
  };
}

/** The old path, every symbol by dlopen: for a libc that libcCore cannot bind (not libc.so.6). */
function loadByDlopen(path: string, tried: string[]): LoadedLibvirt {
  const libc = lazySymbols("libc.so.6", libcSymbols, ["dlopen", "dlsym"]);
  const handle = libc.dlopen(encode(path), RTLD_NOW);
  // no handle: dlsym(NULL, ...) would search the whole process, so nothing binds
  if (handle === null) throw new LibvirtLoadError(`Cannot load libvirt: dlopen of ${path} failed`, tried);
  const symbols = lazySymbols<typeof libvirtSymbols>(
    path,
    LIBVIRT_SIGNATURES,
    EAGER_SYMBOLS,
    (cName) => libc.dlsym(handle, encode(cName)),
  );
  return setUp(symbols, libc, path, tried, libc.dlsym(handle, encode("virResetError")));
}

/** The version check, the silencing of libvirt's and libxml2's printers: the process-wide setup. */
function setUp(
  symbols: LoadedLibvirt["symbols"],
  libc: LoadedLibvirt["libc"],
  path: string,
  tried: string[],
  silentErrorHandler: Deno.PointerValue,
): LoadedLibvirt {
  const versionOut = new BigUint64Array(1);
  if (symbols.virGetVersion(new Uint8Array(versionOut.buffer), null, null) < 0) {
    throw new LibvirtLoadError(`Cannot load libvirt: virGetVersion failed for ${path}`, tried);
  }
  const version = Number(versionOut[0]);
  if (version < MINIMUM_LIBVIRT_VERSION) {
    throw new LibvirtLoadError(
      `Cannot use libvirt ${formatVersion(version)} from ${path}: deno_libvirt needs libvirt >= ${
        formatVersion(MINIMUM_LIBVIRT_VERSION)
      }; upgrade the libvirt0 package or point ${LIBRARY_PATH_ENV} at a newer build`,
      tried,
    );
  }
  if (silentErrorHandler === null) {
    throw new LibvirtLoadError(`Cannot load libvirt: virResetError not found in ${path}`, tried);
  }
  silenceLibxml2(libc, silentErrorHandler);
  const result: LoadedLibvirt = { symbols, libc, path, version, silentErrorHandler };
  // Silence libvirt's default printer before anything can fail. lib/connection/_open_errors.ts later
  // replaces this global handler with the one that attributes failed opens; a NULL handler would
  // restore stderr.
  symbols.virSetErrorFunc(null, silentErrorHandler);
  return result;
}

/**
 * libxml2 (libvirt's XML parser) prints its own warnings to stderr, e.g. "I/O warning : failed to
 * load external entity" for a test:/// URI naming a missing file; libvirt reports the same failure as
 * an error anyway. Its handlers are per thread, so set both the current thread's and the default every
 * new thread (Deno's blocking pool) starts with. A missing libxml2 is harmless: nothing to silence.
 */
function silenceLibxml2(
  libc: Deno.DynamicLibrary<typeof libcSymbols>["symbols"],
  noop: Deno.PointerObject,
): void {
  const handle = libc.dlopen(encode("libxml2.so.2"), RTLD_NOW);
  if (handle === null) return;
  for (const name of ["xmlSetGenericErrorFunc", "xmlThrDefSetGenericErrorFunc"]) {
    const setter = libc.dlsym(handle, encode(name));
    if (setter === null) continue;
    // void xmlSetGenericErrorFunc(void *ctx, xmlGenericErrorFunc handler): called with ctx NULL,
    // virResetError(NULL) is a no-op that accepts the variadic call.
    const signature = { parameters: ["pointer", "pointer"], result: "void" } as const;
    new Deno.UnsafeFnPointer(setter as Deno.PointerObject<typeof signature>, signature).call(null, noop);
  }
}

/**
 * Formats libvirt's numeric version (9000000) as "9.0.0".
 *
 * @example
 * ```ts
 * import { formatVersion, MINIMUM_LIBVIRT_VERSION } from "@deno-libvirt/deno-libvirt";
 * console.log(formatVersion(9_000_000), formatVersion(MINIMUM_LIBVIRT_VERSION)); // "9.0.0" "6.0.0"
 * ```
 */
export function formatVersion(version: number): string {
  const major = Math.floor(version / 1_000_000);
  const minor = Math.floor((version % 1_000_000) / 1_000);
  return `${major}.${minor}.${version % 1_000}`;
}

/**
 * @internal The process's effective user id, through libc (Deno's own `Deno.uid()` needs `--allow-sys`; this needs
 * only the `--allow-ffi` the library needs anyway). Scripts use it to pick the default URI the way
 * libvirt's clients do: `qemu:///system` for root, `qemu:///session` for anyone else. It does not load
 * libvirt (a script asks before {@link preloadLibvirt}'s load has finished).
 *
 * @returns the effective uid
 * @throws {Deno.errors.NotCapable} without `--allow-ffi`
 * @example
 * ```ts
 * import { effectiveUserId } from "./library.ts";
 * console.log(effectiveUserId() === 0 ? "root" : "user");
 * ```
 */
export function effectiveUserId(): number {
  // before libvirt is loaded: libc's own (bound with the preload's dlopen when there is one)
  return (loaded?.libc ?? libcCore()).geteuid();
}
