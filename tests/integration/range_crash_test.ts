// "up fails half-way, the process dies, down in a new process finds and removes exactly what was
// made, nothing else": a child `deno` process runs upRange against a real libvirtd and is SIGKILLed
// while it waits at a step half-way; a second child runs downRange; the host must then hold exactly
// what it held before (a golden base image and an unrelated, similarly named volume survive).
// On test+unix:///default (the daemon's test driver: its state lives while this process holds a
// connection) the crash comes in the domain phase, on qemu:///system in the volume phase (no guest
// starts; the network, the volumes and the record are real).
import assert from "node:assert/strict";
import { createVolume, lookupNetwork, lookupStoragePool, lookupVolume, PoolRegistry } from "../../mod.ts";
import type { Connection } from "../../lib/connection.ts";
import { inventoryOf } from "../_range_owner.ts";
import { parseRecord, recordNetworkName } from "../../lib/range/_libvirt.ts";
import { DAEMON_URI, denoChildArgs, requireDaemon } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const CHILD = new URL("./_range_crash_child.ts", import.meta.url).pathname;

/** A child deno with the project's config and lockfile, offline (the lab namespace has no network). */
function childDeno(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: denoChildArgs("run", "--allow-all", CHILD, ...args),
    stdout: "piped",
    stderr: "piped",
  });
}

/** Starts `up` in a child and SIGKILLs it once it reports being half-way; returns what it said. */
async function upAndKill(file: string, phase: string, nth: number): Promise<string> {
  const child = childDeno(["up", file, phase, String(nth)]).spawn();
  const stderr = new Response(child.stderr).text();
  let said = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (!said.includes("\n") || !said.includes("HALFWAY")) {
      const { value, done } = await reader.read();
      if (done) break;
      said += value;
    }
  } finally {
    if (said.includes("HALFWAY")) child.kill("SIGKILL");
    reader.releaseLock();
  }
  const status = await child.status;
  await child.stdout.cancel().catch(() => {});
  assert.ok(said.includes("HALFWAY"), `the child did not get half-way: ${said}\n${await stderr}`);
  assert.equal(status.signal, "SIGKILL", `the child was killed, not finished: ${said}`);
  return said.trim();
}

