// The runtime twins of the generated object modules: lib/objects/_generated/<name>.js next to each
// <name>.ts, the same code with its types and JSDoc removed by the pinned TypeScript compiler. Programs
// import the .js (it names its .ts with `@ts-self-types`, so the type checker and `deno doc` read the
// .ts: every method keeps its signature and documentation); `deno run` never loads a types module. Why:
// the .ts files are ~0.5 MB, most of it declarations and JSDoc, and a one-shot script (scripts/vm_ip.ts)
// paid for loading them (docs/benchmarks.md, "Session h11-import").
import { ts } from "./_deps.ts";
import { HEADER } from "./methods_names.ts";

/** True for the generated modules that get a runtime twin: every module of lib/objects/_generated/. */
export function hasJsTwin(path: string): boolean {
  return /^lib\/objects\/_generated\/\w+\.ts$/.test(path);
}

/** The twin's path: `<name>.js` next to `<name>.ts`. */
export function jsTwinPath(path: string): string {
  return path.replace(/\.ts$/, ".js");
}

/**
 * The runtime twin of one generated module (its formatted TypeScript in, JavaScript out, to be
 * formatted as JavaScript): imports of its sibling generated modules name their twins, so a program
 * loads no generated .ts at all.
 */
export function jsTwin(path: string, text: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const { outputText, diagnostics } = ts.transpileModule(text, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      removeComments: true,
      useDefineForClassFields: true,
    },
  });
  if (diagnostics?.length) {
    const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    throw new Error(`Cannot make the runtime twin of ${path}: ${messages.join("; ")}`);
  }
  const code = outputText.replace(/ from "\.\/(\w+)\.ts";/g, ' from "./$1.js";');
  if (/ from "\.\/\w+\.ts"|import\("\.\//.test(code)) {
    throw new Error(`The runtime twin of ${path} still imports a sibling .ts module`);
  }
  return `${HEADER}// @ts-self-types="./${name}"\n// The runtime twin of ${name}: its code without the types and JSDoc (${name} has them, for the type\n// checker and deno doc). Import this module, not ${name}.\n${code}`;
}
