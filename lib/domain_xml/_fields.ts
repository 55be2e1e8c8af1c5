// The field checks of the domain XML builder (lib/domain_xml.ts and its parts): each takes the field's
// name as the user wrote it ("disks[1].target") and fails with a TypeError naming the field, the value
// (elided past 80 characters) and the fix; text values come back escaped for XML.
import { escapeXml } from "../xml.ts";

const TOKEN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** A value quoted for an error message, elided past 80 characters (a 50 MB value, a 50 MB message). */
export function shown(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 80
      ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)`
      : JSON.stringify(value);
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // a cycle or a BigInt
  }
  text ??= typeof value === "object" && value !== null
    ? Object.prototype.toString.call(value)
    : String(value);
  return text.length > 82 ? `${text.slice(0, 80)}…` : text;
}

export function fail(field: string, value: unknown, fix: string, action = "build domain XML"): never {
  throw new TypeError(`Cannot ${action}: ${field} ${shown(value)} ${fix}`);
}

// XML 1.0 `Char` complement: what no escape can express (NUL, C0 controls but tab/LF/CR, lone
// surrogates, U+FFFE, U+FFFF).
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** escapeXml with the field named in the error (and the value elided, not repeated in full). */
export function text(field: string, value: unknown): string {
  if (typeof value !== "string") fail(field, value, "must be a string");
  const bad = NOT_XML.exec(value);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    throw new TypeError(
      `Cannot build domain XML: ${field}: ${shown(value)} contains U+${code} at position ${bad.index}, ` +
        "which XML cannot carry: remove it",
    );
  }
  return escapeXml(value);
}

/**
 * A plain object (a mapping) none of whose fields is null, or a TypeError naming the field: an optional
 * field is omitted (or undefined) for its default, never null, so a null cannot silently become "kvm".
 */
export function record(field: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, value, "must be an object");
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === null) {
      fail(field === "spec" ? key : `${field}.${key}`, v, "is null: omit the field for its default");
    }
  }
  return value as Record<string, unknown>;
}

/** A list, or a TypeError naming the field. */
export function list(field: string, value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(field, value, "must be a list (an array)");
  return value;
}

export function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") fail(field, value, "must be a non-empty string");
  return text(field, value);
}

export function token(field: string, value: string, example: string): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    fail(
      field,
      value,
      `is not a plain identifier: use letters, digits, "_.+-", e.g. ${JSON.stringify(example)}`,
    );
  }
  return value;
}

export function positiveInteger(field: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    fail(field, value, `must be an integer from 1 to ${max}`);
  }
  return value;
}
