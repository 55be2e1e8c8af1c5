// libvirt-qemu.so.0 (guest agent and monitor commands), loaded only on the first QEMU-specific call:
// most scripts never make one, and it is a separate library some installations split out.
import type { libvirtQemuSymbols } from "./_generated/symbols.ts";
import { LIBVIRT_QEMU_SIGNATURES } from "./_generated/signatures.ts";
import { lazySymbols } from "./_lazy.ts";
import { decodeSignature } from "./_signatures.ts";
import { LIBRARY_PATH_ENV, libvirt, LibvirtLoadError } from "./library.ts";

/** The loaded libvirt-qemu library. */
export interface LoadedLibvirtQemu {
  /** The functions of <libvirt/libvirt-qemu.h>, bound on first use. */
  readonly symbols: Deno.DynamicLibrary<typeof libvirtQemuSymbols>["symbols"];
  /** The path given to dlopen. */
  readonly path: string;
}

const DEFAULT_QEMU_LIBRARY = "libvirt-qemu.so.0";

let loaded: LoadedLibvirtQemu | undefined;

/**
 * The libvirt-qemu library next to the libvirt the process loaded: with `DENO_LIBVIRT_PATH` set to
 * `/opt/libvirt/lib/libvirt.so.0`, `/opt/libvirt/lib/libvirt-qemu.so.0`; otherwise the soname.
 *
 * @param libvirtPath the path libvirt.so was loaded from
 * @returns the path to load libvirt-qemu from
 *
 * @example
 * ```ts
 * import { qemuLibraryPath } from "./qemu_library.ts";
 * console.log(qemuLibraryPath("/opt/lv/lib/libvirt.so.0")); // /opt/lv/lib/libvirt-qemu.so.0
 * ```
 */
export function qemuLibraryPath(libvirtPath: string): string {
  const match = /^(.*\/)?libvirt(\.so[.\d]*)$/.exec(libvirtPath);
  if (match === null || match[1] === undefined) return DEFAULT_QEMU_LIBRARY;
  return `${match[1]}libvirt-qemu${match[2]}`;
}

/**
 * Loads libvirt-qemu.so.0 (once, after libvirt itself) and returns its symbols.
 *
 * @returns the loaded library
 * @throws {LibvirtLoadError} naming the path tried and the package that ships it
 *
 * @example
 * ```ts
 * import { isLibvirtQemuLoaded, libvirtQemu } from "./qemu_library.ts";
 * const qemu = libvirtQemu();
 * console.log(qemu.path, isLibvirtQemuLoaded()); // libvirt-qemu.so.0 true
 * ```
 */
export function libvirtQemu(): LoadedLibvirtQemu {
  if (loaded !== undefined) return loaded;
  const path = qemuLibraryPath(libvirt().path);
  try {
    // check the path now, with one symbol; the rest bind on first use
    Deno.dlopen(path, {
      virDomainQemuMonitorCommand: decodeSignature(LIBVIRT_QEMU_SIGNATURES, "virDomainQemuMonitorCommand")!,
    });
  } catch (error) {
    if (!(error instanceof Error) || error.name === "NotCapable" || error.name === "PermissionDenied") {
      throw error;
    }
    throw new LibvirtLoadError(
      `Cannot load libvirt-qemu: tried ${path}: ${error.message}; it ships with libvirt ("apt-get install libvirt0" on Debian/Ubuntu, "dnf install libvirt-libs" on Fedora), next to the libvirt.so.0 that ${LIBRARY_PATH_ENV} names`,
      [path],
      { cause: error },
    );
  }
  loaded = { symbols: lazySymbols<typeof libvirtQemuSymbols>(path, LIBVIRT_QEMU_SIGNATURES), path };
  return loaded;
}

/**
 * True once a QEMU-specific call has loaded libvirt-qemu.so.0 (for tests and diagnostics).
 *
 * @returns whether libvirt-qemu is loaded
 */
export function isLibvirtQemuLoaded(): boolean {
  return loaded !== undefined;
}
