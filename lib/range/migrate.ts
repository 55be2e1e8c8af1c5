/**
 * `migrateRangeGuest`: live-migrate one guest of a range to another of the range's hosts, and
 * `locateGuest`: find on which host a guest runs now.
 *
 * Where a guest lives is read from libvirt, not written down: the description says where `up` puts a
 * guest; after a migration the guest (tagged with the range in its own metadata) runs elsewhere, and
 * `rangeStatus`, the inventory and `down` look for it on its described host first, then on the
 * range's other hosts. `plan` and `up` refuse to create a second copy of a guest that runs on
 * another host (a conflict naming that host); migrate it back, or change its host in the
 * description. The guest's definition moves with it (persistent on the destination, undefined on the
 * source); its disk stays where it is, so the hosts must see it at the same path (shared storage).
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { migrateRangeGuest, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * export async function move(file: string, guest: string, to: string): Promise<void> {
 *   await using pools = new PoolRegistry();
 *   const range = parseRangeDescription(await Deno.readTextFile(file), file);
 *   const moved = await migrateRangeGuest(range, pools, guest, to, { bandwidth: 100 });
 *   console.log(`${moved.guest}: ${moved.from} -> ${moved.to} in ${moved.tookMs} ms`);
 * }
 * ```
 *
 * @module
 */
import { lookupDomain } from "../domain.ts";
import { isNotFound } from "../errors.ts";
import { isLocalUri } from "../ip/sources/arp.ts";
import { migrateDomain, type MigrateOptions, type MigrationProgress } from "../migrate.ts";
import type { PoolRegistry } from "../pool.ts";
import { domainRange, verifiedRange } from "./_libvirt.ts";
import type { Range } from "./description.ts";

/** Where a range guest runs now. */
export interface GuestLocation {
  /** The guest's domain name. */
  name: string;
  /** The id of the host it is on. */
  host: string;
  /** That host's URI. */
  uri: string;
  /** libvirt's state there ("running", "shutoff", ...). */
  state: string;
  /** False when it is on another host than the description gives (it was migrated). */
  described: boolean;
}

/** Options for {@link migrateRangeGuest}. */
export interface MigrateGuestOptions {
  /** Bandwidth limit, MiB/s. Default: the hypervisor's. */
  bandwidth?: number;
  /**
   * Where the migration data goes, e.g. `tcp://10.0.0.2`. Default: `tcp://<host>` of the destination's
   * URI when it names a host; for a local URI (`qemu:///system`) libvirt's default.
   */
  migrateUri?: string;
  /**
   * Peer to peer (the source libvirtd reaches the destination by its URI). Default: true when the
   * destination's URI names a host, false for a local one (this process then drives both hosts).
   */
  peerToPeer?: boolean;
  /** Allow disks libvirt cannot prove are shared (see {@link MigrateOptions.unsafe}). Default false. */
  unsafe?: boolean;
  /** Aborts the migration; the guest stays where it was. */
  signal?: AbortSignal;
  /** Job samples of the migration. */
  onProgress?: (progress: MigrationProgress) => void;
  /** How often the job is sampled, ms. Default 250. */
  progressIntervalMs?: number;
}

/** What {@link migrateRangeGuest} did. */
export interface MigrateGuestResult {
  /** The guest's domain name. */
  guest: string;
  /** The host id it ran on. */
  from: string;
  /** The host id it runs on now. */
  to: string;
  /** False when it was on `to` already (nothing done). */
  migrated: boolean;
  /** Time of the migration, ms (0 when nothing was done). */
  tookMs: number;
  /** Job samples taken. */
  samples: number;
}

/** Options for {@link locateGuest}. */
export interface LocateOptions {
  /**
   * Stops the search: no host is asked after the abort (a wait for a pooled connection ends at once),
   * and `locateGuest` rejects with the signal's reason. It only reads: nothing is left behind.
   */
  signal?: AbortSignal;
}

/**
 * Finds the host a range guest is on: its described host first, then the range's other hosts (on any
 * host, a domain of that name counts only when its metadata tags it with this range).
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param guest the guest's domain name (`<range>-<id>-<n>`)
 * @param options a `signal` to stop the search
 * @returns its host and state, or undefined when no host of the range has it
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {TypeError} when `guest` is not a guest of the range
 * @throws {LibvirtError} when a host cannot be asked
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { locateGuest, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: loc
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * guests: [{ id: pc, memory: 64 }]
 * `, "loc.yaml");
 * await using pools = new PoolRegistry();
 * console.log(await locateGuest(range, pools, "loc-pc-1")); // undefined: the range is not up
 * ```
 */
export async function locateGuest(
  given: Range,
  registry: PoolRegistry,
  guest: string,
  options: LocateOptions = {},
): Promise<GuestLocation | undefined> {
  return await locate(verifiedRange(given, "locate"), registry, guest, options.signal);
}

