// Live network changes on the lab's qemu:///system (lib/range/network_live.ts): a range of one TCG
// guest with a planned address comes up; its description gains a second guest with a planned address;
// the second `up` adds that guest's DHCP entry to the running network with virNetworkUpdate (live and
// persistent) without restarting it (same dnsmasq process, same bridge, the first guest's lease
// kept), and the new guest gets its planned address from dnsmasq. Everything goes with `down`.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/range_network_live_test.ts
import assert from "node:assert/strict";
import { lookupNetwork, PoolRegistry } from "../../mod.ts";
import { type Range, validateRange } from "../../lib/range/description.ts";
import { downRange } from "../../lib/range/down.ts";
import { parseDhcpHosts } from "../../lib/range/network_live.ts";
import { upRange } from "../../lib/range/up.ts";
import { type Lab, lab, requireLabNamespace, waitFor } from "./_lab.ts";

/** The range `name` on the lab: an isolated network `<name>-lan` with DHCP, and `count` instances of one
 * TCG guest with planned addresses from 10.77.41.10 on. */
function liveRange(l: Lab, name: string, count: number): Range {
  const net = `${name}-lan`;
  return validateRange({
    name,
    hosts: [{ id: "lab", uri: l.uri }],
    storage: { pool: l.imagePool.name },
    networks: [{
      name: net,
      mode: "isolated",
      subnet: "10.77.41.0/24",
      dhcp: { start: "10.77.41.100", end: "10.77.41.200" },
    }],
    guests: [{
      id: "web",
      type: "qemu",
      memory: 96,
      agent: true,
      diskMiB: 16,
      count,
      kernel: { kernel: l.guest.kernel, initrd: l.guest.initrd, cmdline: "console=ttyS0 quiet loglevel=3" },
      nics: [{ network: net, address: "10.77.41.10" }],
    }],
  });
}

Deno.test("upRange adds a new guest's DHCP entry to the running range network, which is not restarted", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = `m2-exercise-nl${crypto.randomUUID().slice(0, 4)}`;
  const net = `${name}-lan`;
  const one = liveRange(l, name, 1);
  const two = liveRange(l, name, 2);
  const pools = new PoolRegistry({ max: 4, acquireTimeoutMs: 300_000 });
  const dnsmasq = () => Deno.readTextFile(`/run/libvirt/network/${net}.pid`).then((t) => t.trim());
  const network = () =>
    pools.get(l.uri).use(async (conn) => {
      using n = await lookupNetwork(conn, net);
      return {
        uuid: n.uuid,
        bridge: await n.bridgeName(),
        live: parseDhcpHosts(await n.xmlDesc()),
        config: parseDhcpHosts(await n.xmlDesc({ inactive: true })),
        leases: await n.getDhcpLeases(),
      };
    });
  try {
    await upRange(one, pools, { addressTimeoutMs: 180_000 });
    const pid = await dnsmasq();
    const before = await network();
    const [mac1, mac2] = [one.guests[0].nics[0].mac, two.guests[1].nics[0].mac];
    assert.deepEqual(before.live.map((h) => h.ip), ["10.77.41.10"]);
    await waitFor(
      "guest 1's lease",
      async () => (await network()).leases.find((x) => x.mac === mac1),
      120_000,
      500,
    );

    const t0 = performance.now();
    const up = await upRange(two, pools, { addressTimeoutMs: 180_000 });
    const upMs = Math.round(performance.now() - t0);
    assert.ok(
      up.created.includes(`dhcp host ${mac2} 10.77.41.11 on network "${net}" on lab`),
      up.created.join("\n"),
    );
    assert.ok(!up.created.some((c) => c.startsWith("network")), "the network is not made again");

    const lease2 = await waitFor(
      "guest 2's lease",
      async () => (await network()).leases.find((x) => x.mac === mac2),
      120_000,
      500,
    );
    assert.equal(lease2.address, "10.77.41.11", "dnsmasq handed out the planned address");
    const after = await network();
    assert.equal(await dnsmasq(), pid, "the same dnsmasq: the network was not restarted");
    assert.equal(after.uuid, before.uuid);
    assert.equal(after.bridge, before.bridge);
    assert.deepEqual(after.live.map((h) => [h.mac, h.ip]), [[mac1, "10.77.41.10"], [mac2, "10.77.41.11"]]);
    assert.deepEqual(after.config, after.live, "the persistent definition has it too");
    assert.equal(after.leases.find((x) => x.mac === mac1)?.address, "10.77.41.10", "guest 1 keeps its lease");
    assert.equal(up.addresses.find((a) => a.name === two.guests[1].name)?.address, "10.77.41.11");
    console.log(`second up (1 guest added, 1 DHCP entry live): ${upMs} ms; dnsmasq pid ${pid} unchanged`);
  } finally {
    await downRange(two, pools).finally(() => pools.closeAll());
  }
});
