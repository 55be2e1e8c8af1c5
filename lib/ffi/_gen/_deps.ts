// The generator's third-party dependency, pinned, in one place (as lib/_deps.ts and tests/_deps.ts do):
// the TypeScript compiler (the version tests/_deps.ts pins), which writes the generated modules' runtime
// twins (methods_js.ts). Only the generator imports it; the library never does.
export { default as ts } from "npm:typescript@5.9.3";
