// Argument checks for the public entry points (lookups, lists, defines): garbage from JavaScript
// callers (undefined, an id of 2**40, an option of the wrong type) becomes a TypeError or RangeError
// that names the argument and what was expected, before anything reaches FFI, where it would surface
// as a raw TypeError from inside the library, or be silently truncated or ignored.

/** The largest value of a C `int`: libvirt's domain ids are ints. */
export const MAX_INT = 2 ** 31 - 1;
/** The largest value of a C `unsigned int`: libvirt's flags. */
const MAX_UINT = 2 ** 32 - 1;

/** A short, safe description of a value for an error message: `undefined`, `"web1"`, `an object`. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "object": {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
    default:
      return `a ${typeof value}`;
  }
}

/** What a connection argument must be, for {@link checkInstance}. */
export const A_CONNECTION = "a Connection (from Connection.open() or a pool lease)";

/** A class, also one with a private constructor (`Connection`). */
type Class = { readonly prototype: object };

/**
 * Checks that `value` is an instance of `type`: `Cannot <action>: <arg> must be <expected>, got <value>`.
 *
 * @throws {TypeError} otherwise
 */
export function checkInstance(
  value: unknown,
  type: Class,
  action: string,
  arg: string,
  expected: string,
): void {
  if (!(value instanceof (type as unknown as typeof Object))) {
    throw new TypeError(`Cannot ${action}: ${arg} must be ${expected}, got ${describeValue(value)}`);
  }
}

/**
 * Checks a string argument that goes to libvirt as a C string: a string, without NUL (C would cut it
 * there), non-empty when `nonEmpty`.
 *
 * @throws {TypeError} for a non-string or a NUL; {@link RangeError} for an empty string when `nonEmpty`
 */
export function checkString(value: unknown, action: string, arg: string, nonEmpty = true): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${arg} must be a string, got ${describeValue(value)}`);
  }
  if (value.includes("\0")) {
    throw new TypeError(
      `Cannot ${action}: ${arg} ${
        describeValue(value)
      } contains a NUL character, which libvirt would cut it at`,
    );
  }
  if (nonEmpty && value.length === 0) throw new RangeError(`Cannot ${action}: ${arg} must not be empty`);
  return value;
}

/**
 * Checks a domain lookup key: a name or UUID string, or a domain id (an integer that fits a C int).
 *
 * @throws {TypeError} for other types or a NUL; {@link RangeError} for an empty name or an id out of range
 */
export function checkDomainKey(value: unknown, action: string): string | number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > MAX_INT) {
      throw new RangeError(
        `Cannot ${action}: key must be a domain id, an integer from 0 to ${MAX_INT}, got ${value}`,
      );
    }
    return value;
  }
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot ${action}: key must be a name, a UUID string or a domain id (number), got ${
        describeValue(value)
      }`,
    );
  }
  return checkString(value, action, "key");
}

/** What an option must be: a boolean, a string, or one of the listed strings. */
export type OptionType = "boolean" | "string" | readonly string[];

/**
 * Checks an options object: undefined or a plain object whose listed fields, when set, have their types.
 * Fields not listed are not looked at (callers may pass wider objects).
 *
 * @throws {TypeError} for a non-object or a field of the wrong type; {@link RangeError} for a string
 *   outside its enumeration
 */
export function checkOptions(
  value: unknown,
  action: string,
  fields: Readonly<Record<string, OptionType>>,
  arg = "options",
): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: ${arg} must be an object, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const field in fields) { // not Object.entries: no array per call (lookupDomain checks on every call)
    const type = fields[field];
    const v = record[field];
    if (v === undefined) continue;
    if (type === "boolean" || type === "string") {
      const actual: string = typeof v;
      if (actual !== type) {
        throw new TypeError(`Cannot ${action}: ${arg}.${field} must be a ${type}, got ${describeValue(v)}`);
      }
      if (type === "string") checkString(v, action, `${arg}.${field}`, false);
    } else if (typeof v !== "string" || !type.includes(v)) {
      const choices = type.map((c) => JSON.stringify(c)).join(", ");
      const message = `Cannot ${action}: ${arg}.${field} must be one of ${choices}, got ${describeValue(v)}`;
      throw typeof v === "string" ? new RangeError(message) : new TypeError(message);
    }
  }
}

/**
 * Checks a libvirt flags argument: an integer from 0 to 2**32 - 1.
 *
 * @throws {TypeError} for a non-number; {@link RangeError} for a fraction, a negative or a too large one
 */
export function checkFlags(value: unknown, action: string, arg = "flags"): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${arg} must be a number, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT) {
    throw new RangeError(`Cannot ${action}: ${arg} must be an integer from 0 to ${MAX_UINT}, got ${value}`);
  }
  return value;
}
