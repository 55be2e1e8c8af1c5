// Classification: how each libvirt function becomes a method (its parameters, the argument conversions,
// the FFI arguments, what it returns), or why it gets none.
import type { ApiFunction } from "./methods_api.ts";
import type { Indexes } from "./methods_indexes.ts";
import { docText, ident, isNullable, methodName, objectByType, type ObjectSpec } from "./methods_names.ts";
import { ARG_RULES, type ArgResult } from "./methods_plan_args.ts";
import type { Plan, Skip } from "./methods_types.ts";
import { methodOverrides, NULLABLE_ARGS } from "./overrides.ts";

export type { OutValue, Param, Plan, Skip } from "./methods_types.ts";

function retKind(fn: ApiFunction): Plan["ret"] | undefined {
  const info = fn.returnInfo;
  switch (fn.returnType) {
    case "int":
      if (/^vir\w+?(Is|Has)[A-Z]/.test(fn.name) && !/number of/i.test(info)) {
        return { kind: "boolean", tsType: "boolean", doc: docText(info) };
      }
      if (
        !/number of|count|the (maximum|max)|\bid\b|watch|callback/i.test(info) &&
        (/(^|[^-\d])0 (in case of|on|if|upon|for|when|in) (success|succe)|0 if succe|\b0 on succ|returns? 0\b|^0\b|, 0 otherwise|0 in case of success/i
          .test(info))
      ) {
        if (/(^|[^-])\b1\b (if|when|in case)/.test(info)) {
          return { kind: "boolean", tsType: "boolean", doc: docText(info) };
        }
        return { kind: "void", tsType: "void", doc: "" };
      }
      if (/(^|[^-\d])1 (if|when)\b/.test(info) && !/number of/i.test(info)) {
        return { kind: "boolean", tsType: "boolean", doc: docText(info) };
      }
      return { kind: "number", tsType: "number", doc: docText(info) };
    case "unsigned int":
      return { kind: "number", tsType: "number", doc: docText(info) };
    case "unsigned long":
    case "unsigned long long":
      return { kind: "bigint", tsType: "bigint", doc: docText(info) };
    case "char *":
    case "const char *":
      return { kind: "string", tsType: "string", doc: docText(info) };
    default:
      if (objectByType.has(fn.returnType)) {
        return { kind: "handle", tsType: objectByType.get(fn.returnType)!.className, doc: docText(info) };
      }
      return undefined;
  }
}

/** A plan with nothing classified yet but the object, the name and how the C return reads. */
function newPlan(fn: ApiFunction, object: ObjectSpec, ret: Plan["ret"], local: Set<string>): Plan {
  const p: Plan = {
    fn,
    object,
    method: methodOverrides.rename[fn.name] ?? methodName(fn.name, object),
    params: [],
    prelude: [],
    ffiArgs: [],
    held: [],
    outs: [],
    ret,
    failed: fn.returnType.endsWith("*") || objectByType.has(fn.returnType) ? "m.isNull" : "m.isNegative",
    io: !local.has(fn.name),
    needsWrap: false,
    sync: methodOverrides.syncTwins.includes(fn.name),
    imports: new Set(),
  };
  if (ret.kind === "bigint") {
    p.failed = /\b0\b.*(error|fail)/i.test(fn.returnInfo) ? "(r: bigint) => r === 0n" : "() => false";
  }
  if (fn.returnType === "unsigned int") p.failed = "() => false";
  if (fn.returnType === "const char *" && !p.io) p.failed = "() => false";
  if (ret.kind === "handle") {
    p.handleResult = objectByType.get(fn.returnType)!;
    p.needsWrap = true;
  }
  return p;
}

/** Classifies every argument after the object's own; a string is why the function gets no method. */
function planArgs(p: Plan, api: Indexes): string | undefined {
  const args = p.fn.args;
  const F = JSON.stringify(p.fn.name);
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    const c = {
      p,
      fn: p.fn,
      a,
      next: args[i + 1],
      n: ident(a.name),
      t: a.type,
      nullable: isNullable(a.info) || `${p.fn.name}.${a.name}` in NULLABLE_ARGS,
      F,
      api,
    };
    let result: ArgResult;
    for (const rule of ARG_RULES) {
      result = rule(c);
      if (result !== undefined) break;
    }
    if (result === undefined) return `argument ${a.name} of type ${a.type}`;
    if (typeof result === "string") return result;
    i += result - 1;
  }
  return undefined;
}

/**
 * Converts arguments before queueing for the connection (bad input fails fast); object arguments are
 * taken inside the call (`m.holding`, once the gate admitted it) and held until C has returned, so a
 * free() or close() of them meanwhile cannot pull them away. Then: optional parameters only at the end.
 */
function finishPlan(p: Plan): Plan {
  p.ffiArgs = p.ffiArgs.map((expr, i) => {
    if (/^m\.(str|strOrNull|int|int64|double|bytes)\(/.test(expr)) {
      p.prelude.push(`const a${i} = ${expr};`);
      return `a${i}`;
    }
    return expr;
  });
  let seenRequired = false;
  for (let i = p.params.length - 1; i >= 0; i--) {
    if (!p.params[i].optional) seenRequired = true;
    else if (seenRequired) p.params[i].optional = false;
  }
  return p;
}

/** Plans a method, or says why there is none. */
export function plan(fn: ApiFunction, api: Indexes, local: Set<string>): Plan | Skip {
  const skip = (reason: string): Skip => ({ fn: fn.name, reason });
  const first = fn.args[0];
  const object = first && objectByType.get(first.type);
  if (object === undefined) return skip("no object argument first (a process-wide or helper function)");
  const ret = retKind(fn);
  if (ret === undefined) return skip(`returns ${fn.returnType}`);
  const p = newPlan(fn, object, ret, local);
  const refused = planArgs(p, api);
  if (refused !== undefined) return skip(refused);
  if (fn.returnType === "unsigned char *") return skip("returns bytes");
  return finishPlan(p);
}
