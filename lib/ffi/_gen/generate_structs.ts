// Struct layouts for the FFI generator (x86_64 / aarch64 LP64): each public libvirt struct's size,
// alignment and field offsets, laid out by the C ABI rules, written to lib/ffi/_generated/structs.ts.
import type { ApiModel, ApiStruct, ApiStructField } from "./api_model.ts";
import { comment, evaluateMacro, HEADER_BANNER, type Index, isPointer, scalar } from "./generate_ctypes.ts";

/** A field's layout: offset and size in bytes, and how to read it. */
export interface FieldLayout {
  offset: number;
  size: number;
  align: number;
  kind: string;
  length?: number;
  members?: Record<string, FieldLayout>;
}

const KIND_SIZES: Record<string, number> = {
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  i64: 8,
  u64: 8,
  f64: 8,
  usize: 8,
  isize: 8,
  pointer: 8,
};

function fieldLayout(field: ApiStructField, index: Index, where: string): Omit<FieldLayout, "offset"> {
  if (field.type === "union") {
    const members: Record<string, FieldLayout> = {};
    let size = 0;
    let align = 1;
    for (const m of field.union ?? []) {
      const layout = fieldLayout(m, index, `${where}.${m.name}`);
      members[m.name] = { offset: 0, ...layout };
      size = Math.max(size, layout.size);
      align = Math.max(align, layout.align);
    }
    return { size: Math.ceil(size / align) * align, align, kind: "union", members };
  }
  const array = /^(.*?)\s*(\w+)\[(\w+)\]$/.exec(field.type);
  if (array !== null) {
    const length = /^\d+$/.test(array[3]) ? Number(array[3]) : evaluateMacro(array[3], index.macros, index);
    if (length === undefined) throw new Error(`Cannot size array ${field.type} (${where})`);
    const element = scalar(array[1], index, where);
    const size = KIND_SIZES[element];
    return { size: size * length, align: size, kind: `${element}[]`, length };
  }
  const kind = isPointer(field.type, index) ? "pointer" : scalar(field.type, index, where);
  const size = KIND_SIZES[kind];
  return { size, align: size, kind };
}

/** Lays a struct out by the LP64 C ABI rules: each field at its alignment, size rounded to the struct's. */
export function structLayout(
  struct: ApiStruct,
  index: Index,
): { size: number; align: number; fields: Record<string, FieldLayout> } {
  let offset = 0;
  let align = 1;
  const fields: Record<string, FieldLayout> = {};
  for (const field of struct.fields) {
    const layout = fieldLayout(field, index, `${struct.name}.${field.name}`);
    offset = Math.ceil(offset / layout.align) * layout.align;
    const placed: FieldLayout = { offset, ...layout };
    if (placed.members !== undefined) {
      for (const member of Object.values(placed.members)) member.offset = offset;
    }
    fields[field.name] = placed;
    offset += layout.size;
    align = Math.max(align, layout.align);
  }
  return { size: Math.ceil(offset / align) * align, align, fields };
}

function renderField(layout: FieldLayout): string {
  const parts = [`offset: ${layout.offset}`, `size: ${layout.size}`, `kind: ${JSON.stringify(layout.kind)}`];
  if (layout.length !== undefined) parts.push(`length: ${layout.length}`);
  if (layout.members !== undefined) {
    const members = Object.entries(layout.members).map(([n, m]) => `${n}: ${renderField(m)}`);
    parts.push(`members: { ${members.join(", ")} }`);
  }
  return `{ ${parts.join(", ")} }`;
}

/** lib/ffi/_generated/structs.ts: the layout of every public (non-opaque) struct, and the count. */
export function structsFile(model: ApiModel, index: Index): { text: string; count: number } {
  let out = HEADER_BANNER(
    "Struct layouts for x86_64 / aarch64 LP64, checked against gcc by tests/ffi_struct_layout_test.ts.",
  );
  out += `
/** Where a struct field lives and how to read it. */
export interface FieldLayout {
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** "i32", "u64", "f64", "pointer", "i8[]" (an inline array, see length), "union" (see members), ... */
  readonly kind: string;
  /** For inline arrays: the element count. */
  readonly length?: number;
  /** For unions: the members, all at the union's offset. */
  readonly members?: Readonly<Record<string, FieldLayout>>;
}

/** A struct's size, alignment, C tag and fields. */
export interface StructLayout {
  /** The C struct tag, e.g. "_virDomainInfo" (use \`struct <tag>\` in C). */
  readonly tag: string;
  /** sizeof. */
  readonly size: number;
  /** The struct's alignment. */
  readonly align: number;
  /** The fields, in C order. */
  readonly fields: Readonly<Record<string, FieldLayout>>;
}
`;
  out += "\n";
  out += comment(["The layout of every public (non-opaque) libvirt struct, by its typedef name."], "");
  out += "export const structLayouts = {\n";
  let count = 0;
  for (const struct of model.structs) {
    if (struct.opaque) continue;
    count++;
    const layout = structLayout(struct, index);
    out += comment([`struct ${struct.tag} (<libvirt/${struct.header}.h>, since ${struct.version.text})`]);
    out += `  ${struct.name}: {\n    tag: ${
      JSON.stringify(struct.tag)
    },\n    size: ${layout.size},\n    align: ${layout.align},\n    fields: {\n`;
    for (const [name, field] of Object.entries(layout.fields)) {
      out += `      ${name}: ${renderField(field)},\n`;
    }
    out += "    },\n  },\n";
  }
  out += "} as const satisfies Record<string, StructLayout>;\n";
  return { text: out, count };
}
