// Flags options and typed-parameter schemas: the option interfaces and bit tables of each function's
// flags, the schema of each typed-parameter family, and lib/objects/_generated/options.ts holding them.
import type { ApiDescription, ApiEnum, ApiFunction } from "./methods_api.ts";
import { docText, HEADER, pascal } from "./methods_names.ts";
import { structTypes } from "./methods_structs.ts";
import { methodOverrides } from "./overrides.ts";

/** How a function's `flags` argument is offered: an options interface, and the bit table it reads. */
export interface FlagsOption {
  typeName: string;
  table?: string;
  doc: string;
}

/** The typed-parameter schema of a function: its interface and the field-kind table. */
export interface Schema {
  typeName: string;
  constName: string;
  doc: string;
}

/** The lookups the planner asks while it classifies arguments. */
export interface Indexes {
  flagsFor(fn: ApiFunction): FlagsOption;
  schemaFor(fn: string): Schema | undefined;
}

function commonPrefix(names: string[]): string {
  if (names.length === 0) return "";
  let prefix = names[0];
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf("_") + 1);
}

function optionKey(enumName: string, prefix: string): string {
  const rest = enumName.slice(prefix.length) || enumName;
  const parts = rest.toLowerCase().split("_").filter(Boolean);
  const key = parts.map((w, i) => i === 0 ? w : w[0].toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(key) ? `n${key}` : key;
}

function typedKind(info: string): string | undefined {
  const m = info.match(
    /\bas (?:an? )?(?:VIR_TYPED_PARAM_)?(unsigned long long|unsigned int|long long|int|uint|llong|ullong|double|boolean|string|unsigned long)\b/i,
  ) ?? info.match(/\b(VIR_TYPED_PARAM_(?:INT|UINT|LLONG|ULLONG|DOUBLE|BOOLEAN|STRING))\b/);
  if (!m) return undefined;
  const k = m[1].toLowerCase().replace("vir_typed_param_", "");
  return ({
    "unsigned long long": "ullong",
    "unsigned long": "ullong",
    "unsigned int": "uint",
    "long long": "llong",
  } as Record<string, string>)[k] ?? k;
}

const tsOfKind: Record<string, string> = {
  int: "number",
  uint: "number",
  double: "number",
  llong: "bigint",
  ullong: "bigint",
  boolean: "boolean",
  string: "string",
};

/** The bits of an enum worth naming: not 0, not the `_LAST`/`_MASK` sentinels. */
function flagMembers(members: ApiEnum[] | undefined): ApiEnum[] {
  return (members ?? []).filter((e) => e.value !== 0 && !/_LAST$|_MASK$/.test(e.name));
}

/** A typed-parameter field: its kind, the macro naming it, libvirt's doc. */
interface SchemaField {
  kind: string;
  macro: string;
  info: string;
}

/** The options and schemas code, collected as the planner asks for flags and typed parameters. */
class OptionsModule implements Indexes {
  readonly #api: ApiDescription;
  readonly #enumsByType = new Map<string, ApiEnum[]>();
  readonly #tables = new Map<string, string>(); // enum type -> const name
  readonly #interfaces: string[] = [];
  readonly #tableCode: string[] = [];
  readonly #schemaCode: string[] = [];
  readonly #schemas = new Map<string, Schema>();
  readonly unknownTypes: string[] = [];

  constructor(api: ApiDescription) {
    this.#api = api;
    for (const e of api.enums) {
      if (!this.#enumsByType.has(e.type)) this.#enumsByType.set(e.type, []);
      this.#enumsByType.get(e.type)!.push(e);
    }
  }

  /** The `...Bits` table of an enum type, emitted on first use; undefined when it has no bits. */
  #tableOf(type: string): string | undefined {
    if (this.#tables.has(type)) return this.#tables.get(type);
    const members = flagMembers(this.#enumsByType.get(type));
    if (members.length === 0) return undefined;
    const name = `${pascal(type.replace(/^vir/, ""))}Bits`;
    const prefix = commonPrefix(members.map((e) => e.name));
    const lines = members.map((e) =>
      `  /** ${e.name}${e.info ? `: ${docText(e.info)}` : ""} */\n  ${optionKey(e.name, prefix)}: ${e.value},`
    );
    this.#tableCode.push(
      `/** The bits of \`${type}\`, by option name. */\nexport const ${name} = {\n${
        lines.join("\n")
      }\n} as const;\n`,
    );
    this.#tables.set(type, name);
    return name;
  }

  flagsFor(fn: ApiFunction): FlagsOption {
    const arg = fn.args.find((a) => a.name === "flags")!;
    const typeName = `${pascal(fn.name.replace(/^vir/, ""))}Options`;
    const override = methodOverrides.flagsEnums[fn.name];
    const types = override ??
      [...new Set(arg.info.match(/vir[A-Z][A-Za-z]+/g) ?? [])].filter((t) => this.#enumsByType.has(t));
    const named = types.map((t) => ({ t, table: this.#tableOf(t) })).filter((x) => x.table);
    const doc = `flags as options: ${
      named.length ? named.map((x) => `\`${x.t}\``).join(", ") + " bits by name" : "none named yet"
    }, or a raw \`flags\` number`;
    if (named.length === 0) {
      this.#interfaces.push(
        `/** Options of ${
          fn.name.slice(3)
        }: its flags are not used yet; \`flags\` passes raw bits. */\nexport interface ${typeName} {\n  /** Raw flag bits. */\n  flags?: number;\n}\n`,
      );
      return { typeName, doc };
    }
    const table = named.length === 1 ? named[0].table! : this.#mergedTable(fn, named);
    this.#interfaces.push(this.#flagsInterface(fn, typeName, named));
    return { typeName, table, doc };
  }

  /** A function whose flags come from several enums: one table spreading theirs. */
  #mergedTable(fn: ApiFunction, named: { t: string; table: string | undefined }[]): string {
    const table = `${pascal(fn.name.replace(/^vir/, ""))}Bits`;
    this.#tableCode.push(
      `/** The flag bits of ${
        fn.name.slice(3)
      }. */\nexport const ${table}: Readonly<Record<string, number>> = { ${
        named.map((x) => `...${x.table}`).reverse().join(", ")
      } };\n`,
    );
    return table;
  }

  /** The options interface of a function's flags: one boolean per named bit. */
  #flagsInterface(fn: ApiFunction, typeName: string, named: { t: string }[]): string {
    const keys = new Map<string, ApiEnum>();
    for (const { t } of named) {
      const members = flagMembers(this.#enumsByType.get(t));
      const prefix = commonPrefix(members.map((e) => e.name));
      for (const e of members) {
        if (!keys.has(optionKey(e.name, prefix))) keys.set(optionKey(e.name, prefix), e);
      }
    }
    const fields = [...keys].map(([k, e]) =>
      `  /** \`${e.name}\`${e.info ? `: ${docText(e.info)}` : ""} */\n  ${k}?: boolean;`
    );
    return `/** Options of ${fn.name.slice(3)}: ${
      named.map((x) => `\`${x.t}\``).join(", ")
    } as booleans. */\nexport interface ${typeName} {\n${
      fields.join("\n")
    }\n  /** Raw flag bits, OR'd with the named ones. */\n  flags?: number;\n}\n`;
  }

  schemaFor(fn: string): Schema | undefined {
    if (this.#schemas.has(fn)) return this.#schemas.get(fn);
    const spec = methodOverrides.typedParams[fn];
    if (spec === undefined) return undefined;
    const typeName = spec.typeName;
    const constName = `${typeName}Schema`;
    if (![...this.#schemas.values()].some((s) => s.typeName === typeName)) {
      this.#schemaCode.push(schemaCodeOf(spec, constName, this.#schemaFields(fn, spec)));
    }
    const schema = { typeName, constName, doc: `{@link ${typeName}}` };
    this.#schemas.set(fn, schema);
    return schema;
  }

  /** The fields of a typed-parameter family: its macros' names and kinds, plus the override's extras. */
  #schemaFields(fn: string, spec: TypedParamSpec): Map<string, SchemaField> {
    const fields = new Map<string, SchemaField>();
    for (const prefix of spec.prefixes) {
      for (const mac of this.#api.macros) {
        if (!mac.name.startsWith(prefix) || mac.name.endsWith("_LENGTH")) continue;
        const kind = spec.kinds?.[mac.string] ?? typedKind(mac.info) ?? spec.defaultKind;
        if (kind === undefined) {
          this.unknownTypes.push(`${mac.name} (${fn})`);
          continue;
        }
        if (!fields.has(mac.string)) fields.set(mac.string, { kind, macro: mac.name, info: mac.info });
      }
    }
    for (const [k, kind] of Object.entries(spec.kinds ?? {})) {
      if (!fields.has(k)) fields.set(k, { kind, macro: "", info: "" });
    }
    return fields;
  }

  /** lib/objects/_generated/options.ts: the flag tables and options, the schemas, the struct interfaces. */
  module(): string {
    return `${HEADER}import type { TypedParamSchema, TypedValue } from "../../ffi/marshal.ts";\n\n// Flags\n\n${
      this.#tableCode.join("\n")
    }\n${this.#interfaces.join("\n")}\n// Typed parameters\n\n${this.#schemaCode.join("\n")}\n// Structs\n\n${
      [...structTypes.values()].join("\n")
    }`;
  }
}

/** A typed-parameter family as overrides.ts describes it. */
type TypedParamSpec = (typeof methodOverrides.typedParams)[string];

/** The interface and the field-kind table of a typed-parameter family. */
function schemaCodeOf(spec: TypedParamSpec, constName: string, fields: Map<string, SchemaField>): string {
  const typeName = spec.typeName;
  const lines = [...fields].map(([k, f]) =>
    `  /** ${f.macro ? `\`${f.macro}\` (${f.kind})` : f.kind}${f.info ? `: ${docText(f.info)}` : ""} */\n  ${
      JSON.stringify(k)
    }?: ${f.kind === "llong" || f.kind === "ullong" ? "Wide" : tsOfKind[f.kind]}${
      spec.open ? " | TypedValue[]" : ""
    };`
  );
  return `/** Typed parameters of ${spec.functions.map((f) => f.replace(/^vir/, "")).join(", ")} (${
    spec.prefixes.join(", ")
  }*): 64-bit integers are bigints when read, numbers or bigints when given (\`Wide\`). */\nexport interface ${typeName}<Wide extends number | bigint = bigint> {\n${
    lines.join("\n")
  }${
    spec.open
      ? '\n  /** Fields libvirt adds per device or per index ("disk.0.name", ...). */\n  [field: string]: TypedValue | TypedValue[] | undefined;'
      : ""
  }\n}\n\n/** The field kinds of {@link ${typeName}}. */\nexport const ${constName}: TypedParamSchema = {\n${
    [...fields].map(([k, f]) => `  ${JSON.stringify(k)}: ${JSON.stringify(f.kind)},`).join("\n")
  }\n};\n`;
}

/** Builds the options/schemas module and the lookups the planner uses. */
export function buildIndexes(
  api: ApiDescription,
): { indexes: Indexes; module: () => string; unknownTypes: string[] } {
  const options = new OptionsModule(api);
  return { indexes: options, module: () => options.module(), unknownTypes: options.unknownTypes };
}
