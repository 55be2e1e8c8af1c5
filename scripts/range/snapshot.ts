// range.ts snapshot FILE: take the snapshot (--name, default the description's) of every guest.
import { snapshotRange } from "../../lib/range/snapshot.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Snapshots every guest and prints how many were taken (or returns the result for `--json`).
 *
 * @param context the checked command line and the range
 * @returns exit 0 (a failure part-way throws RangeOperationError, which range.ts reports)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, json, hooks } = context;
  const result = await snapshotRange(range, registry, {
    ...hooks,
    ...(values.name ? { name: values.name as string } : {}),
  });
  if (!json) {
    console.log(`snapshot ${result.snapshot}: ${result.changed.length} taken, ${result.kept.length} kept`);
  }
  return { exit: 0, output: result };
}
