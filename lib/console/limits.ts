/**
 * The bounds of a console capture (log size, rotations, in-memory tail) with their defaults, and the
 * check that names a bad bound's field.
 *
 * @module
 */
import type { ConsoleLogOptions } from "./types.ts";

/** One kibibyte. */
export const KiB = 1024;
/** The bounds a capture has when its options leave them out. */
export const DEFAULTS = { maxBytes: 1024 * KiB, rotations: 1, tailBytes: 64 * KiB };

/** A RangeError naming `field` unless `value` is absent or a whole number from `min` to `max`. */
export function checkInteger(value: number | undefined, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid ${field} ${JSON.stringify(value)}: pass a whole number from ${min} to ${max}`,
    );
  }
}

/**
 * @internal Checks console log options; `prefix` names the option group in the message ("consoles.").
 *
 * @param options the options to check
 * @param prefix what the field names are prefixed with in messages
 * @throws {RangeError} naming the field and its allowed values
 * @example
 * ```ts
 * import { checkConsoleLogOptions } from "./limits.ts";
 * checkConsoleLogOptions({ maxBytes: 65_536, rotations: 2 }); // fine
 * ```
 */
export function checkConsoleLogOptions(options: ConsoleLogOptions, prefix = ""): void {
  checkInteger(options.maxBytes, `${prefix}maxBytes`, 4 * KiB, 2 ** 40);
  checkInteger(options.rotations, `${prefix}rotations`, 0, 100);
  checkInteger(options.tailBytes, `${prefix}tailBytes`, 256, 64 * 1024 * KiB);
}
