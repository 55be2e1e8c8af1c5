// range.ts down FILE: remove everything the range created (found by its tags).
import { downRange } from "../../lib/range/down.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Tears the range down and prints what it removed (or returns it for `--json`).
 *
 * @param context the checked command line and the range
 * @returns exit 0 (a failure part-way throws RangeOperationError, which range.ts reports)
 */
export async function run(
  { range, registry, json, hooks }: RangeCommandContext,
): Promise<RangeCommandResult> {
  const result = await downRange(range, registry, hooks);
  if (!json) {
    console.log(
      `range ${range.name}: ${result.removed.length} removed in ${(result.tookMs / 1000).toFixed(2)} s`,
    );
  }
  return { exit: 0, output: result };
}
