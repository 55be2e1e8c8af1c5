// The Connection calls whose shape the method generator does not derive (host CPU maps, per-cell
// arrays of page sizes and counts) and the process-wide library version: written by hand, one
// libvirt call each, below the generated ConnectionCalls in the class chain (so Domain is named through
// lib/objects/_types.ts, like the generated methods name it).
import { type ConnectionInternals, kInternals } from "../_internals.ts";
import { formatVersion } from "../ffi/library.ts";
import * as m from "../ffi/marshal.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { type RawStatsRecord, takeStatsRecords } from "../ffi/typed_params.ts";
import { kPointer, type ObjectHandle } from "../_handle.ts";
import { qemuSymbol } from "../ffi/optional.ts";
import { wrapHandle } from "./_registry.ts";
import type { ObjectClasses } from "./_types.ts";

export type { RawStatsRecord } from "../ffi/typed_params.ts";

/** What {@link ConnectionHandCalls.nodeGetCpuMap} returns. */
export interface NodeCpuMap {
  /** The number of host CPUs (bits in the map). */
  cpus: number;
  /** How many of them are online. */
  online: number;
  /** One bit per host CPU, set when it is online. */
  cpumap: Uint8Array;
}

function u32Array(values: unknown, arg: string, fn: string): Uint32Array {
  if (!Array.isArray(values) || values.length === 0) {
    throw new TypeError(`Cannot call ${fn}: argument ${arg} must be a non-empty array of integers`);
  }
  return Uint32Array.from(values.map((v, i) => m.int(v, `${arg}[${i}]`, fn, true)));
}

/**
 * The hand-written one-call methods of {@link Connection} (extended by the generated
 * {@link ConnectionCalls}; not used directly): host CPU maps, per-NUMA-cell memory and huge pages.
 *
 * @example
 * ```ts
 * import { Connection, type ConnectionHandCalls } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const calls: ConnectionHandCalls = conn; // every Connection has the hand-written one-call methods
 * const { cpus, online, cpumap } = await calls.nodeGetCpuMap();
 * console.log(cpus, online, cpumap); // 8 3 Uint8Array(1) [21]: CPUs 0, 2 and 4 online
 * console.log(await calls.nodeGetCellsFreeMemory(0, 2)); // [ 2097152n, 4194304n ]: bytes free per NUMA cell
 * ```
 */
