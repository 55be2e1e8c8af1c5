// The two-host case: a second libvirtd in its own namespaces, reached over qemu+tcp and over qemu+ssh
// (the lab's sshd on 10.77.9.2:2222, key authentication), driven from the same process as the first
// through one PoolRegistry.
import assert from "node:assert/strict";
import {
  defineDomain,
  destroyDomain,
  listAllDomains,
  lookupDomain,
  PoolRegistry,
  startDomain,
  undefineDomain,
} from "../../mod.ts";
import {
  consoleLease,
  guestName,
  guestXml,
  lab,
  noSshChildrenLeft,
  randomMac,
  requireLabNamespace,
  secondHostTransports,
  waitFor,
} from "./_lab.ts";

for (const transport of secondHostTransports) {
  Deno.test(`lab: a domain defined and started on the second host over ${transport.name} gets its address there`, async () => {
    await requireLabNamespace();
    await domainOnSecondHost(transport.uri());
  });
}

async function domainOnSecondHost(uri2: string): Promise<void> {
  const l = lab();
  await using pools = new PoolRegistry({ max: 2 });
  const host1 = pools.get(l.uri);
  const host2 = pools.get(uri2);
  assert.equal(await host2.use((c) => c.hypervisorType(), { idempotent: true }), "QEMU");
  assert.equal(await host2.use((c) => c.canonicalUri(), { idempotent: true }), uri2);

  const name = guestName("host2");
  const mac = randomMac();
  const xml = await guestXml(name, mac, l.secondHost.network.name);
  const domain = await host2.use((c) => defineDomain(c, xml));
  try {
    await host2.use(() => startDomain(domain));
    const names = async (pool: typeof host1) =>
      await pool.use(async (c) => (await listAllDomains(c)).map((d) => (d.free(), d.name)), {
        idempotent: true,
      });
    assert.ok((await names(host2)).includes(name), "listed on host 2");
    assert.ok(!(await names(host1)).includes(name), "not on host 1");

    const seen = await waitFor(`${name}'s lease on host 2`, () => consoleLease(name), 90_000, 200);
    assert.ok(seen.ip.startsWith(`${l.secondHost.network.prefix}.`), seen.ip);
    const lease = await waitFor(`the lease through ${uri2}`, async () => {
      const ifaces = await host2.use(() => domain.interfaceAddresses("lease"));
      return ifaces.find((i) => i.addresses.some((a) => a.address === seen.ip));
    }, 30_000);
    assert.equal(lease.mac, mac);
  } finally {
    await host2.use(() => destroyDomain(domain)).catch(() => {});
    await host2.use(() => undefineDomain(domain));
    domain.free();
  }
  await assert.rejects(() => host2.use((c) => lookupDomain(c, name)), /Domain not found/);
  const reports = await pools.closeAll();
  assert.equal(reports[uri2].remainingReferences, 0);
  await noSshChildrenLeft();
}
