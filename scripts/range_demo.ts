#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * The range demo: brings up the 24-guest, two-network range of examples/range_test_driver.yaml on
 * libvirt's embedded test hypervisor (`test:///default`: nothing to install, nothing boots), prints the
 * inventory and the timing, snapshots and resets it, tears it down, and prints the time per phase.
 *
 *   deno run --allow-ffi --allow-read scripts/range_demo.ts [DESCRIPTION] [--json]
 *
 * Exit codes: 0 done; 1 a step failed; 2 usage error, or the description cannot be read or is invalid.
 *
 * @module
 */
import { type Cli, startCli } from "./_cli.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { parseRangeDescription, type Range, RangeDescriptionError } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { resetRange, snapshotRange } from "../lib/range/snapshot.ts";
import { ansibleIni } from "../lib/range/inventory.ts";
import { rangeStatus } from "../lib/range/status.ts";
import { upRange } from "../lib/range/up.ts";
// A module import, not a file read: the demo must also work when run by URL, where there is no
// examples/ directory beside the working directory (and no --allow-read for it).
import bundledDescription from "../examples/range_test_driver.yaml" with { type: "text" };

const cli: Cli = startCli({
  name: "range_demo",
  usage: `usage: range_demo.ts [DESCRIPTION] [--json]
  DESCRIPTION  a range description (YAML or JSON) on libvirt's test driver; default the bundled
               examples/range_test_driver.yaml
  --json       the results of every phase as one JSON document`,
  options: {},
  allowPositionals: true,
});
if (cli.positionals.length > 1) {
  cli.usageError(`unexpected ${JSON.stringify(cli.positionals[1])}: name at most one description file`);
}
const file = cli.positionals[0];
const json = cli.json;
let range: Range;
try {
  range = file === undefined
    ? parseRangeDescription(bundledDescription, "examples/range_test_driver.yaml")
    : parseRangeDescription(await Deno.readTextFile(file), file);
} catch (error) {
  if (error instanceof RangeDescriptionError) {
    cli.fail(error, 2, { issues: error.issues, omitted: error.omitted });
  }
  cli.fail(new Error(`cannot read ${JSON.stringify(file)}: ${(error as Error).message}`), 2);
}
/** A line of the text report (none with --json: stdout is the JSON document). */
const say = (line: string) => {
  if (!json) console.log(line);
};
const ms = (n: number) => `${n.toFixed(0)} ms`;
const phases = (t: Partial<Record<string, number>>) =>
  Object.entries(t).map(([k, v]) => `${k} ${v} ms`).join(", ");

// One registry for the whole demo: test:///default keeps its state while a connection is open.
const registry = new PoolRegistry({ max: 8 });
let exit = 0;
try {
  const up = await upRange(range, registry);
  say(
    `up: ${range.guests.length} guests on ${
      range.networksByHost.get(range.guests[0].hostId)?.length ?? 0
    } networks, ` +
      `${up.created.length} things created in ${ms(up.tookMs)} (${
        (up.tookMs / range.guests.length).toFixed(2)
      } ms/guest)`,
  );
  say(`  phases: ${phases(up.timingsMs)}`);
  const again = await upRange(range, registry);
  say(
    `up again: ${again.created.length} created, ${again.kept.length} kept in ${
      ms(again.tookMs)
    } (idempotent)`,
  );

  const status = await rangeStatus(range, registry);
  say(
    `\ninventory (Ansible INI), ${status.counts.withAddress}/${status.counts.described} with an address:\n`,
  );
  say(ansibleIni(status));
  // what discovery knows: the test driver invents addresses (the DHCP start plus an offset), many
  // outside their network's subnet, and answers lease, agent and arp from that one table
  const firstAddresses = status.guests.flatMap((g) => g.nics.flatMap((n) => n.addresses.slice(0, 1)));
  const outside = firstAddresses.filter((a) => a.flags.includes("outside-subnet")).length;
  const plausible = status.guests.filter((g) => (g.confidence ?? 0) >= 0.5).length;
  say(
    `addresses: ${plausible}/${status.counts.described} guests with a plausible one (confidence >= 0.5); ` +
      `${outside} of ${firstAddresses.length} NIC addresses lie outside their network's subnet (flagged, demoted)\n`,
  );

  const snap = await snapshotRange(range, registry);
  say(`snapshot "${snap.snapshot}": ${snap.changed.length} guests in ${ms(snap.tookMs)}`);
  const reset = await resetRange(range, registry);
  say(
    `reset: ${reset.changed.length} guests reverted, ${reset.addresses.length} back with an address in ${
      ms(reset.tookMs)
    }`,
  );
  say(`  phases: ${phases(reset.timingsMs)}`);

  const down = await downRange(range, registry);
  say(`down: ${down.removed.length} things removed in ${ms(down.tookMs)}`);
  say(`  phases: ${phases(down.timingsMs)}`);
  if (json) {
    const phase = (r: { tookMs: number; timingsMs?: Partial<Record<string, number>> }) => ({
      tookMs: r.tookMs,
      ...(r.timingsMs ? { timingsMs: r.timingsMs } : {}),
    });
    console.log(JSON.stringify(
      {
        range: range.description.name,
        guests: range.guests.length,
        up: { created: up.created.length, ...phase(up) },
        upAgain: { created: again.created.length, kept: again.kept.length, ...phase(again) },
        status: {
          counts: status.counts,
          plausible,
          outsideSubnet: outside,
          addresses: firstAddresses.length,
        },
        snapshot: { name: snap.snapshot, changed: snap.changed.length, ...phase(snap) },
        reset: { changed: reset.changed.length, addresses: reset.addresses.length, ...phase(reset) },
        down: { removed: down.removed.length, ...phase(down) },
      },
      null,
      2,
    ));
  }
} catch (error) {
  // a step failed (no usage text; JSON with --json): exit 1 once the registry is closed
  if (json) {
    const e = error as Error & { done?: unknown; notDone?: unknown };
    console.log(JSON.stringify(
      {
        error: { name: e.name, message: e.message },
        ...(e.done !== undefined ? { done: e.done, notDone: e.notDone } : {}),
      },
      null,
      2,
    ));
  } else console.error(`range_demo: ${(error as Error).message}`);
  exit = 1;
} finally {
  await registry.closeAll();
}
Deno.exit(exit);
