/**
 * The YAML parser of range descriptions (`npm:yaml`), re-exported in one place so that the version
 * is pinned once. JSON goes through it too: YAML 1.2 reads JSON, and errors then point at lines alike.
 *
 * @module
 */
import process from "node:process";
import { yaml } from "../_deps.ts";

/** A parsed YAML document (keeps each node's source range). */
export type Document = yaml.Document;
/** Maps offsets to lines and columns. */
export type LineCounter = yaml.LineCounter;
export const { isMap, isPair, isScalar, isSeq } = yaml;

/**
 * Runs `fn` with `process.env` replaced by an empty object unless env access is granted: yaml reads
 * `process.env.LOG_TOKENS` / `LOG_STREAM` (debug switches) on every parse, which would make scripts
 * need `--allow-env` only to read a file. The swap is synchronous, so nothing else observes it.
 */
function withoutEnv<T>(fn: () => T): T {
  const granted = Deno.permissions.querySync({ name: "env", variable: "LOG_TOKENS" }).state === "granted";
  if (granted) return fn();
  const descriptor = Object.getOwnPropertyDescriptor(process, "env");
  if (!descriptor || !descriptor.configurable) return fn();
  Object.defineProperty(process, "env", {
    value: {},
    writable: true,
    configurable: true,
    enumerable: descriptor.enumerable,
  });
  try {
    return fn();
  } finally {
    Object.defineProperty(process, "env", descriptor);
  }
}

/**
 * Parses YAML (or JSON) text into a document that keeps every node's source range.
 *
 * @param text the source
 * @returns the document and the line counter that turns offsets into lines and columns
 */
export function parseYaml(text: string): { document: yaml.Document.Parsed; lines: LineCounter } {
  const lines = new yaml.LineCounter();
  const document = withoutEnv(() =>
    yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  );
  return { document, lines };
}

/**
 * Serializes a value as YAML.
 *
 * @param value a plain value
 * @returns the YAML text
 */
export function toYaml(value: unknown): string {
  return withoutEnv(() => yaml.stringify(value, { lineWidth: 0 }));
}
