// The compact symbol tables (lib/ffi/_generated/signatures.ts): the same definitions as the per-header
// object tables, one line per C function, decoded on first use by lib/ffi/_signatures.ts. What the
// library binds at run time comes from here; the object tables stay for reading and for the types.
import type { ApiFunction } from "./api_model.ts";
import { HEADER_BANNER, type Index } from "./generate_ctypes.ts";
import { isLocal } from "./overrides.ts";
import { SIGNATURE_TYPE_CODES } from "../_signatures.ts";
import { MINIMUM_LIBVIRT_VERSION } from "../_version.ts";

const CODE_OF = new Map<string, string>(
  Object.entries(SIGNATURE_TYPE_CODES).map(([code, type]) => [type, code]),
);

function code(type: string, where: string): string {
  const c = CODE_OF.get(type);
  if (c === undefined) {
    throw new Error(
      `Cannot encode FFI type "${type}" (${where}): add it to SIGNATURE_TYPE_CODES in lib/ffi/_signatures.ts`,
    );
  }
  return c;
}

/**
 * One function's line: `name|parameters|result|flags`, and `|since` (the release that added it) for
 * an optional one.
 *
 * @param fn the function
 * @param parameters its FFI parameter types
 * @param result its FFI result type
 * @returns the line, without the newline
 */
export function signatureLine(fn: ApiFunction, parameters: readonly string[], result: string): string {
  const optional = fn.version.number > MINIMUM_LIBVIRT_VERSION;
  const flags = `${isLocal(fn) ? "" : "a"}${optional ? "o" : ""}`;
  const args = parameters.map((p, i) => code(p, `${fn.name} argument ${i}`)).join("");
  // an optional function carries the release that added it, for requireSymbol's message
  return `${fn.name}|${args}|${code(result, `${fn.name} result`)}|${flags}${
    optional ? `|${fn.version.text}` : ""
  }`;
}

/**
 * The file: one table for libvirt.so, one for libvirt-qemu.so, functions in the object tables' order.
 *
 * @param headers the headers, sorted (as the object tables are merged)
 * @param byHeader each header's functions
 * @param types the FFI types of a function's parameters and result (the object tables' rules)
 * @param index the model's lookups
 * @returns the file's text, before formatting
 */
export function signaturesFile(
  headers: readonly string[],
  byHeader: ReadonlyMap<string, readonly ApiFunction[]>,
  types: (fn: ApiFunction, index: Index) => { parameters: string[]; result: string },
  index: Index,
): string {
  const lines = (hs: readonly string[]) =>
    hs.flatMap((h) =>
      byHeader.get(h)!.map((fn) => {
        const { parameters, result } = types(fn, index);
        return signatureLine(fn, parameters, result);
      })
    );
  const block = (name: string, doc: string, hs: readonly string[]) =>
    `\n/** ${doc} */\nexport const ${name}: string = \`\n${lines(hs).join("\n")}\n\`;\n`;
  let out = HEADER_BANNER(
    "The symbol tables in compact form, decoded on first use by lib/ffi/_signatures.ts: one line per C",
  );
  out +=
    "// function, `name|parameters|result|flags[|since]` (a: has a nonblocking `...Async` twin, o: optional,\n";
  out += "// since: the libvirt release that added an optional function).\n";
  out += block(
    "LIBVIRT_SIGNATURES",
    "Every function of libvirt.so.0 (all headers but libvirt-qemu), as `libvirtSymbols` holds them.",
    headers.filter((h) => h !== "libvirt-qemu"),
  );
  out += block(
    "LIBVIRT_QEMU_SIGNATURES",
    "Every function of libvirt-qemu.so.0, as `libvirtQemuSymbols` holds them.",
    headers.filter((h) => h === "libvirt-qemu"),
  );
  return out;
}
