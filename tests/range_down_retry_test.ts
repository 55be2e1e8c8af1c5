// downRange's second chance for a domain that refused its removal (lib/range/down/remove.ts
// retriedOnce): gone by now counts as removed, still there gets one more try on a fresh handle, and
// a second refusal is reported as a failure. On the in-process test driver.
import assert from "node:assert/strict";
import { Connection, defineDomain, type Domain, lookupDomain } from "../mod.ts";
import { retriedOnce } from "../lib/range/down/remove.ts";

const xml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;

Deno.test("down retry: a domain gone by the second look counts as removed, without a second removal", async () => {
  await using conn = await Connection.open("test:///default");
  const d = await defineDomain(conn, xml("retry-gone"));
  const uuid = d.uuid;
  await d.undefine();
  d.free();
  let calls = 0;
  assert.equal(await retriedOnce(conn, uuid, () => Promise.resolve(void calls++)), true);
  assert.equal(calls, 0);
});

Deno.test("down retry: a domain still there is removed on a fresh handle; a second refusal is false", async () => {
  await using conn = await Connection.open("test:///default");
  const d = await defineDomain(conn, xml("retry-there"));
  const uuid = d.uuid;
  d.free();
  try {
    assert.equal(await retriedOnce(conn, uuid, () => Promise.reject(new Error("still busy"))), false);
    const seen: string[] = [];
    assert.equal(
      await retriedOnce(conn, uuid, async (fresh: Domain) => {
        seen.push(fresh.uuid);
        await fresh.undefine();
      }),
      true,
    );
    assert.deepEqual(seen, [uuid]);
    await assert.rejects(() => lookupDomain(conn, "retry-there"), /not found|no domain/i);
  } finally {
    await lookupDomain(conn, "retry-there").then((x) => x.undefine().finally(() => x.free())).catch(() => {});
  }
});
