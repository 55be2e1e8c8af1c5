// Third-party dependencies, pinned, in one place. Users import this library by URL, where deno.json's
// import map does not apply, so the specifiers are full ones (the lint rule prefers bare names that
// only an import map can resolve). The XML parser lives in lib/_deps_xml.ts, so that XML users do not
// load YAML.

export { XMLParser } from "./_deps_xml.ts";
export * as yaml from "npm:yaml@2.9.1";