/** @internal {@link locateGuest} on a range already re-checked. */
export async function locate(
  range: Range,
  registry: PoolRegistry,
  guest: string,
  signal?: AbortSignal,
): Promise<GuestLocation | undefined> {
  signal?.throwIfAborted();
  const g = range.guests.find((x) => x.name === guest);
  if (!g) {
    const known = range.guests.slice(0, 5).map((x) => JSON.stringify(x.name)).join(", ");
    throw new TypeError(
      `Cannot find guest ${JSON.stringify(guest)}: not a guest of range ${JSON.stringify(range.name)} ` +
        `(guests: ${known}${range.guests.length > 5 ? ", ..." : ""})`,
    );
  }
  const hosts = [
    ...range.description.hosts.filter((h) => h.id === g.hostId),
    ...range.description.hosts.filter((h) => h.id !== g.hostId),
  ];
  for (const host of hosts) {
    const found = await registry.get(host.uri).use(async (conn) => {
      signal?.throwIfAborted();
      try {
        using domain = await lookupDomain(conn, guest, { fresh: true });
        // a same-named domain the range did not make (no tag, or another range's) is not its guest,
        // on its described host too: never reported, never migrated
        if ((await domainRange(domain)) !== range.name) return undefined;
        return (await domain.state()).state;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }, { idempotent: true, signal });
    signal?.throwIfAborted();
    if (found !== undefined) {
      return { name: guest, host: host.id, uri: host.uri, state: found, described: host.id === g.hostId };
    }
  }
  return undefined;
}

function hostOf(uri: string): string | undefined {
  if (isLocalUri(uri)) return undefined;
  const authority = /^[a-z0-9+.-]+:\/\/([^/?#]*)/i.exec(uri)?.[1];
  if (!authority) return undefined;
  const host = authority.slice(authority.lastIndexOf("@") + 1);
  const bracket = /^\[([^\]]+)\]/.exec(host);
  if (bracket) return `[${bracket[1]}]`;
  return host.replace(/:\d+$/, "") || undefined;
}

/**
 * Live-migrates a running guest of the range to another of its hosts. Its definition moves along
 * (defined on the destination, undefined on the source); a migration that fails or is aborted
 * leaves it running where it was.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts (the destination's too, when this process drives the migration)
 * @param guest the guest's domain name
 * @param to the id of the host to move it to
 * @param options bandwidth, migration URI, peer to peer, unsafe, signal, progress
 * @returns where it was, where it is, and how long it took
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws {TypeError} for a guest or host that is not the range's, or a guest found on no host
 * @throws {MigrationError} when libvirt refuses or fails the migration (the guest stays where it was)
 * @throws the signal's reason when aborted
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { migrateRangeGuest, parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * // move a guest to h2, printing the job's progress; Ctrl-C style abort through the signal
 * export async function move(file: string, guest: string, signal: AbortSignal): Promise<void> {
 *   await using pools = new PoolRegistry();
 *   const range = parseRangeDescription(await Deno.readTextFile(file), file);
 *   await migrateRangeGuest(range, pools, guest, "h2", {
 *     signal,
 *     onProgress: (p) => console.log(p.dataProcessed, p.dataRemaining),
 *   });
 * }
 * ```
 */
export async function migrateRangeGuest(
  given: Range,
  registry: PoolRegistry,
  guest: string,
  to: string,
  options: MigrateGuestOptions = {},
): Promise<MigrateGuestResult> {
  const range = verifiedRange(given, "migrate");
  const target = range.description.hosts.find((h) => h.id === to);
  if (!target) {
    throw new TypeError(
      `Cannot migrate ${JSON.stringify(guest)}: unknown host ${JSON.stringify(to)} (hosts: ${
        range.description.hosts.map((h) => JSON.stringify(h.id)).join(", ")
      })`,
    );
  }
  const where = await locate(range, registry, guest);
  if (!where) {
    throw new TypeError(
      `Cannot migrate ${JSON.stringify(guest)}: it is on no host of range ${
        JSON.stringify(range.name)
      } (run up)`,
    );
  }
  if (where.host === to) return { guest, from: to, to, migrated: false, tookMs: 0, samples: 0 };
  if (where.state !== "running" && where.state !== "paused") {
    throw new TypeError(
      `Cannot migrate ${
        JSON.stringify(guest)
      }: it is ${where.state} on ${where.host}; only a running guest migrates live`,
    );
  }
  const targetHost = hostOf(target.uri);
  const peerToPeer = options.peerToPeer ?? targetHost !== undefined;
  const migrateUri = options.migrateUri ?? (targetHost ? `tcp://${targetHost}` : undefined);
  const base: MigrateOptions = {
    live: true,
    peerToPeer,
    ...(options.bandwidth !== undefined ? { bandwidth: options.bandwidth } : {}),
    ...(migrateUri ? { migrateUri } : {}),
    ...(options.unsafe ? { unsafe: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.progressIntervalMs ? { progressIntervalMs: options.progressIntervalMs } : {}),
  };
  const result = await registry.get(where.uri).use(async (conn) => {
    using domain = await lookupDomain(conn, guest, { fresh: true });
    if (peerToPeer) return await migrateDomain(domain, target.uri, base);
    // this process drives both ends: a connection to the destination for the length of the call
    return await registry.get(target.uri).use((destination) => migrateDomain(domain, destination, base));
  });
  return { guest, from: where.host, to, migrated: true, tookMs: result.tookMs, samples: result.samples };
}
