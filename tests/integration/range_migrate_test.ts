// `range.ts migrate GUEST --to HOST` between the lab's two hosts: a guest of a two-host range moves
// live from qemu:///system to qemu+tcp://10.77.9.2/system (peer to peer, by the script); status and
// inventory follow it; plan refuses to create it again on its described host; an aborted migration
// the other way leaves the guest where it was; it comes back (this process driving both ends) and
// down leaves nothing on either host. The range's storage is a directory both hosts see at the same
// path (the lab's hosts share a file system outside /var/lib/libvirt), hence --unsafe.
import assert from "node:assert/strict";
import { listAllDomains, listAllNetworks, listAllStoragePools, PoolRegistry } from "../../mod.ts";
import { validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { locateGuest, migrateRangeGuest } from "../../lib/range/migrate.ts";
import { planRange } from "../../lib/range/plan.ts";
import { ansibleIni } from "../../lib/range/inventory.ts";
import { rangeStatus } from "../../lib/range/status.ts";
import { resetRange, snapshotRange } from "../../lib/range/snapshot.ts";
import { upRange } from "../../lib/range/up.ts";
import { denoChildArgs, REPO_ROOT, runDeno } from "../_helpers.ts";
import { lab, requireLabNamespace } from "./_lab.ts";

const HOST1_MIGRATION = "tcp://10.77.9.1"; // host 1 on the lab's veth, as host 2 reaches it

Deno.test("range migrate: a guest moves between the lab's hosts, status follows, a failed move leaves it", async () => {
  await requireLabNamespace();
  const l = lab();
  const tag = crypto.randomUUID().slice(0, 6);
  const name = `m1mr${tag}`;
  const octet = 150 + (parseInt(tag.slice(0, 2), 16) % 100);
  const storage = `/var/lib/deno_libvirt_lab/m1mr-${tag}`; // the same directory on both hosts
  const guest = (id: string, host: string) => ({
    id,
    host,
    type: "qemu",
    memory: 128,
    agent: true,
    diskMiB: 16,
    kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
    nics: [{ network: `${name}-net` }],
  });
  const description = {
    name,
    hosts: [{ id: "h1", uri: l.uri }, { id: "h2", uri: l.secondHost.uri }],
    storage: { path: storage },
    networks: [{
      name: `${name}-net`,
      mode: "isolated",
      subnet: `10.77.${octet}.0/24`,
      dhcp: { start: `10.77.${octet}.100`, end: `10.77.${octet}.200` },
    }],
    guests: [guest("a", "h1"), guest("b", "h2")],
  };
  const range = validateRange(description);
  const [a, b] = range.guests.map((g) => g.name);
  const work = await Deno.makeTempDir({ prefix: "m1mr_" });
  const file = `${work}/range.json`;
  await Deno.writeTextFile(file, JSON.stringify(description));
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 300_000 });
  // what went wrong in the steps and in the cleanup, both named in the final assertion: an error of the
  // steps would otherwise be hidden by a failing cleanup check, and CI shows only the last one
  let failed: unknown;
  try {
    const up = await upRange(range, pools, { addressTimeoutMs: 240_000 });
    assert.equal(up.addresses.length, 2);

    // 1. the script moves a to h2, peer to peer (host 1's libvirtd reaches qemu+tcp://10.77.9.2)
    const out = await runDeno(denoChildArgs(
      "run",
      "--allow-all",
      `${REPO_ROOT}scripts/range.ts`,
      "migrate",
      file,
      a,
      "--to",
      "h2",
      "--unsafe",
      "--bandwidth",
      "50",
      "--json",
    ));
    const said = out.stdout;
    assert.equal(out.code, 0, `${said}\n${out.stderr}`);
    const moved = JSON.parse(said);
    assert.deepEqual({ ...moved, tookMs: 0, samples: 0 }, {
      guest: a,
      from: "h1",
      to: "h2",
      migrated: true,
      tookMs: 0,
      samples: 0,
    });
    console.log(`script: ${a} h1 -> h2 in ${moved.tookMs} ms, ${moved.samples} samples`);

    // 2. status and inventory follow it; plan will not create it again on h1
    const status = await rangeStatus(range, pools, { addresses: false });
    const ga = status.guests.find((g) => g.name === a)!;
    assert.deepEqual([ga.host, ga.uri, ga.state], ["h2", l.secondHost.uri, "running"]);
    // the INI lists a host's variables once (in its guest kind's section): the host group names it alone
    assert.match(ansibleIni(status), new RegExp(`\\[host_h2\\]\\n(?:[^[\\n]+\\n)*${a}\\n`));
    assert.deepEqual(await locateGuest(range, pools, a), {
      name: a,
      host: "h2",
      uri: l.secondHost.uri,
      state: "running",
      described: false,
    });
    const plan = await planRange(range, pools);
    const item = plan.items.find((i) => i.kind === "domain" && i.name === a)!;
    assert.equal(item.action, "conflict");
    assert.match(item.reason, /runs on h2 \(migrated there\)/);
    assert.equal(plan.conflict, 1, JSON.stringify(plan.items.filter((i) => i.action === "conflict")));

    // 3. an aborted migration of b to h1 leaves b running on h2
    const abort = new AbortController();
    const reason = new Error("changed my mind");
    let moving = 0;
    await assert.rejects(
      () =>
        migrateRangeGuest(range, pools, b, "h1", {
          migrateUri: HOST1_MIGRATION,
          unsafe: true,
          bandwidth: 1,
          progressIntervalMs: 100,
          signal: abort.signal,
          onProgress: (p) => {
            if (p.dataProcessed > 0 && !moving) {
              moving = p.dataProcessed;
              abort.abort(reason);
            }
          },
        }),
      (e) => e === reason,
    );
    assert.ok(moving > 0, "aborted mid-transfer");
    assert.equal((await locateGuest(range, pools, b))?.host, "h2");
    assert.equal((await locateGuest(range, pools, b))?.state, "running");

    // 4. a comes back, this process driving both ends (host 1's URI names no host)
    const back = await migrateRangeGuest(range, pools, a, "h1", {
      migrateUri: HOST1_MIGRATION,
      unsafe: true,
    });
    assert.deepEqual([back.from, back.to, back.migrated], ["h2", "h1", true]);
    console.log(`library: ${a} h2 -> h1 in ${back.tookMs} ms`);
    assert.equal((await locateGuest(range, pools, a))?.described, true);
    assert.equal((await planRange(range, pools)).conflict, 0);
    // already there: nothing to do
    assert.equal((await migrateRangeGuest(range, pools, a, "h1")).migrated, false);
    await assert.rejects(() => migrateRangeGuest(range, pools, a, "h9"), /unknown host "h9"/);
    await assert.rejects(() => migrateRangeGuest(range, pools, "nope-1", "h1"), /not a guest of range/);

    // 5. snapshot and reset follow a migrated guest: a on h2 again, snapshotted and reverted there
    assert.equal((await migrateRangeGuest(range, pools, a, "h2", { unsafe: true })).migrated, true);
    const snap = await snapshotRange(range, pools, { name: "m1mr-clean" });
    assert.deepEqual(snap.changed.toSorted(), [a, b].toSorted());
    // no address wait: each lab host has its own dnsmasq, so a guest migrated to h2 holds h1's lease
    // there, and the agent right after a revert may not answer yet (the lab's hosts share no network)
    const reset = await resetRange(range, pools, { name: "m1mr-clean", waitForAddresses: false });
    assert.deepEqual(reset.changed.toSorted(), [a, b].toSorted());
    for (const g of [a, b]) {
      assert.deepEqual(
        [(await locateGuest(range, pools, g))?.host, (await locateGuest(range, pools, g))?.state],
        ["h2", "running"],
      );
    }
  } catch (error) {
    failed = error;
    throw error;
  } finally {
    const downFailure = await downRange(range, pools).then(() => undefined, (e: Error) => e);
    const left: string[] = [];
    for (const uri of [l.uri, l.secondHost.uri]) {
      await pools.get(uri).use(async (conn) => {
        for (const d of await listAllDomains(conn)) {
          (d.name.startsWith(name) && left.push(`${uri} ${d.name}`), d.free());
        }
        for (const n of await listAllNetworks(conn)) {
          (n.name.startsWith(name) && left.push(`${uri} ${n.name}`), n.free());
        }
        for (const p of await listAllStoragePools(conn)) {
          (p.name.startsWith(name) && left.push(`${uri} ${p.name}`), p.free());
        }
      });
    }
    await Deno.remove(storage, { recursive: true }).catch(() => {});
    await Deno.remove(work, { recursive: true });
    await pools.closeAll();
    const why = [
      failed === undefined ? "" : `the steps failed first: ${(failed as Error)?.stack ?? failed}`,
      downFailure === undefined ? "" : `down failed: ${describeFailure(downFailure)}`,
    ].filter(Boolean).join("\n");
    assert.deepEqual(left, [], `down left nothing on either host\n${why}`);
  }
});

/** An error with what a range operation did and did not do (RangeOperationError), for the assertion. */
function describeFailure(error: Error): string {
  const detail = error as Error & { done?: string[]; notDone?: string[]; errors?: Error[] };
  return [
    error.stack ?? String(error),
    ...(detail.errors ?? []).map((e) => `  error: ${e.message}`),
    `  not done: ${JSON.stringify(detail.notDone ?? [])}`,
  ].join("\n");
}
