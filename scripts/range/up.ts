// range.ts up FILE: create what is missing, start the guests, wait for their addresses, capture their
// consoles; with --snapshot, then take the reset snapshot.
import { upRange } from "../../lib/range/up.ts";
import type { RangeCommandContext, RangeCommandResult } from "./_context.ts";

/**
 * Brings the range up and prints what it did (or returns it for `--json`).
 *
 * @param context the checked command line and the range
 * @returns exit 0 (a failure part-way throws RangeOperationError, which range.ts reports)
 */
export async function run(context: RangeCommandContext): Promise<RangeCommandResult> {
  const { range, registry, values, json, hooks, wait } = context;
  // base images uploaded to hosts that lack them: a line a second per image and host
  const lastShown = new Map<string, number>();
  const result = await upRange(range, registry, {
    ...hooks,
    ...wait,
    onImageProgress: (p) => {
      const key = `${p.image}\0${p.host}\0${p.stage}`;
      const done = p.bytes >= p.totalBytes;
      if (json || (!done && performance.now() - (lastShown.get(key) ?? -Infinity) < 1000)) return;
      lastShown.set(key, performance.now());
      console.error(
        `image ${p.image} @${p.host}: ${p.stage === "upload" ? "uploaded" : "verified"} ${
          (p.bytes / 1048576).toFixed(1)
        } of ${(p.totalBytes / 1048576).toFixed(1)} MiB`,
      );
    },
    consoles: values["no-consoles"] ? false : {
      ...(values["console-dir"] ? { dir: values["console-dir"] as string } : {}),
    },
  });
  const snap = values.snapshot
    ? await (await import("../../lib/range/snapshot.ts")).snapshotRange(range, registry, {
      ...hooks,
      ...(values.name ? { name: values.name as string } : {}),
    })
    : undefined;
  if (!json) {
    console.log(
      `range ${range.name}: ${result.created.length} created, ${result.kept.length} kept, ${result.started.length} started, ` +
        `${result.addresses.length}/${range.guests.length} addresses in ${
          (result.tookMs / 1000).toFixed(2)
        } s`,
    );
    for (const a of result.addresses) {
      console.log(`  ${a.name.padEnd(24)} ${a.address.padEnd(16)} ${a.confidence}  @${a.host}`);
    }
    for (const t of result.tasks) {
      console.log(
        `  task ${t.guest} #${t.index + 1} ${t.task}: ${t.status}${t.reason ? ` (${t.reason})` : ""}` +
          (t.output ? `\n    ${t.output.split("\n").join("\n    ")}` : ""),
      );
    }
    if (snap) {
      console.log(`snapshot ${snap.snapshot}: ${snap.changed.length} taken, ${snap.kept.length} kept`);
    }
    const captured = result.consoles.filter((c) => c.status === "captured");
    if (captured.length > 0) console.log(`consoles: ${captured.length} logged, e.g. ${captured[0].path}`);
    // one line per distinct reason: 1,000 test-driver guests are one line
    const skipped = Map.groupBy(result.consoles.filter((c) => c.status === "skipped"), (c) => c.reason);
    for (const [reason, guests] of skipped) console.log(`consoles: ${guests.length} not logged: ${reason}`);
  }
  return { exit: 0, output: { ...result, snapshot: snap } };
}
