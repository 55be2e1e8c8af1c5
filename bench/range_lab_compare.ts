/**
 * Real guests: 8 TCG guests (the lab's kernel and initrd, an empty 16 MiB qcow2 disk each, one NAT
 * network the range makes) brought up with their DHCP addresses and taken down again, by `upRange` /
 * `downRange` and by the CyRIS-style python script (bench/clients/range_python.py, one connection,
 * sequential) doing the same, interleaved over rounds, on the lab's `qemu:///system`. Inside the lab
 * namespace, under the lab lock:
 *
 *   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
 *     deno run --allow-all bench/range_lab_compare.ts [--rounds 2] [--guests 8] [--python-wait each|all]
 *
 * `--python-wait all` (the default) has the script define and start every guest first and then poll
 * for the leases (the stronger sequential script); `each` waits for each guest's lease before the next
 * guest's volume, as the 100-guest harness does. Ours runs with `consoles: false` (the script captures
 * no console). Every name starts with `s4lab`; everything made is removed, also after a failure.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PoolRegistry } from "../lib/pool.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { guestXml, networkXml, volumeXml } from "../lib/range/_libvirt.ts";
import { downRange } from "../lib/range/down.ts";
import { upRange } from "../lib/range/up.ts";
import { lab } from "../tests/integration/_lab.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "2" },
    guests: { type: "string", default: "8" },
    "python-wait": { type: "string", default: "all" },
  },
});
const rounds = Number(values.rounds);
const count = Number(values.guests);
const pythonWait = values["python-wait"]!;
if (!["each", "all"].includes(pythonWait)) {
  throw new TypeError(`--python-wait: each or all, got ${pythonWait}`);
}
const l = lab();
const here = new URL(".", import.meta.url).pathname;
await Deno.mkdir(`${here}.build`, { recursive: true });

let serial = 0;
function rangeOf(): Range {
  const name = `s4lab${(serial++).toString(36)}${crypto.randomUUID().slice(0, 4)}`;
  return validateRange({
    name,
    hosts: [{ id: "h1", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [{
      name: `${name}-nat`,
      mode: "nat",
      subnet: "10.77.147.0/24",
      dhcp: { start: "10.77.147.100", end: "10.77.147.200" },
    }],
    guests: [{
      id: "node",
      count,
      type: "qemu",
      memory: 96,
      diskMiB: 16,
      kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
      nics: [{ network: `${name}-nat` }],
    }],
  });
}

interface Times {
  up: number;
  down: number;
}

async function ours(): Promise<Times> {
  const range = rangeOf();
  const pools = new PoolRegistry({ max: 8, acquireTimeoutMs: 600_000 });
  try {
    const t0 = performance.now();
    const up = await upRange(range, pools, { addressTimeoutMs: 300_000, consoles: false });
    const upMs = performance.now() - t0;
    if (up.addresses.length !== count) {
      throw new Error(`upRange found ${up.addresses.length}/${count} addresses`);
    }
    const waited = up.addresses.map((a) => a.waitedMs).sort((a, b) => a - b);
    console.error(`  ours: up phases ${JSON.stringify(up.timingsMs)}, address waits ${waited.join(", ")} ms`);
    const t1 = performance.now();
    const down = await downRange(range, pools);
    console.error(`  ours: down phases ${JSON.stringify(down.timingsMs)}`);
    return { up: upMs, down: performance.now() - t1 };
  } finally {
    await downRange(range, pools).catch(() => {});
    await pools.closeAll();
  }
}

async function python(): Promise<Times> {
  const range = rangeOf();
  const spec = {
    pool: range.pool.name,
    network: range.description.networks![0].name,
    network_xml: networkXml(range, range.description.networks![0], "h1"),
    wait: pythonWait,
    guests: range.guests.map((g) => ({
      name: g.name,
      volume: g.volume,
      volume_xml: volumeXml(g),
      domain_xml: guestXml(range, g, "@VOLUME_PATH@"),
    })),
  };
  const file = `${here}.build/range_lab_spec.json`;
  await Deno.writeTextFile(file, JSON.stringify(spec));
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [`${here}clients/range_python.py`, l.uri, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`range_python.py failed: ${new TextDecoder().decode(out.stderr)}`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    if (r.addresses !== count) throw new Error(`range_python.py found ${r.addresses}/${count} addresses`);
    return { up: r.up_ns / 1e6, down: r.down_ns / 1e6 };
  } finally {
    // the script removes what it made; after a failure half-way, down finds the tagged leftovers
    // (domains and network carry the range's tag; volumes are looked up by name)
    await cleanPython(range);
  }
}

/** Removes what a failed script run left: the tagged domains and network, and the guests' volumes. */
async function cleanPython(range: Range): Promise<void> {
  const pools = new PoolRegistry({ max: 1 });
  try {
    await downRange(range, pools);
    await pools.get(l.uri).use(async (conn) => {
      const { lookupStoragePool, lookupVolume } = await import("../mod.ts");
      using pool = await lookupStoragePool(conn, range.pool.name);
      for (const g of range.guests) {
        try {
          using vol = await lookupVolume(pool, g.volume);
          await vol.delete();
        } catch {
          // not there: removed by the script
        }
      }
    });
  } finally {
    await pools.closeAll();
  }
}

const contenders: [string, () => Promise<Times>][] = [
  [
    `libvirt-python, 1 connection, sequential (leases waited for ${
      pythonWait === "all" ? "after every start" : "per guest"
    })`,
    python,
  ],
  ["deno_libvirt upRange/downRange, 8 connections", ours],
];
const samples = new Map<string, Times[]>();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < contenders.length; i++) {
    const [name, run] = contenders[(i + r) % contenders.length];
    const t = await run();
    samples.set(name, [...samples.get(name) ?? [], t]);
    console.error(`round ${r + 1}: ${name}: up ${t.up.toFixed(0)} ms, down ${t.down.toFixed(0)} ms`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const py = samples.get(contenders[0][0])!;
console.log(
  `\n#### ${count} TCG guests up with addresses and down, ${l.uri}, ${rounds} interleaved rounds\n`,
);
console.log("| client | up, median (spread) | down, median (spread) | up ours/python | down ours/python |");
console.log("|---|---:|---:|---:|---:|");
for (const [name] of contenders) {
  const s = samples.get(name)!;
  const up = s.map((t) => t.up);
  const down = s.map((t) => t.down);
  console.log(
    `| ${name} | ${median(up).toFixed(0)} ms (${spread(up)}) | ${median(down).toFixed(0)} ms (${
      spread(down)
    }) | ${(median(up) / median(py.map((t) => t.up))).toFixed(2)} | ${
      (median(down) / median(py.map((t) => t.down))).toFixed(2)
    } |`,
  );
}
