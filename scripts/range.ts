#!/usr/bin/env -S deno run --allow-ffi --allow-read
/**
 * Cyber range automation: bring a range up from its description, show its status and inventory, reset
 * it to its snapshot, and tear it down, on one host or many, in one process.
 *
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts plan range.yaml
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts up range.yaml --snapshot
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts inventory range.yaml --format ini
 *   deno run --allow-ffi --allow-read --allow-run=dot https://.../scripts/range.ts graph range.yaml --format svg
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts reset range.yaml
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts down range.yaml
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts console range.yaml web-1
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts migrate range.yaml lab-web-1 --to h2
 *   deno run --allow-ffi --allow-read https://.../scripts/range.ts nic range.yaml web-1 eth-net --cable down
 *
 * `up` writes each guest's serial console to range-consoles/RANGE/GUEST.log (--console-dir DIR); it
 * needs --allow-write for that folder, and skips the capture (saying so) without it.
 *
 * Exit codes: 0 done; 1 the operation failed part-way, a plan has conflicts, or guests lack an
 * address; 2 usage, description or connection error.
 *
 * @module
 */
import type { ArgOption } from "./_args.ts";
import { type Cli, inProcessTestNote, startCli } from "./_cli.ts";
import { preloadLibvirt } from "../lib/ffi/library.ts";
import { setEventLoopEnabled } from "../lib/event_loop.ts";
import { isLocalUri } from "../lib/ip/sources/arp.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { parseRangeDescription, type Range, RangeDescriptionError } from "../lib/range/description.ts";
import type { RangeOperationError } from "../lib/range/types.ts";
import type { RangeCommand } from "./range/_context.ts";
import { progressPrinter } from "./range/_progress.ts";

// Each command is a module of its own (scripts/range/COMMAND.ts), loaded only when it runs: a `status`
// does not compile up/down/snapshot, a `plan` no status.
const commandModules: Record<string, () => Promise<{ run: RangeCommand }>> = {
  up: () => import("./range/up.ts"),
  down: () => import("./range/down.ts"),
  status: () => import("./range/status.ts"),
  reset: () => import("./range/reset.ts"),
  snapshot: () => import("./range/snapshot.ts"),
  plan: () => import("./range/plan.ts"),
  inventory: () => import("./range/inventory.ts"),
  graph: () => import("./range/graph.ts"),
  console: () => import("./range/console.ts"),
  playbook: () => import("./range/playbook.ts"),
  migrate: () => import("./range/migrate.ts"),
  nic: () => import("./range/nic.ts"),
};

const usage = `usage: range.ts up|down|status|reset|snapshot|plan|inventory|graph|playbook FILE
                [--json] [--format json|ini|yaml|mermaid|dot|svg] [--concurrency N] [--timeout SECONDS]
                [--no-wait] [--snapshot [NAME]] [--name SNAPSHOT] [--console-dir DIR] [--no-consoles]
       range.ts console FILE GUEST [--force] [--until REGEX] [--linger MS]
       range.ts migrate FILE GUEST --to HOST [--bandwidth MIB_S] [--migrate-uri URI] [--unsafe]
       range.ts nic FILE GUEST NIC --cable down|up | --unplug      (NIC: MAC, vnetN, alias or network)
       range.ts nic FILE GUEST NETWORK --plug [--mac MAC]

  up          create what is missing, start guests, wait for their addresses (--no-wait: do not)
              --snapshot: then take the reset snapshot of every guest
  down        remove everything the range created (found by its tags)
  status      each guest's state and addresses
  snapshot    take the snapshot (--name, default the description's, "clean") of every guest
  reset       revert every guest to the snapshot and wait for addresses
  plan        what up would create, keep, or cannot do (conflicts)
  inventory   the inventory: --format json (default), ini or yaml (Ansible); as an Ansible inventory
              script: --list (the JSON, exit 0) or --host NAME (one host's variables)
  graph       a picture of hosts, networks, guests and addresses: --format mermaid (default), dot, or
              svg (Graphviz's dot, needs --allow-run=dot)
  console     attach to GUEST's serial console (Ctrl-] detaches); --force takes it from another
              session; piped stdin: detach after --linger MS (1000) of quiet once it ended, or once
              the output matches --until REGEX (exit 1 if not within --timeout)
  playbook    the guests' tasks as an Ansible playbook (what up applies through the guest agent)
  migrate     live-migrate a running guest to another host of the range (status follows it);
              --unsafe: its disk is on storage both hosts see but libvirt cannot prove shared
  nic         exercise actions on a running guest (GUEST: "web-1" or the domain name): pull a NIC's
              cable (--cable down) or plug it back (--cable up), unplug it (--unplug), hot-plug a
              new NIC on NETWORK (--plug)
exit: 0 done, 1 failed part-way / conflicts / guests without address / migration failed (the guest
      stays where it was), 2 usage or description error`;

