// Range automation on real QEMU (TCG) guests: a 4-guest range on a NAT network the range creates comes
// up with every address discovered, resets from a snapshot and goes down leaving nothing; and a range
// spread over the lab's two libvirtd hosts (the second over qemu+tcp, then over qemu+ssh) does the same.
import assert from "node:assert/strict";
import {
  listAllDomains,
  listAllNetworks,
  listAllStoragePools,
  listVolumes,
  lookupStoragePool,
  PoolRegistry,
} from "../../mod.ts";
import { parseRangeDescription, type Range, validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { rangeStatus } from "../../lib/range/status.ts";
import { resetRange, snapshotRange } from "../../lib/range/snapshot.ts";
import { upRange } from "../../lib/range/up.ts";
import { REPO_ROOT } from "../_helpers.ts";
import { lab, noSshChildrenLeft, requireLabNamespace, secondHostTransports } from "./_lab.ts";

function guest(l: ReturnType<typeof lab>, extra: Record<string, unknown>) {
  return {
    type: "qemu",
    memory: 96,
    agent: true,
    diskMiB: 16,
    kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
    ...extra,
  };
}

async function leftovers(range: Range, pools: PoolRegistry): Promise<string[]> {
  const found: string[] = [];
  for (const host of range.description.hosts) {
    found.push(
      ...await pools.get(host.uri).use(async (conn) => {
        const out: string[] = [];
        for (const d of await listAllDomains(conn)) {
          if (d.name.startsWith(`${range.name}-`)) out.push(`${host.id} domain ${d.name}`);
          d.free();
        }
        for (const n of await listAllNetworks(conn)) {
          if (n.name.startsWith(`${range.name}-`)) out.push(`${host.id} network ${n.name}`);
          n.free();
        }
        for (const p of await listAllStoragePools(conn)) {
          if (p.name.startsWith(`${range.name}.`)) out.push(`${host.id} pool ${p.name}`);
          p.free();
        }
        if (!range.pool.created) {
          using pool = await lookupStoragePool(conn, range.pool.name);
          await pool.refresh();
          for (const v of await listVolumes(pool)) {
            if (v.name.startsWith(`${range.name}.`)) out.push(`${host.id} volume ${v.name}`);
            v.free();
          }
        }
        return out;
      }, { idempotent: true }),
    );
  }
  return found;
}

async function lifecycle(range: Range): Promise<void> {
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 600_000 });
  try {
    const up = await upRange(range, pools, { addressTimeoutMs: 240_000, concurrency: 4 });
    assert.equal(up.addresses.length, range.guests.length, "every address discovered");
    const status = await rangeStatus(range, pools);
    assert.equal(status.counts.withAddress, range.guests.length);
    for (const g of status.guests) {
      const network = range.description.networks!.find((n) => n.name === g.nics[0].network)!;
      const prefix = network.subnet.split(".").slice(0, 3).join(".");
      assert.ok(g.address?.startsWith(`${prefix}.`), `${g.name}: ${g.address} in ${network.subnet}`);
    }
    console.log(`up ${range.guests.length} guests: ${up.tookMs} ms ${JSON.stringify(up.timingsMs)}`);
    assert.deepEqual((await upRange(range, pools, { addressTimeoutMs: 240_000 })).created, []);

    const snap = await snapshotRange(range, pools);
    assert.equal(snap.changed.length, range.guests.length);
    const reset = await resetRange(range, pools, { addressTimeoutMs: 240_000 });
    assert.equal(reset.addresses.length, range.guests.length, "back with addresses after the reset");
    console.log(`reset: ${reset.tookMs} ms ${JSON.stringify(reset.timingsMs)}`);

    const down = await downRange(range, pools);
    console.log(`down: ${down.tookMs} ms, ${down.removed.length} removed`);
    assert.deepEqual(await leftovers(range, pools), []);
    if (range.pool.created && range.pool.path) {
      await assert.rejects(
        () => Deno.stat(range.pool.path!),
        Deno.errors.NotFound,
        "the pool's directory is gone too",
      );
    }
  } finally {
    await downRange(range, pools).catch(() => {});
    await pools.closeAll();
    // after a failure half-way, leave the machine clean all the same
    if (range.pool.created && range.pool.path) {
      await Deno.remove(range.pool.path, { recursive: true }).catch(() => {});
    }
  }
}

Deno.test("lab: examples/range_lab.yaml is a valid description", async () => {
  const range = parseRangeDescription(
    await Deno.readTextFile(`${REPO_ROOT}examples/range_lab.yaml`),
    "range_lab.yaml",
  );
  assert.equal(range.guests.length, 5);
});

Deno.test("lab: a range of 4 TCG guests on a NAT network comes up, resets from a snapshot, goes down", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = `r${crypto.randomUUID().slice(0, 6)}`;
  await lifecycle(validateRange({
    name,
    hosts: [{ id: "h1", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [{
      name: `${name}-nat`,
      mode: "nat",
      subnet: "10.77.60.0/24",
      dhcp: { start: "10.77.60.100", end: "10.77.60.200" },
    }],
    guests: [guest(l, { id: "node", count: 4, nics: [{ network: `${name}-nat` }] })],
  }));
});

for (const [i, transport] of secondHostTransports.entries()) {
  Deno.test(`lab: a range spread over two hosts (the second over ${transport.name}) does the same`, async () => {
    await requireLabNamespace();
    const l = lab();
    const name = `r${crypto.randomUUID().slice(0, 6)}`;
    const net = 61 + 10 * i; // a subnet per transport: a failed run's network cannot block the next
    await lifecycle(validateRange({
      name,
      hosts: [{ id: "h1", uri: l.uri }, { id: "h2", uri: transport.uri() }],
      // the second host has no pool: the range makes its own dir pool on each host
      storage: { path: `${l.imagePool.path}/${name}` },
      networks: [{
        name: `${name}-lan`,
        mode: "isolated",
        subnet: `10.77.${net}.0/24`,
        dhcp: { start: `10.77.${net}.100`, end: `10.77.${net}.200` },
      }],
      guests: [guest(l, { id: "node", count: 4, hosts: ["h1", "h2"], nics: [{ network: `${name}-lan` }] })],
    }));
    await noSshChildrenLeft();
  });
}
