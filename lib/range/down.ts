/**
 * `downRange`: remove everything a range created and nothing else, found by its ownership marks
 * rather than by names or the description's guest list, so that it also cleans up after a crash or a
 * failed `up`: domains tagged with the range (destroyed, then undefined with their managed save,
 * snapshot metadata and NVRAM), the volumes and the pool listed in the range's ownership record on
 * each host, networks tagged with the range, and last the record itself. Base images and anything not
 * in the record (a volume of a similar name, a pool the range did not make) are never touched.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * import { downRange } from "@deno-libvirt/deno-libvirt";
 * await using pools = new PoolRegistry();
 * const result = await downRange(parseRangeDescription(await Deno.readTextFile("range.yaml")), pools);
 * console.log(result.removed.length, "removed");
 * ```
 *
 * @module
 */
import type { PoolRegistry } from "../pool.ts";
import { Lanes, verifiedRange } from "./_libvirt.ts";
import type { Range } from "./description.ts";
import type { RangeHooks, RangePhase } from "./types.ts";
import { Steps } from "./_steps.ts";
import { findOnHost } from "./down/find.ts";
import {
  deleteVolumes,
  Removal,
  removeNetworks,
  removePools,
  removeRecords,
  rewriteRecords,
  undefineDomains,
  undefineFilters,
} from "./down/remove.ts";

/** What {@link downRange} did. */
export interface DownResult {
  /** The range's name. */
  range: string;
  /** What was there and is now removed, e.g. `domain "demo-web-1" on local` (the ownership record not
   * counted). */
  removed: string[];
  /**
   * What the ownership record listed but down left alone, with why: a volume whose path is one of
   * the range's base images, a pool directory that is not empty or that up did not make.
   */
  kept: string[];
  /** Time per phase, ms. */
  timingsMs: Partial<Record<RangePhase, number>>;
  /** Time of the whole operation, ms. */
  tookMs: number;
}

/**
 * Removes everything the range created on its hosts, and only that: what carries its ownership mark
 * (domains and networks) or is listed in its ownership record (pools and volumes). Safe to run any
 * number of times, after a failed `up`, and from another process than the `up` that crashed.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param options concurrency, progress and test hooks
 * @returns what was removed, what the record listed but was kept (and why), the time per phase
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {RangeOperationError} when some removals failed (`done`: removed, `notDone`: still there);
 *   the ownership record then lists what is left, for the next `down`
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { downRange, parseRangeDescription, upRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: down
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: down-lan, mode: isolated, subnet: 10.9.3.0/24, dhcp: { start: 10.9.3.100, end: 10.9.3.200 } }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: down-lan }] }]
 * `, "down.yaml");
 * await using pools = new PoolRegistry({ max: 2 });
 * const hold = await pools.get("test:///default").acquire();
 * await upRange(range, pools, { waitForAddresses: false });
 * const down = await downRange(range, pools);
 * console.log(down.removed); // exactly what up made: the domain, its volume, the network, the record
 * hold.release();
 * ```
 */
export async function downRange(
  given: Range,
  registry: PoolRegistry,
  options: RangeHooks = {},
): Promise<DownResult> {
  const range = verifiedRange(given, "down");
  const steps = new Steps("down", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  // leases held from the plan through the volume phase (lanes): each keeps its connection's domain
  // listing and storage pool handle, so neither is asked again per domain or volume
  const lanes = new Lanes(limit);
  const r = new Removal(range, steps, registry, lanes, limit);
  try {
    await steps.phase("plan", range.description.hosts, (h) => ({ target: h.uri, host: h.id }), async (h) => {
      const onHost = await findOnHost(range, h.id, registry.get(h.uri), lanes);
      r.found.push(...onHost.found);
      if (onHost.record) r.records.set(h.id, onHost.record);
      return "ok";
    }, limit);
    r.expect();
    await undefineDomains(r);
    await deleteVolumes(r);
    await lanes.end(); // the pool phase looks the pool up afresh, to remove it
    await undefineFilters(r);
    await removeNetworks(r);
    await removePools(r);
    await removeRecords(r);
  } finally {
    await lanes.end();
    await rewriteRecords(r);
  }
  return {
    range: range.name,
    removed: r.removed,
    kept: r.kept,
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
  };
}
