// The library side of the per-operation CPU benchmarks (bench/perop_cpu.ts: blocking connections;
// bench/call_cpu.ts: nonblocking ones, several in flight): one connection's handles for an operation,
// the operation itself, and the clean-up, on the test driver's domain "test".
import type * as Lib from "../mod.ts";

/** One operation on one connection, and what removes what it made. */
export interface PeropCalls {
  call: () => Promise<unknown>;
  end: () => Promise<void>;
}

/** The XML of a minimal test-driver domain. */
export function domainXml(name: string): string {
  return `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`;
}

/**
 * The operations, by name: state, lookup_info, define_undefine, start_destroy (`states: false`),
 * vol_create_delete (in default-pool), addresses (lease), stats_each (domainStats of one domain).
 * What an operation makes is named `${prefix}-...`; `end` removes it and closes `conn`.
 */
export async function libraryCalls(
  lib: typeof Lib,
  conn: Lib.Connection,
  op: string,
  prefix: string,
): Promise<PeropCalls> {
  const dom = await lib.lookupDomain(conn, "test");
  const stopped = op === "start_destroy"
    ? await lib.defineDomain(conn, domainXml(`${prefix}-stopped`))
    : undefined;
  const pool = op === "vol_create_delete" ? await lib.lookupStoragePool(conn, "default-pool") : undefined;
  const lean = { states: false };
  const xml = domainXml(`${prefix}-x`);
  const volume = `<volume><name>${prefix}-vol</name><capacity unit='KiB'>64</capacity></volume>`;
  const calls: Record<string, () => Promise<unknown>> = {
    state: () => dom.state(),
    lookup_info: async () => {
      using d = await lib.lookupDomain(conn, "test");
      await d.info();
    },
    define_undefine: async () => {
      using d = await lib.defineDomain(conn, xml);
      await lib.undefineDomain(d, lean);
    },
    start_destroy: async () => {
      await lib.startDomain(stopped!, lean);
      await lib.destroyDomain(stopped!, { ifNeeded: true, states: false });
    },
    vol_create_delete: async () => {
      using vol = await lib.createVolume(pool!, volume);
      await vol.delete();
    },
    addresses: () => dom.interfaceAddresses("lease"),
    stats_each: () => lib.domainStats(dom),
  };
  return {
    call: calls[op],
    end: async () => {
      if (stopped !== undefined) await lib.undefineDomain(stopped);
      stopped?.free();
      pool?.free();
      dom.free();
      await conn.close();
    },
  };
}
