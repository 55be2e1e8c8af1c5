// libvirt's error codes and error domains (<libvirt/virterror.h>) under the names the library has always
// used: the generated enums (lib/ffi/_generated/enums_core.ts, from libvirt's API XML), without the
// VIR_ERR_ prefix. One source of truth: a libvirt upgrade regenerates them (deno task gen), nothing to
// copy by hand.
import { ErrorNumber } from "./ffi/_generated/enums_core.ts";

/** The libvirt subsystem an error came from (`virErrorDomain`), by name, e.g. `ErrorDomain.QEMU`. */
export { ErrorDomain } from "./ffi/_generated/enums_core.ts";

/** `virErrorNumber`'s error codes (`VIR_ERR_*`), keyed by their names without the prefix. */
export type ErrorCodes = {
  readonly [K in keyof typeof ErrorNumber as K extends `ERR_${infer Name}` ? Name : never]:
    (typeof ErrorNumber)[K];
};

/**
 * libvirt error codes (`virErrorNumber`), by name. Compare `LibvirtError.code` against these, never raw
 * numbers.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@deno-libvirt/deno-libvirt";
 * console.log(ErrorCode.NO_DOMAIN); // 42
 * ```
 */
export const ErrorCode: ErrorCodes = Object.fromEntries(
  Object.entries(ErrorNumber)
    .filter(([name]) => name.startsWith("ERR_")) // the VIR_WAR_* warnings are not error codes
    .map(([name, value]) => [name.slice("ERR_".length), value]),
) as unknown as ErrorCodes;

/** A libvirt error code number. */
export type ErrorCode = ErrorCodes[keyof ErrorCodes];