const commands = Object.keys(commandModules);

// The options, and the commands that take each (`--json`, `--help`, `--concurrency` and `--timeout` go
// with every command: the pool's size and waits). An option another command takes is a usage error.
const options: Record<string, ArgOption & { commands?: readonly string[] }> = {
  format: { type: "string", commands: ["inventory", "graph"] },
  concurrency: { type: "string", default: "8" },
  timeout: { type: "string", default: "120" },
  "no-wait": { type: "boolean", default: false, commands: ["up", "reset"] },
  snapshot: { type: "boolean", default: false, commands: ["up"] },
  name: { type: "string", commands: ["up", "snapshot", "reset"] },
  list: { type: "boolean", default: false, commands: ["inventory"] },
  host: { type: "string", commands: ["inventory"] },
  "console-dir": { type: "string", commands: ["up"] },
  "no-consoles": { type: "boolean", default: false, commands: ["up"] },
  force: { type: "boolean", default: false, commands: ["console"] },
  until: { type: "string", commands: ["console"] },
  linger: { type: "string", default: "1000", commands: ["console"] },
  to: { type: "string", commands: ["migrate"] },
  bandwidth: { type: "string", commands: ["migrate"] },
  "migrate-uri": { type: "string", commands: ["migrate"] },
  unsafe: { type: "boolean", default: false, commands: ["migrate"] },
  cable: { type: "string", commands: ["nic"] },
  unplug: { type: "boolean", default: false, commands: ["nic"] },
  plug: { type: "boolean", default: false, commands: ["nic"] },
  mac: { type: "string", commands: ["nic"] },
};

// Parsed without the defaults, so that what was given can be told from what was not; the defaults are
// filled in once the command's options are checked.
const cli: Cli = startCli({
  name: "range",
  usage,
  allowPositionals: true,
  options: Object.fromEntries(
    Object.entries(options).map(([name, { type, short, multiple }]) => [name, { type, short, multiple }]),
  ),
});
const { values, positionals } = cli;
const fail = cli.usageError;
const [command, file] = positionals;
if (!commands.includes(command)) {
  fail(command ? `unknown command ${JSON.stringify(command)}` : "name a command");
}
if (!file) fail("name the range description file");
for (const [name, option] of Object.entries(options)) {
  if (cli.values[name] === undefined) {
    if (option.default !== undefined) cli.values[name] = option.default;
  } else if (option.commands && !option.commands.includes(command)) {
    fail(
      `${command} takes no --${name} (${option.commands.length === 1 ? "only" : "only the commands"} ` +
        `${option.commands.join(", ")} ${option.commands.length === 1 ? "takes" : "take"} it): drop it`,
    );
  }
}
const consoleGuest = command === "console" ? positionals[2] : undefined;
if (command === "console" && !consoleGuest) fail("name the guest whose console to attach to");
const guestArg = command === "migrate" ? positionals[2] : undefined;
if (command === "migrate") {
  if (!guestArg) fail("migrate: name the guest (its domain name, e.g. lab-web-1)");
  if (!values.to) fail("migrate: name the destination host: --to HOST (a host id of the description)");
  if (values.bandwidth !== undefined && !/^\d+$/.test(values.bandwidth as string)) {
    fail("--bandwidth must be a whole number of MiB/s");
  }
}
const maxPositionals = command === "nic" ? 4 : command === "console" || command === "migrate" ? 3 : 2;
if (positionals.length > maxPositionals) fail(`unexpected ${JSON.stringify(positionals[maxPositionals])}`);
if (command === "nic") {
  if (positionals.length < 4) fail("nic needs GUEST and NIC (or NETWORK with --plug)");
  const actions = [values.cable !== undefined, values.unplug, values.plug].filter(Boolean).length;
  if (actions !== 1) fail("nic needs exactly one of --cable down|up, --unplug, --plug");
  if (values.cable !== undefined && values.cable !== "down" && values.cable !== "up") {
    fail(`--cable must be down or up, got ${JSON.stringify(values.cable)}`);
  }
  if (values.mac !== undefined && !values.plug) fail("--mac goes with --plug");
}
const lingerMs = Number(values.linger);
if (!Number.isInteger(lingerMs) || lingerMs < 0) fail("--linger must be a whole number of ms >= 0");
try {
  if (values.until !== undefined) new RegExp(values.until as string);
} catch (error) {
  fail(`--until: ${(error as Error).message}`);
}
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) fail("--concurrency must be a whole number >= 1");
const timeoutSeconds = Number(values.timeout);
if (!(timeoutSeconds > 0)) fail("--timeout must be a positive number of seconds");
const formats = command === "graph" ? ["mermaid", "dot", "svg"] : ["json", "ini", "yaml"];
const format = (values.format as string | undefined) ?? formats[0];
if (!formats.includes(format)) fail(`--format of ${command} must be ${formats.join(", ")}, got ${format}`);
const json = cli.json;