export abstract class ConnectionHandCalls {
  #gate(): ConnectionInternals {
    return (this as unknown as { [kInternals]: ConnectionInternals })[kInternals];
  }

  #operation(fn: string): () => string {
    return () => `call ${fn} on ${JSON.stringify((this as unknown as { uri: string }).uri)}`;
  }

  /**
   * The version of the libvirt library this process loaded (not the daemon's: see `getLibVersion()`).
   *
   * Calls [`virGetVersion`](https://libvirt.org/html/libvirt-libvirt-host.html#virGetVersion) (local).
   *
   * @returns e.g. "9.0.0"
   */
  static libraryVersion(): string {
    const out = new m.Out();
    libvirtSymbol("virGetVersion")(out.buffer, null, null);
    return formatVersion(Number(out.u64));
  }

  /**
   * Statistics of every domain of the connection (or those the flags select), in one call, as libvirt
   * returns them: each record's domain name, UUID and typed parameters (lib/stats.ts shapes them).
   *
   * Calls [`virConnectGetAllDomainStats`](https://libvirt.org/html/libvirt-libvirt-domain.html#virConnectGetAllDomainStats).
   *
   * @param stats the `VIR_DOMAIN_STATS_*` groups (0: every group the driver supports)
   * @param flags `VIR_CONNECT_GET_ALL_DOMAINS_STATS_*` filters and modifiers
   * @returns one record per domain, in libvirt's order
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async getAllDomainStats(stats: number, flags: number): Promise<RawStatsRecord[]> {
    const fn = "virConnectGetAllDomainStats";
    const groups = m.int(stats, "stats", fn, true);
    const bits = m.int(flags, "flags", fn, true);
    const list = new m.Out();
    return await this.#gate().call(
      this.#operation(fn),
      (h) => libvirtSymbol("virConnectGetAllDomainStatsAsync")(h, groups, list.buffer, bits),
      m.isNegative,
      (count) => takeStatsRecords(list.pointer, count),
    );
  }

  /**
   * Statistics of a list of domains of this connection, in one call. Each domain holds a libvirt
   * reference of its own for the call's duration, so a `free()` meanwhile cannot pull it away.
   *
   * Calls [`virDomainListGetStats`](https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainListGetStats).
   *
   * @param domains the domains (handles of this connection; at least one)
   * @param stats the `VIR_DOMAIN_STATS_*` groups (0: every group the driver supports)
   * @param flags `VIR_CONNECT_GET_ALL_DOMAINS_STATS_*` modifiers
   * @returns one record per domain libvirt could report on
   * @throws {TypeError} for a freed domain
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async domainListGetStats(
    domains: readonly ObjectHandle[],
    stats: number,
    flags: number,
  ): Promise<RawStatsRecord[]> {
    const fn = "virDomainListGetStats";
    const groups = m.int(stats, "stats", fn, true);
    const bits = m.int(flags, "flags", fn, true);
    for (const d of domains) d[kPointer]("get the statistics of"); // fail fast on a freed one
    const list = new m.Out();
    return await this.#gate().call(
      this.#operation(fn),
      async () => {
        // a NULL-terminated virDomainPtr array, each pointer referenced while the call runs
        const pointers = domains.map((d) => d[kPointer]("get the statistics of"));
        const array = new BigUint64Array(pointers.length + 1);
        pointers.forEach((p, i) => {
          libvirtSymbol("virDomainRef")(p);
          array[i] = BigInt(Deno.UnsafePointer.value(p));
        });
        try {
          return await libvirtSymbol("virDomainListGetStatsAsync")(
            new Uint8Array(array.buffer),
            groups,
            list.buffer,
            bits,
          );
        } finally {
          for (const p of pointers) libvirtSymbol("virDomainFree")(p);
        }
      },
      m.isNegative,
      (count) => takeStatsRecords(list.pointer, count),
    );
  }

  /**
   * Attaches libvirt to a QEMU process started outside libvirt. Deprecated by libvirt: the QEMU
   * driver of current releases refuses it.
   *
   * Calls [`virDomainQemuAttach`](https://libvirt.org/html/libvirt-libvirt-qemu.html#virDomainQemuAttach).
   *
   * @param pid the QEMU process id
   * @param options raw `flags` (none are defined yet)
   * @returns the new domain (outside the connection's UUID cache; `qemuAttach()` of lib/qemu.ts puts it there)
   * @throws {NotSupportedError} on libvirt releases that dropped the feature
   */
  async qemuAttach(pid: number, options?: { flags?: number } | number): Promise<ObjectClasses["Domain"]> {
    const fn = "virDomainQemuAttach";
    const process = m.int(pid, "pid_value", fn, true);
    const flags = m.flags(options, {}, fn);
    return await this.#gate().call(
      this.#operation(fn),
      (h) => qemuSymbol("virDomainQemuAttachAsync")(h, process, flags),
      m.isNull,
      (r) => wrapHandle<ObjectClasses["Domain"]>("virDomainPtr", this, r!),
    );
  }

  /**
   * Which host CPUs exist and are online.
   *
   * Calls [`virNodeGetCPUMap`](https://libvirt.org/html/libvirt-libvirt-host.html#virNodeGetCPUMap).
   *
   * @param options raw `flags` (none are defined yet)
   * @returns the CPU count, the online count and the online map
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async nodeGetCpuMap(options?: { flags?: number } | number): Promise<NodeCpuMap> {
    const fn = "virNodeGetCPUMap";
    const flags = m.flags(options, {}, fn);
    const map = new m.Out();
    const online = new m.Out();
    const cpus = await this.#gate().call(
      this.#operation(fn),
      (h) => libvirtSymbol("virNodeGetCPUMapAsync")(h, map.buffer, online.buffer, flags),
      m.isNegative,
    );
    return { cpus, online: online.uint, cpumap: m.takeBytes(map.pointer, Math.ceil(cpus / 8)) };
  }

  /**
   * Free memory per NUMA cell, in bytes.
   *
   * Calls [`virNodeGetCellsFreeMemory`](https://libvirt.org/html/libvirt-libvirt-host.html#virNodeGetCellsFreeMemory).
   *
   * @param startCell the first cell
   * @param maxCells how many cells at most
   * @returns one value per cell libvirt reported
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async nodeGetCellsFreeMemory(startCell = 0, maxCells = 64): Promise<bigint[]> {
    const fn = "virNodeGetCellsFreeMemory";
    const start = m.int(startCell, "startCell", fn);
    const max = m.int(maxCells, "maxCells", fn);
    const values = new BigUint64Array(Math.max(max, 1));
    const count = await this.#gate().call(
      this.#operation(fn),
      (h) => libvirtSymbol("virNodeGetCellsFreeMemoryAsync")(h, new Uint8Array(values.buffer), start, max),
      m.isNegative,
    );
    return [...values.subarray(0, count)];
  }

  /**
   * Free huge pages per page size and NUMA cell.
   *
   * Calls [`virNodeGetFreePages`](https://libvirt.org/html/libvirt-libvirt-host.html#virNodeGetFreePages).
   *
   * @param pages the page sizes to ask about, in KiB (e.g. `[4, 2048, 1048576]`)
   * @param startCell the first cell
   * @param cellCount how many cells
   * @param options raw `flags` (`VIR_NODE_FREE_PAGES_...`)
   * @returns `counts[cell * pages.length + i]`: free pages of size `pages[i]` in that cell
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async nodeGetFreePages(
    pages: readonly number[],
    startCell = 0,
    cellCount = 1,
    options?: { flags?: number } | number,
  ): Promise<bigint[]> {
    const fn = "virNodeGetFreePages";
    const sizes = u32Array(pages, "pages", fn);
    const start = m.int(startCell, "startCell", fn);
    const cells = m.int(cellCount, "cellCount", fn, true);
    const flags = m.flags(options, {}, fn);
    const counts = new BigUint64Array(Math.max(sizes.length * cells, 1));
    const filled = await this.#gate().call(
      this.#operation(fn),
      (h) =>
        libvirtSymbol("virNodeGetFreePagesAsync")(
          h,
          sizes.length,
          new Uint8Array(sizes.buffer),
          start,
          cells,
          new Uint8Array(counts.buffer),
          flags,
        ),
      m.isNegative,
    );
    return [...counts.subarray(0, filled)];
  }

  /**
   * Allocates (or frees) huge pages in NUMA cells.
   *
   * Calls [`virNodeAllocPages`](https://libvirt.org/html/libvirt-libvirt-host.html#virNodeAllocPages).
   *
   * @param pageSizes the page sizes, in KiB
   * @param pageCounts how many pages of each size
   * @param startCell the first cell (-1: the whole host)
   * @param cellCount how many cells
   * @param options raw `flags` (`VIR_NODE_ALLOC_PAGES_ADD` = 1 adds to the pool instead of setting it)
   * @returns the number of cells libvirt adjusted
   * @throws {LibvirtError} the error libvirt reports for exactly this call
   */
  async nodeAllocPages(
    pageSizes: readonly number[],
    pageCounts: readonly (number | bigint)[],
    startCell = -1,
    cellCount = 1,
    options?: { flags?: number } | number,
  ): Promise<number> {
    const fn = "virNodeAllocPages";
    const sizes = u32Array(pageSizes, "pageSizes", fn);
    if (!Array.isArray(pageCounts) || pageCounts.length !== sizes.length) {
      throw new TypeError(`Cannot call ${fn}: pageCounts must have one count per page size`);
    }
    const counts = BigUint64Array.from(pageCounts.map((c, i) => m.int64(c, `pageCounts[${i}]`, fn, true)));
    const start = m.int(startCell, "startCell", fn);
    const cells = m.int(cellCount, "cellCount", fn, true);
    const flags = m.flags(options, {}, fn);
    return await this.#gate().call(
      this.#operation(fn),
      (h) =>
        libvirtSymbol("virNodeAllocPagesAsync")(
          h,
          sizes.length,
          new Uint8Array(sizes.buffer),
          new Uint8Array(counts.buffer),
          start,
          cells,
          flags,
        ),
      m.isNegative,
    );
  }
}
