// range.ts playbook FILE: the guests' tasks as an Ansible playbook.
import { rangePlaybook } from "../../lib/range/playbook.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Prints the playbook of the description (no hypervisor is asked).
 *
 * @param context the range
 * @returns exit 0; the playbook is printed, there is no JSON document
 */
export async function run({ range }: RangeCommandContext): Promise<RangeCommandResult> {
  console.log(await rangePlaybook(range));
  return { exit: 0 };
}
