// range.ts console FILE GUEST: attach to a guest's serial console (scripts/_console.ts does the work).
import { consoleCommand } from "../_console.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Attaches the terminal (or piped stdin) to the guest's serial console until detached.
 *
 * @param context the checked command line (GUEST, --force, --until, --linger, --timeout) and the range
 * @returns the console's exit code (1 when --until did not match within --timeout)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, positionals, timeoutMs } = context;
  const until = values.until === undefined ? undefined : new RegExp(values.until as string);
  const exit = await consoleCommand(range, registry, positionals[2], {
    force: values.force as boolean,
    lingerMs: Number(values.linger),
    timeoutMs,
    ...(until ? { until } : {}),
  });
  return { exit };
}
