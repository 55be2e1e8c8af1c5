// range.ts plan FILE: what up would create, keep, or cannot do.
import { planRange } from "../../lib/range/plan.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Plans the range and prints one line per item (or returns the plan for `--json`).
 *
 * @param context the checked command line and the range
 * @returns exit 1 when the plan has conflicts
 */
export async function run({ range, registry, json }: RangeCommandContext): Promise<RangeCommandResult> {
  const plan = await planRange(range, registry);
  if (!json) {
    for (const i of plan.items) {
      console.log(`${i.action.padEnd(8)} ${i.kind.padEnd(7)} ${i.name}  @${i.host}  ${i.reason}`);
    }
    console.log(`${plan.create} to create, ${plan.keep} to keep, ${plan.conflict} conflict(s)`);
  }
  return { exit: plan.conflict > 0 ? 1 : 0, output: plan };
}
