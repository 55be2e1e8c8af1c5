// Generated and hand-written one-call methods that need a real hypervisor, on a transient TCG guest
// of the lab's qemu:///system: NIC hot-plug and its bandwidth (typed parameters), the QEMU monitor,
// job statistics, per-CPU statistics, vCPU info, memory statistics and the guest agent. Each call
// returns its shape or throws a LibvirtError; the guest is destroyed at the end.
//
//   flock /tmp/deno_libvirt_lab.lock bash tests/integration/lab/lab.sh exec \
//     deno test --allow-all tests/integration/methods_qemu_test.ts
import assert from "node:assert/strict";
import { Connection, type Domain, DomainJobType, LibvirtError } from "../../mod.ts";
import { destroyGuests, guestName, guestXml, lab, randomMac, requireLabNamespace } from "./_lab.ts";

/** Hot-plugs a NIC on `network`, shapes its bandwidth (typed parameters round trip) and unplugs it. */
async function hotPlugWithBandwidth(dom: Domain, network: string): Promise<void> {
  const mac = randomMac();
  const nic = `<interface type='network'><mac address='${mac}'/><source network='${network}'/>` +
    `<model type='virtio'/></interface>`;
  await dom.attachDeviceFlags(nic, { live: true });
  const xml = await dom.getXmlDesc();
  const dev = xml.match(new RegExp(`<mac address='${mac}'/>[\\s\\S]*?<target dev='([^']+)'`))?.[1];
  assert.ok(dev, "the hot-plugged NIC has a target device");
  try {
    await dom.setInterfaceParameters(dev, { "inbound.average": 1000, "outbound.average": 500 }, {
      live: true,
    });
    const bandwidth = await dom.getInterfaceParameters(dev, { live: true });
    assert.equal(bandwidth["inbound.average"], 1000);
    assert.equal(bandwidth["outbound.average"], 500);
  } catch (error) {
    // the lab kernel may lack the qdiscs libvirt's tc commands need (sfq): libvirt says so, typed
    assert.ok(error instanceof LibvirtError && /tc |qdisc/.test(error.message), String(error));
    const bandwidth = await dom.getInterfaceParameters(dev, { live: true });
    assert.equal(typeof bandwidth["inbound.average"], "number");
  }
  try {
    await dom.detachDeviceFlags(nic, { live: true }); // the guest must acknowledge: may stay pending
  } catch (error) {
    assert.ok(error instanceof LibvirtError, String(error));
  }
}

/** Statistics and vCPUs (hand-written shapes), each its shape or a LibvirtError: "label: ok|code" each. */
async function statsOrTypedRefusals(dom: Domain): Promise<string[]> {
  const checks: [string, () => Promise<unknown>, (v: never) => void][] = [
    ["getCpuStats", () => dom.getCpuStats(), (v: Record<string, unknown>[]) => {
      assert.equal(typeof v[0].cpu_time, "bigint");
    }],
    ["getVcpus", () => dom.getVcpus(1, 1), (v: { info: unknown[] }) => assert.equal(v.info.length, 1)],
    ["memoryStats", () => dom.memoryStats(), (v: { val: unknown }[]) => {
      assert.ok(v.length > 0 && v.every((x) => typeof x.val === "bigint"));
    }],
    ["getInfo", () => dom.getInfo(), (v: { state: number }) => assert.equal(v.state, 1)],
  ];
  const outcomes: string[] = [];
  for (const [label, call, check] of checks) {
    let value: unknown;
    try {
      value = await call();
    } catch (error) {
      assert.ok(error instanceof LibvirtError, `${label}: ${String(error)}`);
      outcomes.push(`${label}: ${error.codeName}`);
      continue;
    }
    check(value as never);
    outcomes.push(`${label}: ok`);
  }
  return outcomes;
}

/** The guest agent: may not be up yet in a fresh guest; either way a typed result or a LibvirtError. */
async function agentCallsTyped(dom: Domain): Promise<void> {
  const agentCalls: [() => Promise<unknown>, string][] = [
    [() => dom.qemuAgentCommand('{"execute":"guest-ping"}', 5, 0), "string"],
    [() => dom.getGuestInfo(0), "object"],
  ];
  for (const [call, type] of agentCalls) {
    let value: unknown;
    try {
      value = await call();
    } catch (error) {
      assert.ok(error instanceof LibvirtError, String(error));
      continue;
    }
    assert.equal(typeof value, type);
  }
}

Deno.test("one-call methods on a real QEMU guest: hot-plug, typed parameters, monitor, jobs, agent", async () => {
  await requireLabNamespace();
  const l = lab();
  const name = guestName("methods");
  await using conn = await Connection.open(l.uri);
  const dom = await conn.domainCreateXml(await guestXml(name, randomMac(), l.networks.isolated.name));
  try {
    assert.equal((await dom.getState()).state, 1); // running

    // hot-plug a NIC, shape its bandwidth (typed parameters round trip), unplug it
    await hotPlugWithBandwidth(dom, l.networks.isolated.name);

    // the QEMU monitor (libvirt-qemu.so, loaded on this first call)
    const status = JSON.parse(await dom.qemuMonitorCommand('{"execute":"query-status"}'));
    assert.equal(status.return.status, "running");

    // no job runs: the type says so, the statistics are typed parameters
    const job = await dom.getJobStats();
    assert.equal(job.type, DomainJobType.NONE);
    assert.equal(typeof job.params, "object");

    // statistics and vCPUs (hand-written shapes); the lab host may lack cgroup controllers: then
    // libvirt says so, typed
    console.log((await statsOrTypedRefusals(dom)).join(", "));

    // the guest agent: may not be up yet in a fresh guest; either way a typed result or a LibvirtError
    await agentCallsTyped(dom);
  } finally {
    dom.free();
    await destroyGuests(l.uri, [name]);
  }
});
