// range.ts graph FILE: hosts, networks, guests and addresses as Mermaid, Graphviz dot, or SVG.
import { graphDot, graphMermaid, renderSvg } from "../../lib/range/graph.ts";
import { rangeStatus } from "../../lib/range/status.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Prints the range's graph in the `--format` asked (svg through Graphviz's dot).
 *
 * @param context the checked command line and the range
 * @returns exit 0; the graph is printed, there is no JSON document
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, concurrency, format } = context;
  const status = await rangeStatus(range, registry, { concurrency });
  console.log(
    format === "mermaid"
      ? graphMermaid(range, status)
      : format === "dot"
      ? graphDot(range, status)
      : await renderSvg(graphDot(range, status)),
  );
  return { exit: 0 };
}
