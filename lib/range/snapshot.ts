/**
 * Snapshots of a whole range: `snapshotRange` takes a named snapshot of every guest (keeping one that
 * exists), `resetRange` reverts every guest to it and waits until each runs with an address again.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt";
 * import { resetRange, snapshotRange } from "@deno-libvirt/deno-libvirt";
 * await using pools = new PoolRegistry();
 * const range = parseRangeDescription(await Deno.readTextFile("range.yaml"));
 * await snapshotRange(range, pools);           // "clean", or the description's `snapshot`
 * // ... the exercise ...
 * const { addresses } = await resetRange(range, pools);
 * ```
 *
 * @module
 */
import { type Domain, lookupDomain } from "../domain.ts";
import { isNotFound } from "../errors.ts";
import type { PoolRegistry } from "../pool.ts";
import { createSnapshot, lookupSnapshot, revertToSnapshot } from "../snapshot.ts";
import { domainRange, verifiedRange } from "./_libvirt.ts";
import type { ExpandedGuest, Range } from "./description.ts";
import { locate } from "./migrate.ts";
import type { RangePhase } from "./types.ts";
import { Steps } from "./_steps.ts";
import { type GuestAddress, type UpOptions, waitForGuests } from "./up.ts";

/** Options for {@link snapshotRange} and {@link resetRange}. */
export interface RangeSnapshotOptions extends UpOptions {
  /** The snapshot's name; default the description's `snapshot` ("clean"). */
  name?: string;
}

/** What {@link snapshotRange} / {@link resetRange} did. */
export interface RangeSnapshotResult {
  /** The range's name. */
  range: string;
  /** The snapshot's name. */
  snapshot: string;
  /** Guests snapshotted (or reverted) by this call. */
  changed: string[];
  /** Guests that already had the snapshot (snapshotRange). */
  kept: string[];
  /** After a reset with address waiting. */
  addresses: GuestAddress[];
  /** Time per phase, ms. */
  timingsMs: Partial<Record<RangePhase, number>>;
  /** Time of the whole operation, ms. */
  tookMs: number;
}

/** Refuses a domain of a guest's name that does not carry this range's mark: it is not the range's. */
async function requireOwned(domain: Domain, range: Range, host: string): Promise<void> {
  const owner = await domainRange(domain);
  if (owner !== range.name) {
    throw new Error(
      `domain ${JSON.stringify(domain.name)} on ${host} is not this range's (${
        owner === undefined ? "it carries no range mark" : `it belongs to range ${JSON.stringify(owner)}`
      }): not touching it`,
    );
  }
}

/**
 * Runs `fn` on the guest's domain where it runs now: its described host first (one lookup), and when
 * it is not there, the host a migration moved it to (lib/range/migrate.ts, by the range's mark).
 * A domain of the guest's name without this range's mark is refused, on any host.
 */
async function onGuest<T>(
  range: Range,
  registry: PoolRegistry,
  g: ExpandedGuest,
  fn: (domain: Domain, uri: string) => Promise<T>,
): Promise<T> {
  const here = await registry.get(g.uri).use(async (conn) => {
    let domain: Domain;
    try {
      domain = await lookupDomain(conn, g.name);
    } catch (error) {
      if (isNotFound(error)) return { missing: true as const };
      throw error;
    }
    try {
      await requireOwned(domain, range, g.hostId);
      return { missing: false as const, value: await fn(domain, g.uri) };
    } finally {
      domain.free();
    }
  });
  if (!here.missing) return here.value;
  const moved = await locate(range, registry, g.name);
  if (moved === undefined) {
    throw new Error(
      `guest ${JSON.stringify(g.name)} is on none of the range's hosts (${
        range.description.hosts.map((h) => h.id).join(", ")
      }): run up first`,
    );
  }
  return await registry.get(moved.uri).use(async (conn) => {
    using domain = await lookupDomain(conn, g.name);
    await requireOwned(domain, range, moved.host);
    return await fn(domain, moved.uri);
  });
}

