// Functions newer than MINIMUM_LIBVIRT_VERSION are optional symbols: null when the installed libvirt
// lacks them. Callers go through requireSymbol, which turns the null into a NotSupportedError that
// names the function, the version that added it and the version installed.
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { ErrorLevel, NotSupportedError } from "../errors.ts";
import { LIBVIRT_QEMU_SIGNATURES, LIBVIRT_SIGNATURES } from "./_generated/signatures.ts";
import { signatureFunctionName, signatureSince } from "./_signatures.ts";
import { formatVersion, libvirt, type LoadedLibvirt } from "./library.ts";
import { libvirtQemu, type LoadedLibvirtQemu } from "./qemu_library.ts";

/**
 * The C function a symbol key binds: `virDomainGetInfoAsync` -> `virDomainGetInfo`.
 *
 * @param key a symbol key
 * @returns the C function's name
 *
 * @example
 * ```ts
 * import { cFunctionName } from "./optional.ts";
 * console.log(cFunctionName("virDomainGetInfoAsync")); // virDomainGetInfo
 * ```
 */
export function cFunctionName(key: string): string {
  const inLibvirt = signatureFunctionName(LIBVIRT_SIGNATURES, key);
  return inLibvirt !== key ? inLibvirt : signatureFunctionName(LIBVIRT_QEMU_SIGNATURES, key);
}

/**
 * The symbol `name` of `symbols`, or a NotSupportedError when it is null (the installed libvirt is
 * older than the release that added it).
 *
 * @param symbols a symbols object (`libvirt().symbols`, `libvirtQemu().symbols`, or a test double)
 * @param name the key, e.g. `"virDomainFDAssociateAsync"`
 * @param installedVersion libvirt's version number (`libvirt().version`)
 * @returns the bound function
 * @throws {NotSupportedError} `Cannot call virX: virX requires libvirt >= 9.0.0 (installed: 8.0.0)`
 *
 * @example
 * ```ts
 * import { requireSymbol } from "./optional.ts";
 * const symbols = { virDomainFDAssociate: null };
 * try {
 *   requireSymbol(symbols, "virDomainFDAssociate", 8_000_000);
 * } catch (e) {
 *   console.log((e as Error).message); // Cannot call virDomainFDAssociate: ... requires libvirt >= 9.0.0 (installed: 8.0.0)
 * }
 * ```
 */
export function requireSymbol<S extends object, K extends keyof S & string>(
  symbols: S,
  name: K,
  installedVersion: number,
): NonNullable<S[K]> {
  const value = symbols[name];
  if (value !== null && value !== undefined) return value as NonNullable<S[K]>;
  const cName = cFunctionName(name);
  // the compact tables carry the release of every optional function (what can be null)
  const since = signatureSince(LIBVIRT_SIGNATURES, cName) ?? signatureSince(LIBVIRT_QEMU_SIGNATURES, cName) ??
    "a newer release";
  throw new NotSupportedError(`call ${cName}`, {
    code: ErrorCode.NO_SUPPORT,
    domain: ErrorDomain.NONE,
    level: ErrorLevel.ERROR,
    message: `${cName} requires libvirt >= ${since} (installed: ${formatVersion(installedVersion)})`,
  });
}

/**
 * A libvirt.so symbol, loading libvirt first; throws NotSupportedError when it is too old for it.
 *
 * @param name the key, e.g. `"virDomainSaveParamsAsync"`
 * @returns the bound function
 * @throws {NotSupportedError} when the installed libvirt lacks the function
 * @throws {LibvirtLoadError} when libvirt cannot be loaded
 *
 * @example
 * ```ts
 * import { libvirtSymbol } from "./optional.ts";
 * const getVersion = libvirtSymbol("virGetVersion");
 * const out = new BigUint64Array(1);
 * getVersion(new Uint8Array(out.buffer), null, null);
 * console.log(out[0]); // 9000000n for libvirt 9.0.0
 * ```
 */
export function libvirtSymbol<K extends keyof LoadedLibvirt["symbols"] & string>(
  name: K,
): NonNullable<LoadedLibvirt["symbols"][K]> {
  const lib = libvirt();
  return requireSymbol(lib.symbols, name, lib.version);
}

/**
 * A libvirt-qemu.so symbol, loading libvirt-qemu on this first QEMU-specific call.
 *
 * @param name the key, e.g. `"virDomainQemuAgentCommandAsync"`
 * @returns the bound function
 * @throws {NotSupportedError} when the installed libvirt lacks the function
 * @throws {LibvirtLoadError} when libvirt-qemu.so.0 cannot be loaded
 *
 * @example
 * ```ts ignore
 * import { qemuSymbol } from "./optional.ts";
 * // dom: a virDomainPtr of a running QEMU guest with an agent; loads libvirt-qemu.so.0 now
 * const reply = await qemuSymbol("virDomainQemuAgentCommandAsync")(dom, cmd, -1, 0);
 * ```
 */
export function qemuSymbol<K extends keyof LoadedLibvirtQemu["symbols"] & string>(
  name: K,
): NonNullable<LoadedLibvirtQemu["symbols"][K]> {
  const qemu = libvirtQemu();
  return requireSymbol(qemu.symbols, name, libvirt().version);
}
