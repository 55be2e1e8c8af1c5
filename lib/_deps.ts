// Third-party dependencies, pinned, in one place. Users import this library by URL, where deno.json's
// import map does not apply, so the specifiers are full ones (the lint rule prefers bare names that
// only an import map can resolve).

export { XMLParser } from "npm:fast-xml-parser@5.12.1";
export * as yaml from "npm:yaml@2.9.1";
