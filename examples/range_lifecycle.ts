#!/usr/bin/env -S deno run --allow-ffi
/**
 * A range's whole life on libvirt's in-process test hypervisor (`test:///default`: nothing to install,
 * nothing boots): parse a description, plan, bring it up with progress (Ctrl-C aborts cleanly), read
 * its status, print its Ansible inventory (dynamic-inventory JSON and INI), snapshot, reset, tear it
 * down, and prove nothing is left.
 *
 *   deno run --allow-ffi examples/range_lifecycle.ts
 *
 * Permissions: `--allow-ffi` only (the description is inline; nothing is read or written).
 *
 * Prints, in order: `plan: N to create, 0 to keep, 0 conflicts`, one `[phase] ...` line per progress
 * event of `up`, `up: N things created ...`, the status table, `inventory (JSON): ...`, the INI
 * inventory, `snapshot "clean": 3 guests`, `reset: 3 guests reverted`, `down: N things removed` and
 * `left behind: nothing`. Exit code 0; 1 when a step failed; 130 when interrupted.
 *
 * @module
 */
import { listAllDomains, listAllNetworks, PoolRegistry } from "@deno-libvirt/deno-libvirt";
import {
  ansibleIni,
  downRange,
  inventoryJson,
  parseRangeDescription,
  planRange,
  RangeOperationError,
  type RangeProgress,
  rangeStatus,
  resetRange,
  snapshotRange,
  upRange,
} from "@deno-libvirt/deno-libvirt/range";

// 1. The description: YAML (or JSON) text, validated whole. A mistake throws RangeDescriptionError
//    with the line, column and field of every problem, before anything is created.
const range = parseRangeDescription(
  `
name: ex
hosts:
  - { id: local, uri: "test:///default" }
storage: { pool: default-pool }        # test:///default's built-in pool
networks:
  - { name: ex-lan, mode: isolated, subnet: 10.71.0.0/24, dhcp: { start: 10.71.0.100, end: 10.71.0.200 } }
guests:
  - id: web
    memory: 256
    count: 2                           # ex-web-1, ex-web-2
    nics: [{ network: ex-lan, address: 10.71.0.10 }]   # instance n gets 10.71.0.(10 + n - 1)
  - id: db
    memory: 512
    groups: [databases]                # an extra Ansible group
    nics: [{ network: ex-lan, address: 10.71.0.20 }]
`,
  "range_lifecycle.yaml", // how errors name the text
);

// One pool of connections per libvirt URI. test:///default keeps its state only while a connection to
// it is open, so hold one for the whole script (a real hypervisor does not need this).
await using pools = new PoolRegistry({ max: 4 });
const hold = await pools.get("test:///default").acquire();

// Ctrl-C aborts: no step starts after the abort, and upRange throws a RangeOperationError whose `done`
// lists what it made, which downRange then removes.
const controller = new AbortController();
const onInterrupt = () => controller.abort(new Error("interrupted (Ctrl-C)"));
Deno.addSignalListener("SIGINT", onInterrupt);

const progress = (e: RangeProgress) => {
  if (e.status === "start" || e.status === "end") return; // one line per item is enough here
  console.log(`  [${e.phase}] ${e.status} ${e.target ?? ""} (${e.done}/${e.total}, ${e.elapsedMs} ms)`);
};

let exitCode = 0;
try {
  // 2. Plan: what up would do, object by object (create / keep / conflict, with the reason).
  const plan = await planRange(range, pools);
  console.log(`plan: ${plan.create} to create, ${plan.keep} to keep, ${plan.conflict} conflicts`);
  for (const item of plan.items) console.log(`  ${item.action} ${item.kind} ${item.name}: ${item.reason}`);

  // 3. Up: networks, volumes, domains, then addresses. Idempotent: a second run creates nothing.
  const up = await upRange(range, pools, {
    signal: controller.signal,
    onProgress: progress,
    consoles: false, // the test driver has no consoles; on a real host, logs go to range-consoles/<name>
    addressTimeoutMs: 30_000,
  });
  console.log(
    `up: ${up.created.length} things created, ${up.started.length} guests started in ${up.tookMs} ms`,
  );

  // 4. Status: state, NICs and discovered addresses (with confidence) of every guest.
  const status = await rangeStatus(range, pools);
  console.log(`status: ${status.counts.running}/${status.counts.described} running`);
  for (const g of status.guests) {
    console.log(
      `  ${g.name.padEnd(10)} ${g.state.padEnd(8)} ${g.address ?? "-"} (confidence ${g.confidence ?? 0})`,
    );
  }

  // 5. Inventories: Ansible's dynamic-inventory JSON (what `range.ts inventory FILE --list` prints) and INI.
  const json = inventoryJson(status) as { ex: { children: string[] } };
  console.log(`inventory (JSON): groups of the range: ${json.ex.children.join(", ")}`);
  console.log(JSON.stringify(json, null, 2).split("\n").slice(0, 12).join("\n") + "\n  ...");
  console.log("inventory (INI):");
  console.log(ansibleIni(status));

  // 6. Snapshot every guest ("clean", the description's default), then revert all of them.
  const snap = await snapshotRange(range, pools, { signal: controller.signal });
  console.log(`snapshot "${snap.snapshot}": ${snap.changed.length} guests`);
  const reset = await resetRange(range, pools, { signal: controller.signal, addressTimeoutMs: 30_000 });
  console.log(`reset: ${reset.changed.length} guests reverted`);
} catch (error) {
  exitCode = controller.signal.aborted ? 130 : 1;
  if (error instanceof RangeOperationError) {
    console.error(
      `${error.operation} failed part-way; made: ${error.done.length}, not done: ${error.notDone.length}`,
    );
  }
  console.error(`error: ${(error as Error).message}`);
} finally {
  Deno.removeSignalListener("SIGINT", onInterrupt);
  // 7. Down, always: removes only what this range's up made (proven by ownership marks), even after a
  //    failure or an abort part-way.
  const down = await downRange(range, pools);
  console.log(`down: ${down.removed.length} things removed in ${down.tookMs} ms`);

  // 8. Proof: no domain or network named after the range is left, and a new plan would create it all.
  const conn = hold.connection;
  const domains = (await listAllDomains(conn)).filter((d) => d.name.startsWith(`${range.name}-`));
  // (the range's networks, and its ownership record "<name>.ownership")
  const networks = (await listAllNetworks(conn)).filter((n) =>
    n.name.startsWith(`${range.name}-`) || n.name.startsWith(`${range.name}.`)
  );
  // (the storage pool is test:///default's own, named by `storage.pool`: the plan keeps it, down never
  // removes it)
  const again = await planRange(range, pools);
  const stillThere = again.items.filter((i) => i.kind !== "pool" && i.action !== "create");
  const left = [
    ...domains.map((d) => `domain ${d.name}`),
    ...networks.map((n) => `network ${n.name}`),
    ...stillThere.map((i) => `${i.kind} ${i.name}`),
  ];
  for (const handle of [...domains, ...networks]) handle.free();
  if (left.length > 0) {
    console.error(`left behind: ${left.join(", ")}`);
    exitCode ||= 1;
  } else {
    console.log(`left behind: nothing (a new plan would create all ${again.create} objects again)`);
  }
  hold.release();
}
Deno.exit(exitCode);
