// The API description the method stage reads: libvirt's functions, enums and string macros, from the
// generator's model (api_model.ts) or straight from libvirt-api.xml (a small reader of its function,
// enum and macro elements, for standalone use).
import type { ApiModel } from "./api_model.ts";

/** One `<arg>` of a function. */
export interface ApiArg {
  name: string;
  type: string;
  info: string;
}

/** One `<function>`. */
export interface ApiFunction {
  name: string;
  /** The header: "libvirt-domain". */
  file: string;
  version: string;
  info: string;
  returnType: string;
  returnInfo: string;
  args: ApiArg[];
}

/** One `<enum>` value. */
export interface ApiEnum {
  name: string;
  type: string;
  value: number;
  info: string;
}

/** One `<macro>` with a string value (typed-parameter field names). */
export interface ApiMacro {
  name: string;
  string: string;
  info: string;
}

/** What the stage reads. */
export interface ApiDescription {
  functions: ApiFunction[];
  enums: ApiEnum[];
  macros: ApiMacro[];
}

function unescapeXml(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll(
    "&apos;",
    "'",
  )
    .replaceAll("&amp;", "&");
}

function attrs(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const m of tag.matchAll(/(\w+)='([^']*)'/g)) result[m[1]] = unescapeXml(m[2]);
  return result;
}

function cdata(body: string, tag: string): string {
  const m = body.match(new RegExp(`<${tag}><!\\[CDATA\\[([\\s\\S]*?)\\]\\]></${tag}>`));
  return m ? m[1] : "";
}

/** The stage's view of the generator's {@link ApiModel} (lib/ffi/_gen/api_model.ts). */
export function fromApiModel(model: ApiModel): ApiDescription {
  const kinds: Record<string, string> = {
    INT: "int",
    UINT: "uint",
    LLONG: "llong",
    ULLONG: "ullong",
    DOUBLE: "double",
    BOOLEAN: "boolean",
    STRING: "string",
  };
  return {
    functions: model.functions.map((f) => ({
      name: f.name,
      file: f.header,
      version: f.version.text,
      info: f.info,
      returnType: f.returns.type,
      returnInfo: f.returns.info,
      args: f.args.map((a) => ({ name: a.name, type: a.type, info: a.info })),
    })),
    enums: model.enumValues.filter((e) => !e.sentinel).map((e) => ({
      name: e.name,
      type: e.type,
      value: e.value,
      info: e.info,
    })),
    macros: model.macros.filter((m) => m.string !== undefined).map((m) => ({
      name: m.name,
      string: m.string!,
      // the model's reading of the documented type wins over this stage's own
      info: m.typedParamType ? `${m.info} (as ${kinds[m.typedParamType]})` : m.info,
    })),
  };
}

/** Reads libvirt-api.xml (and libvirt-qemu-api.xml) into {@link ApiDescription} (standalone use). */
export function readApiXml(...texts: string[]): ApiDescription {
  const api: ApiDescription = { functions: [], enums: [], macros: [] };
  for (const text of texts) {
    for (const m of text.matchAll(/<function (name='[^>]*)>([\s\S]*?)<\/function>/g)) {
      const a = attrs(m[1]);
      const body = m[2];
      const ret = attrs(body.match(/<return [^>]*\/>/)?.[0] ?? "");
      api.functions.push({
        name: a.name,
        file: a.file,
        version: a.version ?? "0.0.0",
        info: cdata(body, "info"),
        returnType: ret.type ?? "void",
        returnInfo: ret.info ?? "",
        args: [...body.matchAll(/<arg [^>]*\/>/g)].map((x) => {
          const b = attrs(x[0]);
          return { name: b.name, type: b.type, info: b.info ?? "" };
        }),
      });
    }
    for (const m of text.matchAll(/<enum [^>]*\/>/g)) {
      const a = attrs(m[0]);
      if (a.type && a.value !== undefined) {
        api.enums.push({ name: a.name, type: a.type, value: Number(a.value), info: a.info ?? "" });
      }
    }
    for (const m of text.matchAll(/<macro (name='[^>]*)>([\s\S]*?)<\/macro>/g)) {
      const a = attrs(m[1]);
      if (a.string !== undefined) {
        api.macros.push({ name: a.name, string: a.string, info: cdata(m[2], "info") });
      }
    }
  }
  return api;
}
