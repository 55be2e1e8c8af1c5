// range.ts reset FILE: revert every guest to the snapshot and wait for the addresses.
import { resetRange } from "../../lib/range/snapshot.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Reverts every guest and prints how many changed (or returns the result for `--json`).
 *
 * @param context the checked command line and the range
 * @returns exit 0 (a failure part-way throws RangeOperationError, which range.ts reports)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, json, hooks, wait } = context;
  const result = await resetRange(range, registry, {
    ...hooks,
    ...wait,
    ...(values.name ? { name: values.name as string } : {}),
  });
  if (!json) {
    console.log(
      `range ${range.name}: ${result.changed.length} reverted to ${result.snapshot} in ${
        (result.tookMs / 1000).toFixed(2)
      } s`,
    );
  }
  return { exit: 0, output: result };
}
