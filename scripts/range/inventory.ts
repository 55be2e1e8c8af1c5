// range.ts inventory FILE: the inventory as JSON, Ansible INI or YAML; as an Ansible inventory script,
// --list (the JSON) or --host NAME (one host's variables).
import { ansibleIni, ansibleYaml, inventoryHost, inventoryJson } from "../../lib/range/inventory.ts";
import { rangeStatus } from "../../lib/range/status.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Prints the inventory in the `--format` asked (or returns the JSON inventory for `--json`).
 *
 * @param context the checked command line (--format, --list, --host) and the range
 * @returns exit 1 when some described guest has no address; 0 for --list and --host (Ansible wants it)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, json, format, concurrency } = context;
  const status = await rangeStatus(range, registry, { concurrency });
  // Ansible runs an inventory script with --list or --host NAME and wants JSON and exit 0
  if (values.list || values.host !== undefined) {
    const value = values.host !== undefined
      ? inventoryHost(status, values.host as string)
      : inventoryJson(status);
    console.log(JSON.stringify(value, null, json ? 2 : undefined));
    return { exit: 0 };
  }
  const exit = status.counts.withAddress < status.counts.described ? 1 : 0;
  if (format !== "json") {
    console.log(format === "ini" ? ansibleIni(status) : ansibleYaml(status));
    return { exit };
  }
  const output = inventoryJson(status);
  if (!json) console.log(JSON.stringify(output, null, 2));
  return { exit, output: json ? output : undefined };
}
