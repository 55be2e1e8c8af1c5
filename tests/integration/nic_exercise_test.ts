// Exercise actions on a real TCG guest of the lab (lib/domain_nic.ts), checked from inside the guest
// through its agent: a pulled cable takes eth0's carrier away and plugging it back returns it; a
// hot-plugged NIC appears among the guest's interfaces and is gone after the unplug.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/nic_exercise_test.ts
import assert from "node:assert/strict";
import { attachNic, Connection, detachNic, type Domain, parseNics, setNicLink } from "../../mod.ts";
import { guestInterfaces, guestShell, waitForAgent } from "./_agent.ts";
import { destroyGuests, guestXml, lab, randomMac, requireLabNamespace, waitFor } from "./_lab.ts";

/**
 * Pulls the cable by network name and plugs it back by MAC: eth0 loses its carrier (and then its
 * operstate), and gets it back. Returns how long the guest took to see each, in ms.
 */
async function pullAndPlugCable(
  dom: Domain,
  network: string,
  mac: string,
): Promise<{ seenDown: number; seenUp: number }> {
  const carrier = async () => (await guestShell(dom, "cat /sys/class/net/eth0/carrier")).stdout.trim();
  const operstate = async () => (await guestShell(dom, "cat /sys/class/net/eth0/operstate")).stdout.trim();
  await waitFor("eth0 carrier 1 at boot", async () => (await carrier()) === "1" || undefined, 60_000, 300);
  const t0 = performance.now();
  const down = await setNicLink(dom, network, "down");
  assert.deepEqual([down.mac, down.previous, down.state], [mac, "up", "down"]);
  assert.equal(parseNics(await dom.xmlDesc()).find((n) => n.mac === mac)?.link, "down");
  await waitFor(
    "eth0 to lose its carrier",
    async () => (await carrier()) === "0" || undefined,
    30_000,
    200,
  );
  const seenDown = Math.round(performance.now() - t0);
  // the kernel's link watcher follows the carrier a moment later
  await waitFor(
    "eth0's operstate to go down",
    async () => /^(down|lowerlayerdown)$/.test(await operstate()) || undefined,
    30_000,
    200,
  );
  const t1 = performance.now();
  const up = await setNicLink(dom, mac, "up");
  assert.deepEqual([up.previous, up.state], ["down", "up"]);
  await waitFor(
    "eth0 to get its carrier back",
    async () => (await carrier()) === "1" || undefined,
    30_000,
    200,
  );
  return { seenDown, seenUp: Math.round(performance.now() - t1) };
}

/**
 * Hot-plugs a second NIC (the guest gets a new interface with its MAC) and unplugs it (it is gone; eth0,
 * with `mac`, untouched). Returns the new interface's name and the times, in ms.
 */
async function hotPlugAndUnplug(
  dom: Domain,
  network: string,
  mac: string,
): Promise<{ ifc: string; seenPlugged: number; waitedMs: number; seenUnplugged: number }> {
  const t2 = performance.now();
  const added = await attachNic(dom, { network });
  assert.ok(added.target, "a host device");
  const ifc = await waitFor(
    "the guest to see the hot-plugged NIC",
    async () => {
      for (const [ifName, hw] of await guestInterfaces(dom)) if (hw === added.mac) return ifName;
      return undefined;
    },
    60_000,
    300,
  );
  const seenPlugged = Math.round(performance.now() - t2);
  assert.notEqual(ifc, "eth0");
  const t3 = performance.now();
  const gone = await detachNic(dom, added.mac, { timeoutMs: 60_000 });
  assert.equal(gone.mac, added.mac);
  assert.ok(!parseNics(await dom.xmlDesc()).some((n) => n.mac === added.mac));
  await waitFor(
    "the guest to lose the unplugged NIC",
    async () => {
      const hw = [...(await guestInterfaces(dom)).values()];
      return hw.includes(added.mac) ? undefined : true;
    },
    30_000,
    300,
  );
  const seenUnplugged = Math.round(performance.now() - t3);
  assert.equal((await guestInterfaces(dom)).get("eth0"), mac, "eth0 is untouched");
  return { ifc, seenPlugged, waitedMs: gone.waitedMs, seenUnplugged };
}

Deno.test("setNicLink, attachNic, detachNic on a running guest: the guest sees each change", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = `m2-exercise-nic-${crypto.randomUUID().slice(0, 6)}`;
  const mac = randomMac();
  await using conn = await Connection.open(l.uri);
  const dom = await conn.domainCreateXml(await guestXml(name, mac, l.networks.isolated.name));
  try {
    await waitForAgent(dom);
    const { seenDown, seenUp } = await pullAndPlugCable(dom, l.networks.isolated.name, mac);
    const plug = await hotPlugAndUnplug(dom, l.networks.isolated.name, mac);
    console.log(
      `link down seen by guest in ${seenDown} ms, up in ${seenUp} ms; hot-plug seen in ${plug.seenPlugged} ms ` +
        `(${plug.ifc}), unplug released in ${plug.waitedMs} ms, gone in guest after ${plug.seenUnplugged} ms`,
    );
  } finally {
    dom.free();
    await destroyGuests(l.uri, [name]);
  }
});
