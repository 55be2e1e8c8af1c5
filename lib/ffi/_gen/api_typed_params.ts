// The value type of a typed-parameter field, read from the wording of libvirt's documentation of its
// macro (api_model.ts records it on each string macro).

/** The value type a typed-parameter name carries (`virTypedParameterType` without the prefix). */
export type TypedParamTypeName = "INT" | "UINT" | "LLONG" | "ULLONG" | "DOUBLE" | "BOOLEAN" | "STRING";

const typedParamNames: Record<string, TypedParamTypeName> = {
  INT: "INT",
  UINT: "UINT",
  LLONG: "LLONG",
  ULLONG: "ULLONG",
  DOUBLE: "DOUBLE",
  BOOLEAN: "BOOLEAN",
  STRING: "STRING",
  int: "INT",
  uint: "UINT",
  "unsigned int": "UINT",
  llong: "LLONG",
  "long long": "LLONG",
  ullong: "ULLONG",
  "unsigned long long": "ULLONG",
  double: "DOUBLE",
  boolean: "BOOLEAN",
  string: "STRING",
};
// "as VIR_TYPED_PARAM_ULLONG", "a base64-encoded VIR_TYPED_PARAM_STRING", "as VIR_TYPED_PARAMS_STRING"
const explicitType = /\bVIR_TYPED_PARAMS?_(INT|UINT|LLONG|ULLONG|DOUBLE|BOOLEAN|STRING)\b/;
// "as a uint", "as an llong", "with a type of ullong", "has type int", "as unsigned long long"
const wordType =
  /\b(?:as an?|as|type of|has type)\s+(unsigned long long|unsigned int|long long|ullong|llong|uint|int|double|boolean|string)\b/;

/**
 * The typed-parameter value type a macro's documentation states, or undefined when it states none.
 *
 * @param info the macro's `<info>` text
 * @returns `"ULLONG"` for "..., as VIR_TYPED_PARAM_ULLONG." or "..., as a ullong."
 *
 * @example
 * ```ts
 * import { typedParamTypeOf } from "./api_model.ts";
 * console.log(typedParamTypeOf("the inbound average of NIC bandwidth, as a uint.")); // UINT
 * ```
 */
export function typedParamTypeOf(info: string): TypedParamTypeName | undefined {
  const text = info.replace(/\s+/g, " ");
  const explicit = explicitType.exec(text);
  if (explicit !== null) return typedParamNames[explicit[1]];
  const word = wordType.exec(text);
  return word === null ? undefined : typedParamNames[word[1]];
}
