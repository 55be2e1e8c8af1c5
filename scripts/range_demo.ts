#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * The range demo: brings up the 24-guest, two-network range of examples/range_test_driver.yaml on
 * libvirt's embedded test hypervisor (`test:///default`: nothing to install, nothing boots), prints the
 * inventory and the timing, snapshots and resets it, tears it down, and prints the time per phase.
 *
 *   deno run --allow-ffi --allow-read scripts/range_demo.ts [DESCRIPTION]
 *
 * Exit codes: 0 done; 1 a step failed.
 *
 * @module
 */
import { PoolRegistry } from "../lib/pool.ts";
import { parseRangeDescription } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { resetRange, snapshotRange } from "../lib/range/snapshot.ts";
import { ansibleIni } from "../lib/range/inventory.ts";
import { rangeStatus } from "../lib/range/status.ts";
import { upRange } from "../lib/range/up.ts";
// A module import, not a file read: the demo must also work when run by URL, where there is no
// examples/ directory beside the working directory (and no --allow-read for it).
import bundledDescription from "../examples/range_test_driver.yaml" with { type: "text" };

const file = Deno.args[0];
const range = file === undefined
  ? parseRangeDescription(bundledDescription, "examples/range_test_driver.yaml")
  : parseRangeDescription(await Deno.readTextFile(file), file);
const ms = (n: number) => `${n.toFixed(0)} ms`;
const phases = (t: Partial<Record<string, number>>) =>
  Object.entries(t).map(([k, v]) => `${k} ${v} ms`).join(", ");

// One registry for the whole demo: test:///default keeps its state while a connection is open.
const registry = new PoolRegistry({ max: 8 });
let exit = 0;
try {
  const up = await upRange(range, registry);
  console.log(
    `up: ${range.guests.length} guests on ${
      range.networksByHost.get(range.guests[0].hostId)?.length ?? 0
    } networks, ` +
      `${up.created.length} things created in ${ms(up.tookMs)} (${
        (up.tookMs / range.guests.length).toFixed(2)
      } ms/guest)`,
  );
  console.log(`  phases: ${phases(up.timingsMs)}`);
  const again = await upRange(range, registry);
  console.log(
    `up again: ${again.created.length} created, ${again.kept.length} kept in ${
      ms(again.tookMs)
    } (idempotent)`,
  );

  const status = await rangeStatus(range, registry);
  console.log(
    `\ninventory (Ansible INI), ${status.counts.withAddress}/${status.counts.described} with an address:\n`,
  );
  console.log(ansibleIni(status));
  // what discovery knows: the test driver invents addresses (the DHCP start plus an offset), many
  // outside their network's subnet, and answers lease, agent and arp from that one table
  const firstAddresses = status.guests.flatMap((g) => g.nics.flatMap((n) => n.addresses.slice(0, 1)));
  const outside = firstAddresses.filter((a) => a.flags.includes("outside-subnet")).length;
  const plausible = status.guests.filter((g) => (g.confidence ?? 0) >= 0.5).length;
  console.log(
    `addresses: ${plausible}/${status.counts.described} guests with a plausible one (confidence >= 0.5); ` +
      `${outside} of ${firstAddresses.length} NIC addresses lie outside their network's subnet (flagged, demoted)\n`,
  );

  const snap = await snapshotRange(range, registry);
  console.log(`snapshot "${snap.snapshot}": ${snap.changed.length} guests in ${ms(snap.tookMs)}`);
  const reset = await resetRange(range, registry);
  console.log(
    `reset: ${reset.changed.length} guests reverted, ${reset.addresses.length} back with an address in ${
      ms(reset.tookMs)
    }`,
  );
  console.log(`  phases: ${phases(reset.timingsMs)}`);

  const down = await downRange(range, registry);
  console.log(`down: ${down.removed.length} things removed in ${ms(down.tookMs)}`);
  console.log(`  phases: ${phases(down.timingsMs)}`);
} catch (error) {
  console.error(`range_demo: ${(error as Error).message}`);
  exit = 1;
} finally {
  await registry.closeAll();
}
Deno.exit(exit);
