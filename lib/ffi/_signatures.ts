// The compact form of the generated symbol tables, and its decoder. A process binds a few dozen of
// libvirt's ~900 functions, but evaluating the object-literal tables (lib/ffi/_generated/libvirt_*.ts,
// ~300 KB of source) costs 35-60 ms at every start; the same definitions as one string
// (lib/ffi/_generated/signatures.ts, ~30 KB) cost under 1 ms, and an entry is decoded only when it is
// bound. The generator writes both from the same model (lib/ffi/_gen/generate_signatures.ts); a test
// decodes every entry and compares it with the object tables.
//
// One line per C function, `name|parameters|result|flags[|since]`: parameters and result one letter per
// FFI type (SIGNATURE_TYPE_CODES), flags `a` (a nonblocking `<name>Async` twin exists) and `o`
// (optional: newer than the minimum libvirt), and for an optional function the release that added it.
// The string starts and ends with a newline, so `\nname|` finds a line.

/** The FFI type of each letter of a compact signature (and the reverse, for the generator). */
export const SIGNATURE_TYPE_CODES = {
  p: "pointer",
  b: "buffer",
  f: "function",
  v: "void",
  i: "i32",
  u: "u32",
  l: "i64",
  L: "u64",
  d: "f64",
  z: "usize",
  Z: "isize",
  c: "u8",
  C: "i8",
  s: "u16",
  S: "i16",
  F: "f32",
  B: "bool",
} as const satisfies Record<string, Deno.NativeResultType>;

const TYPES = SIGNATURE_TYPE_CODES as Record<string, Deno.NativeResultType>;

/** A symbol's definition as the object tables spell it (what `Deno.dlopen` takes). */
export type SymbolDefinition = Deno.ForeignFunction & { optional?: boolean };

/**
 * Decodes one entry of a compact table: `key` is a C function's name, or `<name>Async` for its
 * nonblocking twin.
 *
 * @param table the compact table (a generated `..._SIGNATURES` string)
 * @param key the symbol table key, e.g. `virDomainLookupByName` or `virDomainGetStateAsync`
 * @returns the definition, equal to the object table's entry; undefined when the table has no such key
 * @throws {Error} on a malformed line (a generator bug), naming the line
 *
 * @example
 * ```ts
 * import { decodeSignature } from "./_signatures.ts";
 * const table = "\nvirConnectClose|p|i|a\n";
 * console.log(decodeSignature(table, "virConnectCloseAsync"));
 * // { name: "virConnectClose", parameters: ["pointer"], result: "i32", nonblocking: true }
 * ```
 */
export function decodeSignature(table: string, key: string): SymbolDefinition | undefined {
  const line = findLine(table, key);
  let twin = false;
  let found = line;
  if (found === undefined && key.endsWith("Async")) {
    found = findLine(table, key.slice(0, -"Async".length));
    twin = true;
  }
  if (found === undefined) return undefined;
  const [name, parameters, result, flags] = found.split("|");
  if (twin && !flags.includes("a")) return undefined; // a process-local call has no twin
  const optional = flags.includes("o");
  const definition: Record<string, unknown> = {};
  if (twin) definition.name = name;
  definition.parameters = [...parameters].map((c) => typeOf(c, found!));
  definition.result = typeOf(result, found);
  if (optional) definition.optional = true;
  if (twin) definition.nonblocking = true;
  return definition as unknown as SymbolDefinition;
}

/**
 * Every key of a compact table, twins included, in table order (a function, then its twin).
 *
 * @param table the compact table
 * @returns the keys, as the object tables have them
 * @example
 * ```ts
 * import { signatureKeys } from "./_signatures.ts";
 * console.log(signatureKeys("\nvirConnectClose|p|i|a\nvirGetLastError||p|\n"));
 * // ["virConnectClose", "virConnectCloseAsync", "virGetLastError"]
 * ```
 */
export function signatureKeys(table: string): string[] {
  const keys: string[] = [];
  for (const line of table.split("\n")) {
    if (line === "") continue;
    const [name, , , flags] = line.split("|");
    keys.push(name);
    if (flags.includes("a")) keys.push(`${name}Async`);
  }
  return keys;
}

function findLine(table: string, name: string): string | undefined {
  const start = table.indexOf(`\n${name}|`);
  if (start < 0) return undefined;
  return table.slice(start + 1, table.indexOf("\n", start + 1));
}

function typeOf(code: string, line: string): Deno.NativeResultType {
  const type = TYPES[code];
  if (type === undefined) throw new Error(`Cannot decode FFI type "${code}" in signature "${line}"`);
  return type;
}

/**
 * The C function a symbol table key calls: the key itself, or without `Async` for a nonblocking twin.
 *
 * @param table the compact table
 * @param key a symbol table key
 * @returns the C function's name (the key unchanged when the table has no such function)
 * @example
 * ```ts
 * import { signatureFunctionName } from "./_signatures.ts";
 * console.log(signatureFunctionName("\nvirConnectClose|p|i|a\n", "virConnectCloseAsync")); // virConnectClose
 * ```
 */
export function signatureFunctionName(table: string, key: string): string {
  if (findLine(table, key) !== undefined || !key.endsWith("Async")) return key;
  const base = key.slice(0, -"Async".length);
  return findLine(table, base) !== undefined ? base : key;
}

/**
 * The libvirt release that added an optional function (one newer than the minimum libvirt).
 *
 * @param table the compact table
 * @param name the C function's name
 * @returns the release as `major.minor.micro`, or undefined for a function every supported libvirt has
 * @example
 * ```ts
 * import { signatureSince } from "./_signatures.ts";
 * console.log(signatureSince("\nvirDomainFDAssociate|pbuu|i|ao|9.0.0\n", "virDomainFDAssociate")); // 9.0.0
 * ```
 */
export function signatureSince(table: string, name: string): string | undefined {
  return findLine(table, name)?.split("|")[4];
}
