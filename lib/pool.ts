/**
 * Pools of connections, one per hypervisor URI, and a registry of pools for many hosts.
 *
 * A pooled connection is leased to exactly one operation at a time: that is what makes every error
 * the error of its own call (libvirt keeps errors per connection and per thread, and nonblocking calls
 * run on a pool of threads). Concurrency therefore comes from the number of connections (`max`).
 *
 * @example
 * ```ts ignore
 * import { ConnectionPool } from "@deno-libvirt/deno-libvirt";
 * import { listAllDomains } from "@deno-libvirt/deno-libvirt";
 * await using pool = new ConnectionPool("test:///default", { max: 4 });
 * const names = await pool.use(async (conn) => {
 *   const domains = await listAllDomains(conn);
 *   try { return domains.map((d) => d.name); } finally { domains.forEach((d) => d.free()); }
 * }, { idempotent: true });
 * ```
 *
 * @module
 */
export { ConnectionPool } from "./pool/connection_pool.ts";
export { Lease } from "./pool/lease.ts";
export { PoolRegistry } from "./pool/registry.ts";
export type {
  LeaseOptions,
  PoolCloseReport,
  PoolOptions,
  PoolStats,
  ReconnectOptions,
  UseOptions,
} from "./pool/types.ts";
