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
import { type Cli, inProcessTestNote, startCli } from "./_cli.ts";
import { setEventLoopEnabled } from "../lib/event_loop.ts";
import { isLocalUri } from "../lib/ip/sources/arp.ts";
import { PoolRegistry } from "../lib/pool.ts";
import { parseRangeDescription, type Range, RangeDescriptionError } from "../lib/range/description.ts";
import type { RangeOperationError, RangeProgress } from "../lib/range/types.ts";
// Each command loads only its own modules (a `status` does not compile up/down/snapshot).
const planRange = async (...a: Parameters<typeof import("../lib/range/plan.ts").planRange>) =>
  (await import("../lib/range/plan.ts")).planRange(...a);
const upRange = async (...a: Parameters<typeof import("../lib/range/up.ts").upRange>) =>
  (await import("../lib/range/up.ts")).upRange(...a);
const downRange = async (...a: Parameters<typeof import("../lib/range/down.ts").downRange>) =>
  (await import("../lib/range/down.ts")).downRange(...a);
const snapshotRange = async (...a: Parameters<typeof import("../lib/range/snapshot.ts").snapshotRange>) =>
  (await import("../lib/range/snapshot.ts")).snapshotRange(...a);
const resetRange = async (...a: Parameters<typeof import("../lib/range/snapshot.ts").resetRange>) =>
  (await import("../lib/range/snapshot.ts")).resetRange(...a);
const statusModule = () => import("../lib/range/status.ts");
const playbookModule = () => import("../lib/range/playbook.ts");
const nicModule = () => import("../lib/domain_nic.ts");
const migrateRangeGuest = async (
  ...a: Parameters<typeof import("../lib/range/migrate.ts").migrateRangeGuest>
) => (await import("../lib/range/migrate.ts")).migrateRangeGuest(...a);

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

const commands = [
  "up",
  "down",
  "status",
  "reset",
  "snapshot",
  "plan",
  "inventory",
  "graph",
  "console",
  "playbook",
  "migrate",
  "nic",
];

