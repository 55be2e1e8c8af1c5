// Enums and structs the generated methods name: the enum type an int argument's doc names, the struct
// layout of a caller-allocated struct argument, and the interface and decoder of each struct (collected
// here, written into lib/objects/_generated/options.ts and structs.ts by the stage).
import { structLayouts } from "../_generated/structs.ts";
import { pascal } from "./methods_names.ts";

const enumExports = new Set(
  [
    ...Deno.readTextFileSync(new URL("../_generated/enums.ts", import.meta.url)).matchAll(
      /^export type (\w+) =/gm,
    ),
  ]
    .map((m) => m[1]),
);

/**
 * The generated enum type (lib/ffi/_generated/enums.ts) an int argument's doc names ("one of
 * virDomainState", "from virDomainMetadataType"), when it is a plain enum (not flags to OR).
 */
export function enumOf(info: string): string | undefined {
  if (/bitwise|OR of|binary-OR|mask/i.test(info)) return undefined;
  for (const match of info.matchAll(/\bvir([A-Z]\w+)/g)) {
    // DomainState: mod.ts exports lib/domain.ts's constant of that name; its values are plain numbers here
    if (enumExports.has(match[1]) && !/Flags?(Values)?$/.test(match[1]) && match[1] !== "DomainState") {
      return match[1];
    }
  }
  return undefined;
}

/** The layout name of a caller-allocated struct argument type (`virDomainInfoPtr` -> `virDomainInfo`). */
export function structOf(type: string): string | undefined {
  if (!type.endsWith("Ptr")) return undefined;
  const base = type.slice(0, -3);
  const layouts = structLayouts as Record<string, unknown>;
  if (base in layouts) return base;
  if (`${base}Struct` in layouts) return `${base}Struct`;
  return undefined;
}

/** The struct interfaces emitted so far, by name (written into options.ts). */
export const structTypes = new Map<string, string>();
/** The struct decoders emitted so far, by interface name (written into structs.ts). */
export const structReaders = new Map<string, string>();

/** The generated interface of a struct (`DomainInfoStruct`), emitted once into options.ts. */
export function structInterface(layoutName: string): string {
  const name = `${pascal(layoutName.replace(/^vir/, "").replace(/Struct$/, ""))}Struct`;
  if (!structTypes.has(name)) {
    const layout =
      (structLayouts as Record<string, { tag: string; fields: Record<string, { kind: string }> }>)[
        layoutName
      ];
    const ts = (kind: string) =>
      kind === "i64" || kind === "u64" || kind === "usize"
        ? "bigint"
        : kind === "pointer"
        ? "string | null"
        : kind === "i8[]"
        ? "string"
        : "number";
    const fields = Object.entries(layout.fields).filter(([, f]) => f.kind !== "union").map(([k, f]) =>
      `  /** \`${layout.tag}.${k}\` (${f.kind}) */\n  ${k}: ${ts(f.kind)};`
    );
    structTypes.set(
      name,
      `/** \`struct ${layout.tag}\`, decoded: 64-bit integers as bigints, char arrays as strings. */\nexport interface ${name} {\n${
        fields.join("\n")
      }\n}\n`,
    );
    const L = layout as unknown as {
      size: number;
      fields: Record<string, { offset: number; kind: string; length?: number }>;
    };
    const read = (f: { offset: number; kind: string; length?: number }): string => {
      const o = f.offset;
      switch (f.kind) {
        case "i8":
          return `v.getInt8(${o})`;
        case "u8":
          return `v.getUint8(${o})`;
        case "u16":
          return `v.getUint16(${o}, true)`;
        case "i32":
          return `v.getInt32(${o}, true)`;
        case "u32":
          return `v.getUint32(${o}, true)`;
        case "i64":
          return `v.getBigInt64(${o}, true)`;
        case "u64":
        case "usize":
          return `v.getBigUint64(${o}, true)`;
        case "f64":
          return `v.getFloat64(${o}, true)`;
        case "pointer":
          return `m.cStringAt(v, ${o})`;
        default: // "i8[]"
          return `m.charsAt(b, base + ${o}, ${f.length})`;
      }
    };
    const body = Object.entries(L.fields).filter(([, f]) => f.kind !== "union").map(([k, f]) =>
      `    ${k}: ${read(f)},`
    );
    structReaders.set(
      name,
      `/** Reads the \`${name}\` at index \`i\` of a buffer libvirt filled. */\nexport function read${name}(b: Uint8Array<ArrayBuffer>, i = 0): ${name} {\n  const base = i * ${L.size};\n  const v = m.viewOf(b, base, ${L.size});\n  return {\n${
        body.join("\n")
      }\n  };\n}\n`,
    );
  }
  return name;
}