let text: string;
try {
  text = await Deno.readTextFile(file);
} catch (error) {
  cli.fail(new Error(`cannot read ${JSON.stringify(file)}: ${(error as Error).message}`), 2);
}
let range: Range;
try {
  range = parseRangeDescription(text, file);
} catch (error) {
  if (!(error instanceof RangeDescriptionError)) throw error;
  // Every problem, located, as text or as JSON (the issues with it); never followed by the usage text:
  // the command line was fine.
  cli.fail(error, 2, { issues: error.issues, omitted: error.omitted });
}
// The command line and the description are fine: libvirt's shared library loads on a thread of Deno's
// blocking pool (8-10 ms of dynamic linking) while the command's modules load (playbook asks no host).
if (command !== "playbook") preloadLibvirt();
// libvirt's in-process test driver starts empty in every process: say so where it surprises.
const testNote = inProcessTestNote(range.description.hosts.map((h) => h.uri), `range.ts ${command}`);
if (testNote && command !== "up" && command !== "plan") cli.note(testNote);

// One-shot read commands on local hosts run without libvirt's event loop: its worker costs more to
// start (25-100 ms) than a status takes, and they need neither keepalive nor events (scripts/vm_ip.ts
// has the same policy). up/down/reset/snapshot keep it: they wait on events and run for long.
if (
  ["status", "inventory", "plan", "graph", "playbook"].includes(command) &&
  range.description.hosts.every((h) => isLocalUri(h.uri))
) {
  setEventLoopEnabled(false);
}
// A console is a nonblocking stream, which needs a connection libvirt attached to its event loop: pools
// open local URIs without it by default (eventLoop "auto"), so the console command asks for it.
const registry = new PoolRegistry({
  max: concurrency,
  acquireTimeoutMs: timeoutSeconds * 1000 * 2 + 30_000,
  ...(command === "console" ? { eventLoop: true } : {}),
});
const hooks = { concurrency, onProgress: progressPrinter(json) };
const wait = {
  waitForAddresses: !values["no-wait"],
  addressTimeoutMs: timeoutSeconds * 1000,
};
let exit = 0;
try {
  const { run } = await commandModules[command]();
  const result = await run({
    range,
    registry,
    values,
    positionals,
    json,
    format,
    concurrency,
    timeoutMs: timeoutSeconds * 1000,
    hooks,
    wait,
  });
  exit = result.exit;
  const output = result.output;
  if (json && output !== undefined) console.log(JSON.stringify(output, null, 2));
} catch (error) {
  const e = error as RangeOperationError;
  if (e.name === "RangeOperationError") {
    // the same error shape as every other failure, with what was and was not done beside it
    if (json) {
      console.log(
        JSON.stringify(
          { error: { name: e.name, message: e.message }, done: e.done, notDone: e.notDone },
          null,
          2,
        ),
      );
    } else console.error(`range: ${e.message}`);
    exit = 1;
  } else if (e.name === "MigrationError" || (command === "migrate" && /^interrupted/.test(e.message))) {
    // the operation failed, the guest runs on where it was: like a failed up, exit 1
    if (json) console.log(JSON.stringify({ error: { name: e.name, message: e.message } }, null, 2));
    else console.error(`range: ${e.message}`);
    exit = 1;
  } else {
    if (json) {
      console.log(
        JSON.stringify(
          { error: { name: (error as Error).name, message: (error as Error).message } },
          null,
          2,
        ),
      );
    } else console.error(`range: ${(error as Error).message}`);
    exit = 2;
  }
} finally {
  await registry.closeAll();
}
Deno.exit(exit);