/**
 * Takes a named snapshot of every guest; a guest that has one of that name keeps it.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param options snapshot name, concurrency, hooks
 * @returns which guests were snapshotted and which kept theirs
 * @throws {RangeOperationError} when some guests could not be snapshotted
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { downRange, parseRangeDescription, resetRange, snapshotRange, upRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: snap
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: snap-lan, mode: isolated, subnet: 10.9.4.0/24, dhcp: { start: 10.9.4.100, end: 10.9.4.200 } }]
 * guests: [{ id: pc, memory: 64, nics: [{ network: snap-lan }] }]
 * `, "snap.yaml");
 * await using pools = new PoolRegistry({ max: 2 });
 * const hold = await pools.get("test:///default").acquire();
 * await upRange(range, pools);
 * const snap = await snapshotRange(range, pools, { name: "before-exercise" });
 * console.log(snap.snapshot, snap.changed);
 * await resetRange(range, pools, { name: "before-exercise" }); // every guest back to it
 * await downRange(range, pools);
 * hold.release();
 * ```
 */
export async function snapshotRange(
  given: Range,
  registry: PoolRegistry,
  options: RangeSnapshotOptions = {},
): Promise<RangeSnapshotResult> {
  const range = verifiedRange(given, "snapshot");
  const name = options.name ?? range.snapshot;
  const steps = new Steps("snapshot", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const changed: string[] = [];
  const kept: string[] = [];
  for (const g of range.guests) steps.notDone.add(`snapshot ${JSON.stringify(g.name)}`);
  await steps.phase("snapshot", range.guests, (g) => ({ target: g.name, host: g.hostId }), async (g) => {
    await steps.act("snapshot", g.name, g.hostId);
    const status = await onGuest(range, registry, g, async (domain) => {
      try {
        (await lookupSnapshot(domain, name)).free();
        return "kept" as const;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      (await createSnapshot(domain, { name, description: `range ${range.name}` })).free();
      return "created" as const;
    });
    (status === "kept" ? kept : changed).push(g.name);
    steps.mark(`snapshot ${JSON.stringify(g.name)}`);
    return status;
  }, limit);
  return {
    range: range.name,
    snapshot: name,
    changed,
    kept,
    addresses: [],
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
  };
}

/**
 * Reverts every guest to the named snapshot, running, then waits for each one's address.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param options snapshot name, address waiting, concurrency, hooks
 * @returns the reverted guests and their addresses
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {RangeOperationError} when a guest has no such snapshot, cannot revert, gets no address, or
 *   a domain of a guest's name does not carry this range's mark (it is left alone)
 *
 * @example
 * ```ts
 * import { type PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { type Range, resetRange } from "@deno-libvirt/deno-libvirt/range";
 * async function nextTeam(range: Range, pools: PoolRegistry): Promise<void> {
 *   const reset = await resetRange(range, pools, { addressTimeoutMs: 120_000 });
 *   console.log(`${reset.changed.length} guests reverted to ${reset.snapshot}; addresses:`, reset.addresses);
 * }
 * void nextTeam;
 * ```
 */
export async function resetRange(
  given: Range,
  registry: PoolRegistry,
  options: RangeSnapshotOptions = {},
): Promise<RangeSnapshotResult> {
  const range = verifiedRange(given, "reset");
  const name = options.name ?? range.snapshot;
  const steps = new Steps("reset", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const changed: string[] = [];
  const movedTo = new Map<string, string>(); // guests a migration moved off their described host
  for (const g of range.guests) steps.notDone.add(`revert ${JSON.stringify(g.name)}`);
  await steps.phase("revert", range.guests, (g) => ({ target: g.name, host: g.hostId }), async (g) => {
    await steps.act("revert", g.name, g.hostId);
    const uri = await onGuest(range, registry, g, async (domain, uri) => {
      using snapshot = await lookupSnapshot(domain, name);
      await revertToSnapshot(snapshot, { running: true });
      return uri;
    });
    if (uri !== g.uri) movedTo.set(g.name, uri);
    changed.push(g.name);
    steps.mark(`revert ${JSON.stringify(g.name)}`);
    return "ok";
  }, limit);
  const addresses = options.waitForAddresses === false
    ? []
    : await waitForGuests(range, registry, steps, options, undefined, undefined, movedTo);
  return {
    range: range.name,
    snapshot: name,
    changed,
    kept: [],
    addresses,
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
  };
}
