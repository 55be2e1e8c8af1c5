import assert from "node:assert/strict";
import { Connection, listAllDomains, lookupDomain } from "../mod.ts";

Deno.test("Domain: a free() racing an async call fails that call cleanly instead of freeing under it", async () => {
  await using conn = await Connection.open("test:///default");
  // queued behind a listing: the free lands before the call starts
  const dom = await lookupDomain(conn, "test");
  const listing = listAllDomains(conn);
  const info = dom.info();
  dom.free();
  for (const d of await listing) d.free();
  await assert.rejects(() => info, /^TypeError: Cannot get info of freed Domain "test"$/);
  // in flight on another thread: the call holds its own reference, so the free cannot pull the
  // pointer away; 200 rounds with the free landing at different moments, never a crash or a leak
  for (let i = 0; i < 200; i++) {
    const again = await lookupDomain(conn, "test");
    const inFlight = again.info();
    for (let k = 0; k < i % 5; k++) await Promise.resolve();
    again.free();
    const outcome = await inFlight.catch((e: Error) => e);
    if (outcome instanceof Error) assert.match(outcome.message, /^Cannot get info of freed Domain "test"$/);
    else assert.equal(outcome.state, "running");
  }
  assert.deepEqual(await conn.close(), { remainingReferences: 0, freedHandles: 0 });
});

Deno.test("Domain: users cannot construct one", async () => {
  await using conn = await Connection.open("test:///default");
  using dom = await lookupDomain(conn, "test");
  const DomainClass = dom.constructor as new (...args: unknown[]) => unknown;
  assert.throws(() => new DomainClass(Symbol("fake"), conn, null), /Cannot construct a Domain directly/);
});
