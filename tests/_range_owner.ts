// What the range ownership and escaping tests share (tests/range_ownership_test.ts,
// tests/range_escaping_test.ts): a small validated range with a fresh name, an inventory of a host to
// compare before and after, and a registry that holds the test driver's state for a whole test.
import { listAllDomains, listAllNetworks, listAllStoragePools, listVolumes, PoolRegistry } from "../mod.ts";
import type { Connection } from "../lib/connection.ts";
import { type Range, validateRange } from "../lib/range/description.ts";
import { DAEMON_URI, requireDaemon } from "./_helpers.ts";

export const POOL = "default-pool";

/** A valid range on `uri` with a fresh name: an isolated network, guests of two and of three instances. */
export function describe(uri: string, extra: Record<string, unknown> = {}): Range {
  const name = `o${crypto.randomUUID().slice(0, 8)}`;
  return validateRange({
    name,
    hosts: [{ id: "local", uri }],
    storage: { pool: POOL },
    networks: [{
      name: `${name}-lan`,
      mode: "isolated",
      subnet: "10.72.1.0/24",
      dhcp: { start: "10.72.1.100", end: "10.72.1.200" },
    }],
    guests: [
      { id: "web", memory: 64, count: 2, nics: [{ network: `${name}-lan`, address: "10.72.1.10" }] },
      { id: "pc", memory: 64, count: 3, nics: [{ network: `${name}-lan` }] },
    ],
    ...extra,
  });
}

/** Everything on the host, by kind: to compare before and after (nothing lost, nothing left). */
export async function inventory(pools: PoolRegistry, uri: string): Promise<string[]> {
  return await pools.get(uri).use(inventoryOf, { idempotent: true });
}

/** {@link inventory} on a connection the test holds. */
export async function inventoryOf(conn: Connection): Promise<string[]> {
  const out: string[] = [];
  for (const d of await listAllDomains(conn)) out.push(`domain ${d.name}`), d.free();
  for (const n of await listAllNetworks(conn)) out.push(`network ${n.name}`), n.free();
  for (const p of await listAllStoragePools(conn)) {
    out.push(`pool ${p.name}`);
    if (await p.isActive()) {
      await p.refresh();
      for (const v of await listVolumes(p)) out.push(`volume ${p.name}/${v.name}`), v.free();
    }
    p.free();
  }
  return out.sort();
}

/** Runs `fn` with a registry whose driver state lives for the whole test. */
export async function withHost(
  uri: string,
  fn: (pools: PoolRegistry, conn: Connection) => Promise<void>,
): Promise<void> {
  if (uri === DAEMON_URI) requireDaemon();
  const pools = new PoolRegistry({ max: 4 });
  const hold = await pools.get(uri).acquire(); // test drivers forget everything when the last client leaves
  try {
    await fn(pools, hold.connection);
  } finally {
    hold.release();
    await pools.closeAll();
  }
}
