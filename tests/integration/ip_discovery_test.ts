// IP discovery on real QEMU guests: every source finds the address the guest itself reports, the
// agent and the neighbour table for real, and waitForAddress resolves within a second of the lease.
import assert from "node:assert/strict";
import {
  Connection,
  ConnectionPool,
  createDomain,
  discover,
  lookupDomain,
  waitForAddress,
} from "../../mod.ts";
import {
  consoleLease,
  destroyGuests,
  guestName,
  guestXml,
  lab,
  randomMac,
  requireLabNamespace,
  waitFor,
} from "./_lab.ts";

Deno.test("lab IP: waitForAddress resolves within 1 s of the lease; every source agrees with the guest", async () => {
  await requireLabNamespace();
  const l = lab();
  await using pool = new ConnectionPool(l.uri, { max: 6 });
  await using watcher = await Connection.open(l.uri);
  const name = guestName("ip");
  const mac = randomMac();
  const xml = await guestXml(name, mac, l.networks.nat.name);
  const domain = await pool.use((c) => createDomain(c, xml));
  try {
    // an independent observer notes when libvirt first shows the lease
    let leaseSeenAt: number | undefined;
    const observer = (async () => {
      using d = await lookupDomain(watcher, name);
      while (leaseSeenAt === undefined) {
        const ifaces = await d.interfaceAddresses("lease").catch(() => []);
        if (ifaces.some((i) => i.addresses.length > 0)) leaseSeenAt = performance.now();
        else await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const found = await waitForAddress(domain, {
      timeoutMs: 90_000,
      family: "ipv4",
      minConfidence: 0.75,
      pool,
    });
    const resolvedAt = performance.now();
    await observer;
    const lag = resolvedAt - leaseSeenAt!;
    assert.ok(lag < 1_000, `waitForAddress resolved ${lag.toFixed(0)} ms after the lease appeared`);

    const guest = await waitFor("the guest's console line", () => consoleLease(name), 10_000);
    assert.equal(found.address.address, guest.ip);
    assert.equal(found.address.mac, mac);

    // every source, for real: the agent (eth0 + lo), the network leases, the kernel neighbour table
    const full = await waitFor(
      "all sources",
      async () => {
        const r = await discover(domain, { pool });
        const saw = (source: string) =>
          r.sources.find((s) => s.source === source)?.sightings.some((x) => x.address === guest.ip);
        return saw("lease") && saw("network-lease") && saw("agent") && saw("arp") ? r : undefined;
      },
      60_000,
      500,
    );
    const report = (source: string) => full.sources.find((s) => s.source === source)!;
    assert.equal(report("agent").status, "ok");
    assert.ok(report("agent").sightings.some((s) => s.interfaceName === "lo"), "the agent reports lo too");
    assert.ok(full.ignored.some((i) => i.reason === "loopback"), "and discovery drops it");
    assert.ok(
      report("arp").sightings.some((s) => s.notes?.includes("kernel-table")),
      "libvirt's ARP fails here: the kernel table answered",
    );
    assert.equal(report("network-lease").sightings.find((s) => s.address === guest.ip)?.hostname, name);
    assert.equal(full.best?.address, guest.ip);
    assert.ok(full.best!.confidence >= 0.98, `confidence ${full.best!.confidence}`);
    assert.deepEqual([...full.best!.sources].sort(), ["agent", "arp", "lease", "network-lease"]);
  } finally {
    domain.free();
    await destroyGuests(l.uri, [name]);
  }
});

Deno.test("lab IP: without an agent, discovery skips it at once and the lease still answers", async () => {
  await requireLabNamespace();
  const l = lab();
  await using conn = await Connection.open(l.uri);
  const name = guestName("ipnoagent");
  const domain = await createDomain(
    conn,
    await guestXml(name, randomMac(), l.networks.isolated.name, { agent: false }),
  );
  try {
    const found = await waitForAddress(domain, { timeoutMs: 90_000, minConfidence: 0.75 });
    const agent = found.sources.find((s) => s.source === "agent")!;
    assert.equal(agent.status, "skipped");
    assert.match(agent.reason!, /no guest agent channel/);
    assert.ok(agent.tookMs < 50, `skipping the agent took ${agent.tookMs} ms`);
    assert.equal(found.address.address, (await waitFor("console", () => consoleLease(name), 10_000)).ip);
  } finally {
    domain.free();
    await destroyGuests(l.uri, [name]);
  }
});
