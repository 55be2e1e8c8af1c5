/**
 * Console output as text for people and for pattern matching: terminal escape sequences and control
 * characters removed.
 *
 * @module
 */

/**
 * Console output as text for people: escape sequences (colours, cursor moves) and control characters
 * other than newline and tab removed, CR LF as LF.
 *
 * @param text raw console text
 * @returns the cleaned text
 * @example
 * ```ts
 * import { cleanConsoleText } from "@deno-libvirt/deno-libvirt";
 * console.log(cleanConsoleText("\x1b[1mready\x1b[0m\r\n")); // "ready\n"
 * ```
 */
export function cleanConsoleText(text: string): string {
  return text
    .replace(CSI, "")
    .replace(OSC, "")
    .replace(ESC_OTHER, "")
    .replace(/\r+\n/g, "\n")
    .replace(/\r/g, "\n")
    .replace(CONTROLS, "");
}

// deno-lint-ignore no-control-regex
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g; // colours, cursor moves
// deno-lint-ignore no-control-regex
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g; // window titles
// deno-lint-ignore no-control-regex
const ESC_OTHER = /\x1b[@-_]/g;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g; // all but tab and newline
