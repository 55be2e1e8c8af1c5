// range.ts migrate FILE GUEST --to HOST: live-migrate a running guest to another host of the range.
import { migrateRangeGuest } from "../../lib/range/migrate.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Migrates the guest, printing progress once a second; Ctrl-C aborts the migration job (the guest stays
 * where it was) instead of leaving it running.
 *
 * @param context the checked command line (GUEST, --to, --bandwidth, --migrate-uri, --unsafe) and the range
 * @returns exit 0 (a failed or interrupted migration throws, which range.ts reports with exit 1)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, positionals, json } = context;
  let shown = 0;
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort(new Error("interrupted (SIGINT): the guest stays where it was"));
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    const result = await migrateRangeGuest(range, registry, positionals[2], values.to as string, {
      signal: interrupt.signal,
      ...(values.bandwidth !== undefined ? { bandwidth: Number(values.bandwidth) } : {}),
      ...(values["migrate-uri"] ? { migrateUri: values["migrate-uri"] as string } : {}),
      unsafe: values.unsafe as boolean,
      progressIntervalMs: 500,
      onProgress: (p) => {
        if (json || performance.now() - shown < 1000) return;
        shown = performance.now();
        const mib = (n: number) => (n / 1048576).toFixed(1);
        console.error(
          `[${(p.elapsedMs / 1000).toFixed(1)}s] migrate: ${mib(p.dataProcessed)} MiB sent, ${
            mib(p.dataRemaining)
          } MiB to go${p.memoryBps ? `, ${mib(p.memoryBps)} MiB/s` : ""}`,
        );
      },
    });
    if (!json) {
      console.log(
        result.migrated
          ? `${result.guest}: ${result.from} -> ${result.to} in ${(result.tookMs / 1000).toFixed(2)} s`
          : `${result.guest}: on ${result.to} already`,
      );
    }
    return { exit: 0, output: result };
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}