async function downInChild(file: string): Promise<{ removed: string[]; kept: string[] }> {
  const out = await childDeno(["down", file]).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `down in a new process failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

async function makeVolume(conn: Connection, pool: string, name: string): Promise<string> {
  using p = await lookupStoragePool(conn, pool);
  using v = await createVolume(
    p,
    `<volume><name>${name}</name><capacity unit='MiB'>8</capacity><target><format type='qcow2'/></target></volume>`,
  );
  return await v.path();
}

async function removeVolume(conn: Connection, pool: string, name: string): Promise<void> {
  using p = await lookupStoragePool(conn, pool);
  using v = await lookupVolume(p, name);
  await v.delete();
}

async function crashAndClean(
  uri: string,
  sharedPool: string,
  describe: (name: string, golden: string) => Record<string, unknown>,
  crashAt: { phase: string; nth: number },
  expectAfterCrash: (leftover: string[], name: string) => void,
): Promise<void> {
  const pools = new PoolRegistry({ max: 2 });
  const hold = await pools.get(uri).acquire(); // keeps the test driver's state across the children
  const conn = hold.connection;
  const name = `k${crypto.randomUUID().slice(0, 6)}`;
  const golden = `${name}.golden.qcow2`;
  const backup = `${name}.backup.img`;
  const dir = await Deno.makeTempDir({ prefix: "range_crash_" });
  const file = `${dir}/range.json`;
  try {
    const goldenPath = await makeVolume(conn, sharedPool, golden);
    await makeVolume(conn, sharedPool, backup);
    await Deno.writeTextFile(file, JSON.stringify(describe(name, goldenPath)));
    const before = await inventoryOf(conn);

    const said = await upAndKill(file, crashAt.phase, crashAt.nth);
    console.log(`child: ${said}`);
    const after = await inventoryOf(conn);
    const made = after.filter((x) => !before.includes(x));
    console.log(`left by the dead up: ${made.join(", ")}`);
    expectAfterCrash(made, name);
    // the record is there and lists what the dead process made
    using recordNetwork = await lookupNetwork(conn, recordNetworkName(name));
    const record = parseRecord(await recordNetwork.xmlDesc(), name);
    assert.ok(record, "the ownership record survived the crash");
    for (const m of made.filter((x) => x.startsWith("volume "))) {
      assert.ok(record.entries.some((e) => m.endsWith(`/${e.name}`)), `${m} is in the record`);
    }

    const down = await downInChild(file);
    console.log(`down in a new process removed ${down.removed.length}: ${down.removed.join("; ")}`);
    assert.deepEqual(
      await inventoryOf(conn),
      before,
      "exactly what was there before: nothing left, nothing lost",
    );
    assert.ok(!down.removed.some((r) => r.includes(golden) || r.includes(backup)));
    // exactly what the dead up made: every one of them, nothing it did not get to
    const removedNames = down.removed.map((r) => `${r.split(" ")[0]} ${JSON.parse(r.split(" ")[1])}`).sort();
    const madeNames = made.filter((m) => !m.endsWith(".ownership")).map((m) => m.replace(/ [^ /]+\//, " "))
      .sort();
    assert.deepEqual(removedNames, madeNames);
    // and a second down finds nothing
    assert.deepEqual((await downInChild(file)).removed, []);
  } finally {
    await removeVolume(conn, sharedPool, golden).catch(() => {});
    await removeVolume(conn, sharedPool, backup).catch(() => {});
    await Deno.remove(dir, { recursive: true });
    hold.release();
    await pools.closeAll();
  }
}

Deno.test("range crash: up SIGKILLed in the domain phase on test+unix:///default, down in a new process", async () => {
  requireDaemon();
  await crashAndClean(
    DAEMON_URI,
    "default-pool",
    (name, golden) => ({
      name,
      hosts: [{ id: "local", uri: DAEMON_URI }],
      storage: { path: `/var/tmp/${name}-pool` },
      networks: [{
        name: `${name}-lan`,
        mode: "isolated",
        subnet: "10.73.1.0/24",
        dhcp: { start: "10.73.1.100", end: "10.73.1.200" },
      }],
      baseImages: [{ id: "gold", path: golden }],
      guests: [{ id: "web", memory: 64, count: 5, baseImage: "gold", nics: [{ network: `${name}-lan` }] }],
    }),
    { phase: "domain", nth: 3 },
    (made, name) => {
      assert.ok(made.includes(`pool ${name}.pool`), made.join(", "));
      assert.equal(made.filter((m) => m.startsWith(`volume ${name}.pool/`)).length, 5, made.join(", "));
      assert.equal(made.filter((m) => m.startsWith("domain ")).length, 2, made.join(", "));
      assert.ok(made.includes(`network ${name}-lan`) && made.includes(`network ${name}.ownership`));
    },
  );
});

Deno.test("range crash: up SIGKILLed in the volume phase on qemu:///system, down in a new process", async () => {
  await requireLabNamespace();
  const l = lab();
  await crashAndClean(
    l.uri,
    l.imagePool.name,
    (name, golden) => ({
      name,
      hosts: [{ id: "h1", uri: l.uri }],
      storage: { pool: l.imagePool.name },
      networks: [{
        name: `${name}-iso`,
        mode: "isolated",
        subnet: "10.77.63.0/24",
        dhcp: { start: "10.77.63.100", end: "10.77.63.200" },
      }],
      baseImages: [{ id: "gold", path: golden }],
      guests: [{
        id: "node",
        type: "qemu",
        memory: 96,
        count: 4,
        baseImage: "gold",
        nics: [{ network: `${name}-iso` }],
      }],
    }),
    { phase: "volume", nth: 3 },
    (made, name) => {
      assert.equal(
        made.filter((m) => m.startsWith(`volume ${l.imagePool.name}/${name}.node-`)).length,
        2,
        made.join(", "),
      );
      assert.ok(
        made.includes(`network ${name}-iso`) && made.includes(`network ${name}.ownership`),
        made.join(", "),
      );
      assert.ok(!made.some((m) => m.startsWith("domain ")), made.join(", "));
    },
  );
});
