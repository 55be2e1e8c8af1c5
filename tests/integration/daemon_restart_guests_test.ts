// libvirtd restarted while real guests run: the pool reconnects, and no domain is lost or changes state.
import assert from "node:assert/strict";
import {
  ConnectionPool,
  createDomain,
  domainEvents,
  listAllDomains,
  lookupDomain,
  resumeDomain,
  suspendDomain,
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
import { nextEvent } from "../_helpers.ts";

async function snapshot(pool: ConnectionPool): Promise<string[]> {
  return await pool.use(async (c) => {
    const domains = await listAllDomains(c);
    try {
      return (await Promise.all(domains.map(async (d) => `${d.uuid} ${d.name} ${(await d.info()).state}`)))
        .sort();
    } finally {
      for (const d of domains) d.free();
    }
  }, { idempotent: true });
}

Deno.test("lab: restarting libvirtd under running guests loses no domain; the pool and the events carry on", async () => {
  await requireLabNamespace();
  const l = lab();
  await using pool = new ConnectionPool(l.uri, { max: 2 });
  const guests = await Promise.all([1, 2].map(async (i) => {
    const name = guestName(`restart${i}`);
    return {
      name,
      domain: await pool.use(async (c) =>
        createDomain(c, await guestXml(name, randomMac(), l.networks.isolated.name))
      ),
    };
  }));
  try {
    for (const g of guests) await waitFor(`${g.name} booted`, () => consoleLease(g.name), 90_000, 200);
    await using events = domainEvents(l.uri, { domain: guests[0].name });
    await events.ready();
    const before = await snapshot(pool);
    const restart = await new Deno.Command("bash", {
      args: [l.labScript, "restart"],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(restart.success, new TextDecoder().decode(restart.stderr));
    const after = await snapshot(pool);
    assert.deepEqual(after, before, "the same domains, in the same states");
    assert.ok(pool.stats().reconnects >= 1, JSON.stringify(pool.stats()));
    // handles of the old connection are gone with it: look the guests up again on the new one
    for (const g of guests) {
      const ifaces = await pool.use(async (c) => {
        using d = await lookupDomain(c, g.name);
        return await d.interfaceAddresses("lease");
      }, { idempotent: true });
      assert.ok(ifaces.length > 0, `${g.name} still has its lease`);
    }
    // the event stream learned of the break (a gap: re-read state), re-subscribed, and flows again
    const gap = await nextEvent(events, 30_000);
    assert.equal(gap.kind, "gap");
    assert.ok(gap.reason === "eof" || gap.reason === "error" || gap.reason === "keepalive", gap.reason);
    await pool.use(async (c) => {
      using d = await lookupDomain(c, guests[0].name);
      await suspendDomain(d);
      await resumeDomain(d);
    });
    const suspended = await nextEvent(events, 5_000);
    assert.deepEqual([suspended.event, suspended.detail], ["suspended", "paused"]);
    assert.deepEqual([(await nextEvent(events, 5_000)).event], ["resumed"]);
  } finally {
    await destroyGuests(l.uri, guests.map((g) => g.name));
  }
});
