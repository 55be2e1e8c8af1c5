// range.ts status FILE: each guest's state and addresses.
import { rangeStatus } from "../../lib/range/status.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Prints one line per guest (state, address, its confidence and flags, NICs) and the counts, or returns
 * the status for `--json`.
 *
 * @param context the checked command line and the range
 * @returns exit 1 when some described guest has no address
 */
export async function run(
  { range, registry, json, concurrency }: RangeCommandContext,
): Promise<RangeCommandResult> {
  const status = await rangeStatus(range, registry, { concurrency });
  const exit = status.counts.withAddress < status.counts.described ? 1 : 0;
  if (json) return { exit, output: status };
  console.log(["GUEST", "HOST", "STATE", "ADDRESS", "CONF", "FLAGS", "NICS"].join("\t"));
  for (const g of status.guests) {
    console.log(
      [
        g.name,
        g.host,
        g.state,
        g.address ?? "-",
        g.confidence ?? "-",
        // why the confidence is what it is: outside-subnet, same-origin, arp-only, ...
        g.nics.flatMap((n) => n.addresses).find((a) => a.address === g.address)?.flags.join(",") || "-",
        g.nics.map((n) => `${n.network}=${n.mac}`).join(","),
      ].join("\t"),
    );
  }
  console.log(
    `${status.counts.running}/${status.counts.described} running, ${status.counts.withAddress} with an address`,
  );
  return { exit };
}