const cli: Cli = startCli({
  name: "range",
  usage,
  allowPositionals: true,
  options: {
    format: { type: "string" },
    concurrency: { type: "string", default: "8" },
    timeout: { type: "string", default: "120" },
    "no-wait": { type: "boolean", default: false },
    snapshot: { type: "boolean", default: false },
    name: { type: "string" },
    list: { type: "boolean", default: false },
    host: { type: "string" },
    "console-dir": { type: "string" },
    "no-consoles": { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    until: { type: "string" },
    linger: { type: "string", default: "1000" },
    to: { type: "string" },
    bandwidth: { type: "string" },
    "migrate-uri": { type: "string" },
    unsafe: { type: "boolean", default: false },
    cable: { type: "string" },
    unplug: { type: "boolean", default: false },
    plug: { type: "boolean", default: false },
    mac: { type: "string" },
  },
});
const { values, positionals } = cli;
const fail = cli.usageError;
const [command, file] = positionals;
if (!commands.includes(command)) {
  fail(command ? `unknown command ${JSON.stringify(command)}` : "name a command");
}
if (!file) fail("name the range description file");
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
let until: RegExp | undefined;
try {
  until = values.until === undefined ? undefined : new RegExp(values.until as string);
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
  // Every problem, located, as text or as JSON; never followed by the usage text (the command line was fine).
  if (json) {
    console.log(JSON.stringify(
      { error: { name: error.name, message: error.message, issues: error.issues, omitted: error.omitted } },
      null,
      2,
    ));
  } else console.error(error.message);
  Deno.exit(2);
}
// libvirt's in-process test driver starts empty in every process: say so where it surprises.
const testNote = inProcessTestNote(range.description.hosts.map((h) => h.uri), `range.ts ${command}`);
if (testNote && command !== "up" && command !== "plan") cli.note(testNote);

// Progress: a redrawn status line per phase on a terminal; plain lines otherwise; nothing with --json.
const terminal = Deno.stderr.isTerminal() && !json;
const encoder = new TextEncoder();
const phaseLines: string[] = [];
function onProgress(e: RangeProgress): void {
  if (json) return;
  const elapsed = `${(e.elapsedMs / 1000).toFixed(1)}s`;
  if (terminal) {
    if (e.status === "start") phaseLines.push(e.phase);
    const bar = e.total > 0 ? `${e.done}/${e.total}` : "";
    const item = e.target ? ` ${e.status} ${e.target}${e.host ? ` @${e.host}` : ""}` : "";
    const line = `\r\x1b[2K[${elapsed}] ${e.phase.padEnd(9)} ${bar.padStart(11)}${
      e.status === "end" ? " done" : item
    }`;
    Deno.stderr.writeSync(encoder.encode(e.status === "end" ? `${line}\n` : line));
    if (e.status === "failed") Deno.stderr.writeSync(encoder.encode(`\n  ${e.target}: ${e.error}\n`));
  } else if (e.status === "end" || e.status === "failed" || (e.status !== "start" && e.total <= 50)) {
    const what = e.status === "end"
      ? `${e.done}/${e.total} done`
      : `${e.status} ${e.target ?? ""} ${e.host ?? ""}`;
    console.error(`[${elapsed}] ${e.phase}: ${what}${e.error ? `: ${e.error}` : ""}`.trimEnd());
  }
}

// One-shot read commands on local hosts run without libvirt's event loop: its worker costs more to
// start (25-100 ms) than a status takes, and they need neither keepalive nor events (scripts/vm_ip.ts
// has the same policy). up/down/reset/snapshot keep it: they wait on events and run for long.
if (
  ["status", "inventory", "plan", "graph", "playbook"].includes(command) &&
  range.description.hosts.every((h) => isLocalUri(h.uri))
) {
  setEventLoopEnabled(false);
}
const registry = new PoolRegistry({ max: concurrency, acquireTimeoutMs: timeoutSeconds * 1000 * 2 + 30_000 });
const hooks = { concurrency, onProgress };
const wait = {
  waitForAddresses: !values["no-wait"],
  addressTimeoutMs: timeoutSeconds * 1000,
};
let exit = 0;
let output: unknown;
try {
  switch (command) {
    case "plan": {
      const plan = await planRange(range, registry);
      if (plan.conflict > 0) exit = 1;
      output = plan;
      if (!json) {
        for (const i of plan.items) {
          console.log(`${i.action.padEnd(8)} ${i.kind.padEnd(7)} ${i.name}  @${i.host}  ${i.reason}`);
        }
        console.log(`${plan.create} to create, ${plan.keep} to keep, ${plan.conflict} conflict(s)`);
      }
      break;
    }
    case "up": {
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
        ? await snapshotRange(range, registry, {
          ...hooks,
          ...(values.name ? { name: values.name as string } : {}),
        })
        : undefined;
      output = { ...result, snapshot: snap };
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
        if (captured.length > 0) {
          console.log(`consoles: ${captured.length} logged, e.g. ${captured[0].path}`);
        }
        // one line per distinct reason: 1,000 test-driver guests are one line
        const skipped = Map.groupBy(result.consoles.filter((c) => c.status === "skipped"), (c) => c.reason);
        for (const [reason, guests] of skipped) {
          console.log(`consoles: ${guests.length} not logged: ${reason}`);
        }
      }
      break;
    }
    case "down": {
      const result = await downRange(range, registry, hooks);
      output = result;
      if (!json) {
        console.log(
          `range ${range.name}: ${result.removed.length} removed in ${(result.tookMs / 1000).toFixed(2)} s`,
        );
      }
      break;
    }
    case "snapshot": {
      const result = await snapshotRange(range, registry, {
        ...hooks,
        ...(values.name ? { name: values.name as string } : {}),
      });
      output = result;
      if (!json) {
        console.log(
          `snapshot ${result.snapshot}: ${result.changed.length} taken, ${result.kept.length} kept`,
        );
      }
      break;
    }
    case "reset": {
      const result = await resetRange(range, registry, {
        ...hooks,
        ...wait,
        ...(values.name ? { name: values.name as string } : {}),
      });
      output = result;
      if (!json) {
        console.log(
          `range ${range.name}: ${result.changed.length} reverted to ${result.snapshot} in ${
            (result.tookMs / 1000).toFixed(2)
          } s`,
        );
      }
      break;
    }
    case "graph": {
      const { rangeStatus } = await statusModule();
      const { graphDot, graphMermaid, renderSvg } = await import("../lib/range/graph.ts");
      const status = await rangeStatus(range, registry, { concurrency });
      console.log(
        format === "mermaid"
          ? graphMermaid(range, status)
          : format === "dot"
          ? graphDot(range, status)
          : await renderSvg(graphDot(range, status)),
      );
      break;
    }
    case "console": {
      const { consoleCommand } = await import("./_console.ts");
      exit = await consoleCommand(range, registry, consoleGuest!, {
        force: values.force as boolean,
        lingerMs,
        timeoutMs: timeoutSeconds * 1000,
        ...(until ? { until } : {}),
      });
      break;
    }
    case "playbook": {
      const { rangePlaybook } = await playbookModule();
      console.log(await rangePlaybook(range));
      break;
    }
    case "migrate": {
      let shown = 0;
      // Ctrl-C aborts the migration job (the guest stays where it was) instead of leaving it running
      const interrupt = new AbortController();
      const onInterrupt = () =>
        interrupt.abort(new Error("interrupted (SIGINT): the guest stays where it was"));
      Deno.addSignalListener("SIGINT", onInterrupt);
      const result = await migrateRangeGuest(range, registry, guestArg!, values.to as string, {
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
      Deno.removeSignalListener("SIGINT", onInterrupt);
      output = result;
      if (!json) {
        console.log(
          result.migrated
            ? `${result.guest}: ${result.from} -> ${result.to} in ${(result.tookMs / 1000).toFixed(2)} s`
            : `${result.guest}: on ${result.to} already`,
        );
      }
      break;
    }
    case "nic": {
      const [, , guestRef, nicRef] = positionals;
      const guest = range.guests.find((g) => g.name === guestRef || g.name === `${range.name}-${guestRef}`);
      if (!guest) {
        throw new Error(
          `Cannot find guest ${JSON.stringify(guestRef)} in range ${range.name}: its guests are ${
            range.guests.slice(0, 8).map((g) => g.name.slice(range.name.length + 1)).join(", ")
          }${range.guests.length > 8 ? ", ..." : ""}`,
        );
      }
      const { attachNic, detachNic, setNicLink } = await nicModule();
      const { lookupDomain } = await import("../lib/domain.ts");
      output = await registry.get(guest.uri).use(async (conn) => {
        using dom = await lookupDomain(conn, guest.name);
        if (values.plug) {
          return await attachNic(dom, {
            network: nicRef,
            ...(values.mac ? { mac: values.mac as string } : {}),
          }, { timeoutMs: timeoutSeconds * 1000 });
        }
        if (values.unplug) return await detachNic(dom, nicRef, { timeoutMs: timeoutSeconds * 1000 });
        return await setNicLink(dom, nicRef, values.cable as "up" | "down");
      });
      if (!json) {
        const r = output as { mac: string; target?: string; state?: string; waitedMs?: number };
        const what = values.plug
          ? `plugged in NIC ${r.mac} on ${nicRef}${r.target ? ` (${r.target})` : ""}`
          : values.unplug
          ? `unplugged NIC ${r.mac} (released in ${r.waitedMs} ms)`
          : `cable of NIC ${r.mac}${r.target ? ` (${r.target})` : ""} ${
            r.state === "down" ? "pulled" : "plugged back"
          }`;
        console.log(`${guest.name}: ${what}`);
      }
      break;
    }
    case "status":
    case "inventory": {
      const { rangeStatus } = await statusModule();
      const { ansibleIni, ansibleYaml, inventoryJson } = await import("../lib/range/inventory.ts");
      const status = await rangeStatus(range, registry, { concurrency });
      if (status.counts.withAddress < status.counts.described) exit = 1;
      // Ansible runs an inventory script with --list or --host NAME and wants JSON and exit 0
      if (command === "inventory" && (values.list || values.host !== undefined)) {
        const { inventoryHost } = await import("../lib/range/inventory.ts");
        const value = values.host !== undefined
          ? inventoryHost(status, values.host as string)
          : inventoryJson(status);
        console.log(JSON.stringify(value, null, json ? 2 : undefined));
        exit = 0;
        break;
      }
      if (command === "inventory" && format !== "json") {
        console.log(format === "ini" ? ansibleIni(status) : ansibleYaml(status));
        break;
      }
      output = command === "inventory" ? inventoryJson(status) : status;
      if (!json && command === "status") {
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
      } else if (!json) {
        console.log(JSON.stringify(output, null, 2));
      }
      break;
    }
  }
  if (json && output !== undefined) console.log(JSON.stringify(output, null, 2));
} catch (error) {
  const e = error as RangeOperationError;
  if (e.name === "RangeOperationError") {
    if (json) console.log(JSON.stringify({ error: e.message, done: e.done, notDone: e.notDone }, null, 2));
    else console.error(`range: ${e.message}`);
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
void phaseLines;
Deno.exit(exit);
