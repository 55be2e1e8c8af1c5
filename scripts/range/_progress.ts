// The progress of range operations on stderr: a redrawn status line per phase on a terminal, plain lines
// otherwise, nothing with --json.
import type { RangeProgress } from "../../lib/range/types.ts";

/**
 * A progress printer for range operations.
 *
 * @param json true with `--json` (the printer then prints nothing)
 * @returns the `onProgress` hook the range operations take
 * @example
 * ```ts
 * import { progressPrinter } from "./_progress.ts";
 * progressPrinter(false)({ phase: "domain", status: "end", done: 8, total: 8, elapsedMs: 1200 });
 * ```
 */
export function progressPrinter(json: boolean): (e: RangeProgress) => void {
  const terminal = Deno.stderr.isTerminal() && !json;
  const encoder = new TextEncoder();
  return (e: RangeProgress): void => {
    if (json) return;
    const elapsed = `${(e.elapsedMs / 1000).toFixed(1)}s`;
    if (terminal) {
      const bar = e.total > 0 ? `${e.done}/${e.total}` : "";
      const item = e.target ? ` ${e.status} ${e.target}${e.host ? ` @${e.host}` : ""}` : "";
      const line = `\r\x1b[2K[${elapsed}] ${e.phase.padEnd(9)} ${bar.padStart(11)}${
        e.status === "end" ? " done" : item
      }`;
      Deno.stderr.writeSync(encoder.encode(e.status === "end" ? `${line}\n` : line));
      if (e.status === "failed") Deno.stderr.writeSync(encoder.encode(`\n  ${e.target}: ${e.error}\n`));
    } else if (e.status === "end" || e.status === "failed" || (e.status !== "start" && e.total <= 50)) {
      const what = e.status === "end"
        ? `${e.done}/${e.total} done`
        : `${e.status} ${e.target ?? ""} ${e.host ?? ""}`;
      console.error(`[${elapsed}] ${e.phase}: ${what}${e.error ? `: ${e.error}` : ""}`.trimEnd());
    }
  };
}
