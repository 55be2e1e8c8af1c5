// Third-party dependencies, pinned, in one place. Users import this library by URL, where deno.json's
// import map does not apply, so the specifiers are full ones (the lint rule prefers bare names that
// only an import map can resolve). The XML parser lives in lib/_deps_xml.ts, so that YAML users do not
// load it (lib/xml.ts has a parser of its own; only the generator and tests import it there).

// js-yaml, not yaml: npm:yaml reads process.env on every parse (a permission prompt without --allow-env).
export * as jsYaml from "npm:js-yaml@5.5.0";
