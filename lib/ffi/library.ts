// Loading libvirt.so once, lazily, and the process-wide setup that must precede any call:
// the version check and the silencing of libvirt's stderr error printer.
import { withNonblocking } from "./_types.ts";
import { domainSymbols } from "./symbols_domain.ts";
import { errorSymbols } from "./symbols_error.ts";
import { eventSymbols } from "./symbols_event.ts";
import { hostSymbols } from "./symbols_host.ts";
import { networkSymbols } from "./symbols_network.ts";
import { snapshotSymbols } from "./symbols_snapshot.ts";
import { storageSymbols } from "./symbols_storage.ts";
import { streamSymbols } from "./symbols_stream.ts";
import { qemuSymbols } from "./symbols_qemu.ts";

/** Every libvirt symbol the toolkit binds, grouped by header, I/O calls with `...Async` twins. */
export const libvirtSymbols = withNonblocking({
  ...hostSymbols,
  ...domainSymbols,
  ...errorSymbols,
  ...eventSymbols,
  ...networkSymbols,
  ...storageSymbols,
  ...snapshotSymbols,
  ...streamSymbols,
});

const libcSymbols = {
  /** void free(void *ptr) */
  free: { parameters: ["pointer"], result: "void" },
  /** void *malloc(size_t size) */
  malloc: { parameters: ["usize"], result: "pointer" },
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

/** The oldest libvirt the bindings are written for (Debian 11 ships 7.0; Ubuntu 20.04 ships 6.0). */
export const MINIMUM_LIBVIRT_VERSION = 6_000_000;

/** The environment variable that overrides where libvirt is loaded from. */
export const LIBRARY_PATH_ENV = "DENO_LIBVIRT_PATH";

const DEFAULT_LIBRARY = "libvirt.so.0";
const RTLD_NOW = 2;

/** Thrown when libvirt.so cannot be loaded or is too old; names every path tried and the fix. */
export class LibvirtLoadError extends Error {
  /** The library paths that were tried, in order. */
  readonly pathsTried: readonly string[];
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

function configuredPath(): string | undefined {
  // Read the env var only where permission is already granted, so --allow-env stays optional.
  const state = Deno.permissions.querySync?.({ name: "env", variable: LIBRARY_PATH_ENV }).state;
  if (state !== "granted") return undefined;
  const value = Deno.env.get(LIBRARY_PATH_ENV);
  return value === undefined || value === "" ? undefined : value;
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    // Deno 2 reports a missing --allow-ffi as NotCapable
    ("NotCapable" in Deno.errors &&
      error instanceof (Deno.errors as unknown as { NotCapable: ErrorConstructor }).NotCapable);
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text + "\0");
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
  let lib: Deno.DynamicLibrary<typeof libvirtSymbols>;
  try {
    lib = Deno.dlopen(path, libvirtSymbols);
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
  const libc = Deno.dlopen("libc.so.6", libcSymbols).symbols;

  const versionOut = new BigUint64Array(1);
  if (lib.symbols.virGetVersion(new Uint8Array(versionOut.buffer), null, null) < 0) {
    lib.close();
    throw new LibvirtLoadError(`Cannot load libvirt: virGetVersion failed for ${path}`, tried);
  }
  const version = Number(versionOut[0]);
  if (version < MINIMUM_LIBVIRT_VERSION) {
    lib.close();
    throw new LibvirtLoadError(
      `Cannot use libvirt ${formatVersion(version)} from ${path}: deno_libvirt needs libvirt >= ${
        formatVersion(MINIMUM_LIBVIRT_VERSION)
      }; upgrade the libvirt0 package or point ${LIBRARY_PATH_ENV} at a newer build`,
      tried,
    );
  }

  // Deno loads libraries RTLD_LOCAL, so dlsym(RTLD_DEFAULT) cannot see libvirt: take our own handle
  // on the same file (dlopen returns the already-loaded copy) and look virResetError up in it.
  const handle = libc.dlopen(encode(path), RTLD_NOW);
  const silentErrorHandler = handle ? libc.dlsym(handle, encode("virResetError")) : null;
  if (silentErrorHandler === null) {
    lib.close();
    throw new LibvirtLoadError(`Cannot load libvirt: virResetError not found in ${path}`, tried);
  }
  silenceLibxml2(libc, silentErrorHandler);
  const result: LoadedLibvirt = { symbols: lib.symbols, libc, path, version, silentErrorHandler };
  // Silence libvirt's default printer before anything can fail. lib/_open_errors.ts later replaces
  // this global handler with the one that attributes failed opens; a NULL handler would restore stderr.
  lib.symbols.virSetErrorFunc(null, silentErrorHandler);
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

/** Formats libvirt's numeric version (9000000) as "9.0.0". */
export function formatVersion(version: number): string {
  const major = Math.floor(version / 1_000_000);
  const minor = Math.floor((version % 1_000_000) / 1_000);
  return `${major}.${minor}.${version % 1_000}`;
}

// ---------------------------------------------------------------------------------------------------
// libvirt-qemu.so.0 (lib/qemu.ts): loaded only on the first QEMU-specific call, after libvirt itself.

/** The QEMU-specific calls, I/O calls with `...Async` twins. */
export const libvirtQemuSymbols = withNonblocking(qemuSymbols);

let loadedQemu: Deno.DynamicLibrary<typeof libvirtQemuSymbols>["symbols"] | undefined;
let loadedQemuPath: string | undefined;

/** The path libvirt-qemu.so.0 was loaded from (loading it first), for the event worker's own dlopen. */
export function libvirtQemuPath(): string {
  libvirtQemu();
  return loadedQemuPath!;
}

/**
 * Loads libvirt-qemu.so.0 (once, on first use) and returns its bound symbols. With
 * `DENO_LIBVIRT_PATH` set, the library is looked for next to that file first.
 *
 * @throws {LibvirtLoadError} when the library is missing
 * @throws {Deno.errors.NotCapable} untouched when `--allow-ffi` is missing
 */
export function libvirtQemu(): Deno.DynamicLibrary<typeof libvirtQemuSymbols>["symbols"] {
  if (loadedQemu) return loadedQemu;
  const base = libvirt().path;
  const slash = base.lastIndexOf("/");
  const paths = slash >= 0 ? [`${base.slice(0, slash + 1)}libvirt-qemu.so.0`, "libvirt-qemu.so.0"] : [
    "libvirt-qemu.so.0",
  ];
  let lastError: unknown;
  for (const path of paths) {
    try {
      loadedQemu = Deno.dlopen(path, libvirtQemuSymbols).symbols;
      loadedQemuPath = path;
      return loadedQemu;
    } catch (error) {
      if (isPermissionError(error)) throw error;
      lastError = error;
    }
  }
  throw new LibvirtLoadError(
    `Cannot load libvirt-qemu: tried ${paths.join(", ")}: ${(lastError as Error).message}; ` +
      `install it with "apt-get install libvirt0" (Debian/Ubuntu) or "dnf install libvirt-libs" (Fedora)`,
    paths,
    { cause: lastError },
  );
}
