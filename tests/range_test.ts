// Range automation end to end on libvirt's test driver, in-process (test:///default) and inside
// libvirtd (test+unix:///default): up, idempotent re-up, status, snapshot + reset, down, and down after
// a failure injected half-way, each leaving nothing behind.
import assert from "node:assert/strict";
import { listAllDomains, listAllNetworks, listVolumes, lookupStoragePool, PoolRegistry } from "../mod.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { planRange } from "../lib/range/plan.ts";
import { resetRange, snapshotRange } from "../lib/range/snapshot.ts";
import { ansibleIni, ansibleYaml } from "../lib/range/inventory.ts";
import { rangeStatus } from "../lib/range/status.ts";
import { RangeOperationError } from "../lib/range/types.ts";
import { upRange } from "../lib/range/up.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

function describe(uri: string): Range {
  const name = `t${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri }],
    storage: { pool: "default-pool" },
    networks: [
      {
        name: `${name}-dmz`,
        mode: "nat",
        subnet: "10.71.1.0/24",
        dhcp: { start: "10.71.1.100", end: "10.71.1.200" },
      },
      {
        name: `${name}-lan`,
        mode: "isolated",
        subnet: "10.71.2.0/24",
        dhcp: { start: "10.71.2.100", end: "10.71.2.200" },
      },
    ],
    baseImages: [{ id: "deb", path: "/default-pool/deb.qcow2" }],
    guests: [
      {
        id: "web",
        baseImage: "deb",
        memory: 64,
        count: 2,
        nics: [{ network: `${name}-dmz`, address: "10.71.1.10" }, { network: `${name}-lan` }],
      },
      { id: "pc", memory: 64, count: 4, nics: [{ network: `${name}-lan` }] },
    ],
  });
}

/** Everything of the range left on the host: domains, volumes, networks (by name prefix). */
async function leftovers(range: Range, pools: PoolRegistry): Promise<string[]> {
  return await pools.get(range.guests[0].uri).use(async (conn) => {
    const found: string[] = [];
    for (const d of await listAllDomains(conn)) {
      if (d.name.startsWith(`${range.name}-`)) found.push(`domain ${d.name}`);
      d.free();
    }
    for (const n of await listAllNetworks(conn)) {
      if (n.name.startsWith(`${range.name}-`)) found.push(`network ${n.name}`);
      n.free();
    }
    using pool = await lookupStoragePool(conn, "default-pool");
    for (const v of await listVolumes(pool)) {
      if (v.name.startsWith(`${range.name}.`)) found.push(`volume ${v.name}`);
      v.free();
    }
    return found;
  }, { idempotent: true });
}

for (const uri of ["test:///default", DAEMON_URI]) {
  Deno.test(`upRange: up, re-up, status, snapshot, reset and down on ${uri}`, async () => {
    if (uri === DAEMON_URI) requireDaemon();
    const range = describe(uri);
    const pools = new PoolRegistry({ max: 4 });
    // test:///default keeps its state while a connection is open: hold one for the whole test
    const hold = await pools.get(uri).acquire();
    try {
      const up = await upRange(range, pools, { addressTimeoutMs: 10_000 });
      assert.equal(up.created.length, 2 + 6 + 6, up.created.join("\n"));
      assert.equal(up.started.length, 6);
      assert.equal(up.addresses.length, 6);
      // the test driver invents addresses, often outside the network's subnet: flagged, not refused
      for (const a of up.addresses) {
        assert.ok(a.confidence >= 0.5 || a.flags?.includes("outside-subnet"), JSON.stringify(a));
      }

      const again = await upRange(range, pools, { addressTimeoutMs: 10_000 });
      assert.deepEqual(again.created, [], "a second up creates nothing");
      assert.deepEqual(again.started, []);
      const plan = await planRange(range, pools);
      assert.equal(plan.create + plan.conflict, 0);

      const status = await rangeStatus(range, pools);
      assert.deepEqual(status.counts, { running: 6, present: 6, described: 6, withAddress: 6 });
      assert.equal(status.guests[0].nics[0].planned, "10.71.1.10");
      assert.match(ansibleIni(status), new RegExp(`^\\[web\\]\\n${range.name}-web-1 .*range_guest=web`, "m"));
      assert.match(ansibleYaml(status), new RegExp(`^all:\\n {2}children:\\n {4}${range.name}:\\n`, "m"));

      const snap = await snapshotRange(range, pools);
      assert.equal(snap.changed.length, 6);
      assert.equal((await snapshotRange(range, pools)).kept.length, 6, "snapshot is idempotent");
      const reset = await resetRange(range, pools, { addressTimeoutMs: 10_000 });
      assert.equal(reset.changed.length, 6);
      assert.equal(reset.addresses.length, 6);

      const down = await downRange(range, pools);
      assert.equal(down.removed.length, 2 + 6 + 6);
      assert.deepEqual(await leftovers(range, pools), []);
      assert.deepEqual((await downRange(range, pools)).removed, [], "a second down finds nothing");
    } finally {
      hold.release();
      await downRange(range, pools).catch(() => {});
      await pools.closeAll();
    }
  });

  Deno.test(`upRange: a failure half-way says what was done and down removes all of it on ${uri}`, async () => {
    if (uri === DAEMON_URI) requireDaemon();
    const range = describe(uri);
    const pools = new PoolRegistry({ max: 4 });
    const hold = await pools.get(uri).acquire();
    try {
      let defined = 0;
      const error = await upRange(range, pools, {
        concurrency: 1,
        beforeAction: (a) => {
          if (a.phase === "domain" && !a.target.startsWith("start ") && ++defined === 4) {
            throw new Error("injected: the hypervisor refused");
          }
        },
      }).then(() => undefined, (e) => e);
      assert.ok(error instanceof RangeOperationError, String(error));
      assert.match(error.message, /injected: the hypervisor refused/);
      assert.ok(error.done.some((d) => d.startsWith("create network")), error.message);
      assert.ok(error.done.some((d) => d.includes(`create domain "${range.name}-web-1"`)), error.message);
      assert.ok(error.notDone.some((d) => d.includes(`create domain "${range.name}-pc-2"`)), error.message);
      assert.equal(error.done.filter((d) => d.startsWith("create domain")).length, 5, "the others went on");
      assert.notDeepEqual(await leftovers(range, pools), []);

      await downRange(range, pools);
      assert.deepEqual(await leftovers(range, pools), []);
    } finally {
      hold.release();
      await pools.closeAll();
    }
  });

  Deno.test(`upRange: a name taken by something else is a conflict, and nothing is created on ${uri}`, async () => {
    if (uri === DAEMON_URI) requireDaemon();
    const range = describe(uri);
    const other = validateRange({
      ...range.description,
      name: range.name,
      networks: range.description.networks!.slice(0, 1),
      guests: [{ id: "x", memory: 64, nics: [{ network: range.description.networks![0].name }] }],
    });
    const pools = new PoolRegistry({ max: 4 });
    const hold = await pools.get(uri).acquire();
    try {
      // a network of the same name that this range did not create
      const foreign = validateRange({
        ...other.description,
        name: `${range.name}x`,
        guests: [{ id: "x", memory: 64, nics: [{ network: range.description.networks![0].name }] }],
      });
      await upRange(foreign, pools, { waitForAddresses: false });
      const error = await upRange(range, pools).then(() => undefined, (e) => e);
      assert.ok(error instanceof RangeOperationError);
      assert.match(error.message, /belongs to range/);
      assert.deepEqual(error.done, []);
      assert.deepEqual((await leftovers(range, pools)).filter((l) => !l.startsWith("network")), []);
      await downRange(foreign, pools);
    } finally {
      hold.release();
      await pools.closeAll();
    }
  });
}
