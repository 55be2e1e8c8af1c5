// Live network changes (lib/range/network_live.ts): a guest with a planned address added to a running
// range gets its DHCP entry in the running network through virNetworkUpdate, on the test driver; the
// entry computation (add, replace, leave alone) as pure functions.
import assert from "node:assert/strict";
import { lookupNetwork, PoolRegistry } from "../mod.ts";
import { validateRange } from "../lib/range/description.ts";
import { downRange } from "../lib/range/down.ts";
import { dhcpChanges, parseDhcpHosts, rangeDhcpHosts } from "../lib/range/network_live.ts";
import { upRange } from "../lib/range/up.ts";

function description(name: string, count: number) {
  return {
    name,
    hosts: [{ id: "local", uri: "test:///default" }],
    storage: { pool: "default-pool" },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.72.1.0/24",
      dhcp: { start: "10.72.1.100", end: "10.72.1.200" },
      reservations: [{ mac: "52:54:00:72:00:01", address: "10.72.1.5", name: "printer" }],
    }],
    guests: [{ id: "web", memory: 64, count, nics: [{ network: `${name}-lan`, address: "10.72.1.10" }] }],
  };
}

Deno.test("dhcpChanges adds what is missing, replaces clashing entries, leaves the rest", () => {
  const a = { mac: "52:54:00:00:00:01", ip: "10.0.0.10", name: "a" };
  const b = { mac: "52:54:00:00:00:02", ip: "10.0.0.11", name: "b" };
  const other = { mac: "52:54:00:00:00:09", ip: "10.0.0.99" };
  assert.deepEqual(dhcpChanges([a, b], [a, other]), { add: [b], remove: [] });
  assert.deepEqual(dhcpChanges([a], [a]), { add: [], remove: [] });
  // a's address changed: the old entry goes, the new one comes
  const moved = { ...a, ip: "10.0.0.20" };
  assert.deepEqual(dhcpChanges([moved], [a, other]), { add: [moved], remove: [a] });
  // b takes the address a stale entry holds
  const stale = { mac: "52:54:00:00:00:07", ip: "10.0.0.11" };
  assert.deepEqual(dhcpChanges([b], [stale]), { add: [b], remove: [stale] });
  // an entry another wanted one needs is never removed
  assert.deepEqual(dhcpChanges([a, { ...b, name: "a" }], [a]).remove, []);
});

Deno.test("parseDhcpHosts reads IPv4 DHCP hosts and skips the rest", () => {
  const xml =
    "<network><ip address='10.0.0.1' netmask='255.255.255.0'><dhcp><range start='10.0.0.2' end='10.0.0.9'/>" +
    "<host mac='52:54:00:AA:00:01' name='x' ip='10.0.0.5'/><host id='0:1' ip='10.0.0.6'/></dhcp></ip>" +
    "<ip family='ipv6' address='fd00::1' prefix='64'><dhcp><host name='v6' ip='fd00::5'/></dhcp></ip></network>";
  assert.deepEqual(parseDhcpHosts(xml), [{ mac: "52:54:00:aa:00:01", ip: "10.0.0.5", name: "x" }]);
  assert.deepEqual(parseDhcpHosts("<network/>"), []);
});

Deno.test("upRange on a running range that gained a guest adds its DHCP entry live, without restarting the network", async () => {
  const name = `nl${crypto.randomUUID().slice(0, 6)}`;
  const one = validateRange(description(name, 1));
  const two = validateRange(description(name, 2));
  await using pools = new PoolRegistry({ max: 2 });
  try {
    await upRange(one, pools, { waitForAddresses: false });
    const before = await pools.get("test:///default").use(async (conn) => {
      using net = await lookupNetwork(conn, `${name}-lan`);
      return { uuid: net.uuid, xml: await net.xmlDesc(), active: await net.isActive() };
    });
    assert.ok(before.active);
    assert.deepEqual(parseDhcpHosts(before.xml).map((h) => h.ip), ["10.72.1.5", "10.72.1.10"]);

    const up = await upRange(two, pools, { waitForAddresses: false });
    assert.deepEqual(up.created.filter((c) => c.startsWith("dhcp host")), [
      `dhcp host ${two.guests[1].nics[0].mac} 10.72.1.11 on network "${name}-lan" on local`,
    ]);
    assert.ok(up.kept.includes(`network "${name}-lan" on local`), "the network is kept, not made again");
    const after = await pools.get("test:///default").use(async (conn) => {
      using net = await lookupNetwork(conn, `${name}-lan`);
      return {
        uuid: net.uuid,
        live: await net.xmlDesc(),
        active: await net.isActive(),
      };
    });
    assert.equal(after.uuid, before.uuid);
    assert.ok(after.active);
    const wanted = rangeDhcpHosts(two, two.description.networks![0], "local");
    assert.deepEqual(parseDhcpHosts(after.live), wanted, "live");
    // (the test driver has no inactive XML of a running network: the lab test checks the persistent one)
    // converged: a third up changes nothing
    const again = await upRange(two, pools, { waitForAddresses: false });
    assert.deepEqual(again.created, []);
  } finally {
    await downRange(two, pools);
  }
});

Deno.test("syncDhcpHosts: an entry replaced by one libvirt then refuses is put back (nothing lost on failure)", async () => {
  const { Connection, defineNetwork } = await import("../mod.ts");
  const { syncDhcpHosts } = await import("../lib/range/network_live.ts");
  await using conn = await Connection.open("test:///default");
  const name = `r2nl${crypto.randomUUID().slice(0, 6)}`;
  using net = await defineNetwork(
    conn,
    `<network><name>${name}</name><ip address='10.73.1.1' netmask='255.255.255.0'><dhcp>` +
      `<range start='10.73.1.100' end='10.73.1.200'/>` +
      `<host mac='52:54:00:73:00:01' ip='10.73.1.10' name='old'/></dhcp></ip></network>`,
  );
  try {
    // same address, a MAC libvirt refuses: the old entry is deleted first, then the add fails
    await assert.rejects(() =>
      syncDhcpHosts(net, [{ mac: "52:54:00:73:00:zz", ip: "10.73.1.10", name: "new" }])
    );
    assert.deepEqual(parseDhcpHosts(await net.xmlDesc()), [
      { mac: "52:54:00:73:00:01", ip: "10.73.1.10", name: "old" },
    ]);
  } finally {
    await net.undefine();
  }
});
