/**
 * `rangeStatus`: each guest's state, host, NICs and discovered addresses (with confidence and flags);
 * the inventory built from it (./inventory.ts: Ansible's dynamic-inventory JSON, INI and YAML) is
 * re-exported here.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { ansibleIni, parseRangeDescription, rangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * await using pools = new PoolRegistry();
 * const status = await rangeStatus(parseRangeDescription(await Deno.readTextFile("range.yaml")), pools);
 * console.log(ansibleIni(status));
 * ```
 *
 * @module
 */
import { lookupDomain } from "../domain.ts";
import { isNotFound } from "../errors.ts";
import { discover } from "../ip/discover.ts";
import type { PoolRegistry } from "../pool.ts";
import { asError, domainRange, settleAll, verifiedRange } from "./_libvirt.ts";
import type { ExpandedGuest, Range } from "./description.ts";
import type { RangeHooks } from "./types.ts";

/** One NIC of a guest in the status. */
export interface NicStatus {
  /** The range network the NIC is on, as the description names it. */
  network: string;
  /** The NIC's MAC address. */
  mac: string;
  /** The address planned in the description, if any. */
  planned?: string;
  /**
   * Addresses discovered, best first, with discovery's flags ("outside-subnet", "same-origin", ...)
   * and its reasoning.
   */
  addresses: {
    address: string;
    confidence: number;
    sources: string[];
    flags: string[];
    explanation: string;
  }[];
}

/** One guest in the status. */
export interface GuestStatus {
  /** The domain's name, `<range>-<guest>-<n>`. */
  name: string;
  /** The guest kind's id in the description. */
  guest: string;
  /** The kind's extra Ansible groups (`groups` in the description), when it names any. */
  groups?: string[];
  /** Which copy of the guest kind, from 1. */
  index: number;
  /**
   * The id of the host it is on: where it was found (a migrated guest is found on the range's other
   * hosts), or its described host when absent.
   */
  host: string;
  /** That host's libvirt URI. */
  uri: string;
  /** libvirt's state ("running", "shutoff", ...), or "absent". */
  state: string;
  /** The guest's NICs, in description order. */
  nics: NicStatus[];
  /** The best address over all NICs, and its discovery confidence. */
  address?: string;
  /** The discovery confidence of `address`, 0..1. */
  confidence?: number;
  /** Why the guest's state or addresses could not be read (a missing guest is "absent", not an error). */
  error?: string;
}

/** What {@link rangeStatus} found. */
export interface RangeStatus {
  /** The range's name. */
  range: string;
  /** When the status was taken, ISO 8601 (UTC). */
  generatedAt: string;
  /** One entry per guest of the description. */
  guests: GuestStatus[];
  /** Guests running / present / described. */
  counts: { running: number; present: number; described: number; withAddress: number };
  /** Time of the whole status, ms. */
  tookMs: number;
}

/** Options for {@link rangeStatus}. */
export interface StatusOptions extends Pick<RangeHooks, "signal"> {
  /** Discover addresses (one discovery per running guest). Default true. */
  addresses?: boolean;
  /** Calls in flight per host. Default 8. */
  concurrency?: number;
}

/** Reads a guest's state (and addresses) on one host into `entry`; false when it is not there. */
async function readOn(
  range: Range,
  registry: PoolRegistry,
  options: StatusOptions,
  g: ExpandedGuest,
  entry: GuestStatus,
  hostId: string,
  uri: string,
): Promise<boolean> {
  const signal = options.signal;
  return await registry.get(uri).use(async (conn) => {
    signal?.throwIfAborted();
    let domain;
    try {
      domain = await lookupDomain(conn, g.name);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    using _ = domain;
    // only a domain tagged with this range is its guest, on the described host too (a same-named
    // domain of someone else's is absent here; plan reports it as a conflict)
    if ((await domainRange(domain)) !== range.name) return false;
    entry.host = hostId;
    entry.uri = uri;
    entry.state = (await domain.state()).state;
    if (options.addresses === false || entry.state !== "running") return true;
    signal?.throwIfAborted();
    const found = await discover(domain, { family: "ipv4", signal });
    for (const nic of entry.nics) {
      const seen = found.nics.find((n) => n.nic.mac === nic.mac);
      nic.addresses = (seen?.addresses ?? []).map((a) => ({
        address: a.address,
        confidence: a.confidence,
        sources: a.sources,
        flags: a.flags,
        explanation: a.explanation,
      }));
    }
    if (found.best) {
      entry.address = found.best.address;
      entry.confidence = found.best.confidence;
    }
    return true;
  }, { idempotent: true, signal });
}

/** One guest's status: found on its described host, or on another of the range's hosts. */
async function guestStatus(
  range: Range,
  registry: PoolRegistry,
  options: StatusOptions,
  g: ExpandedGuest,
): Promise<GuestStatus> {
  const entry: GuestStatus = {
    name: g.name,
    guest: g.guestId,
    ...(g.groups?.length ? { groups: [...g.groups] } : {}),
    index: g.index,
    host: g.hostId,
    uri: g.uri,
    state: "absent",
    nics: g.nics.map((n) => ({
      network: n.network,
      mac: n.mac,
      ...(n.address ? { planned: n.address } : {}),
      addresses: [],
    })),
  };
  // its described host first; when it is not there, the range's other hosts (it may have been
  // migrated: lib/range/migrate.ts), where only a domain tagged with this range counts
  const hosts = [
    ...range.description.hosts.filter((h) => h.id === g.hostId),
    ...range.description.hosts.filter((h) => h.id !== g.hostId),
  ];
  try {
    for (const host of hosts) {
      options.signal?.throwIfAborted();
      const found = await readOn(range, registry, options, g, entry, host.id, host.uri);
      if (found) break;
    }
  } catch (error) {
    // an abort is the caller's, not the guest's: the whole status rejects with the signal's reason
    if (options.signal?.aborted) throw options.signal.reason;
    entry.error = asError(error).message;
  }
  return entry;
}

/**
 * Reads the state and addresses of every guest of the range.
 *
 * @param given the validated range; re-checked first
 * @param registry pools to the hosts
 * @param options whether to discover addresses, concurrency, and a `signal`: on abort no guest's read
 *   starts, the reads in flight stop at their next call (connection and address waits at once), and the
 *   status rejects with the signal's reason once they have ended (it only reads: nothing is left behind)
 * @returns one entry per described guest, in description order
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { parseRangeDescription, rangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: st
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: st-lan, mode: isolated, subnet: 10.9.1.0/24 }]
 * guests: [{ id: pc, memory: 64, count: 2, nics: [{ network: st-lan }] }]
 * `);
 * await using pools = new PoolRegistry();
 * const status = await rangeStatus(range, pools); // nothing is up: both guests are "absent"
 * console.log(status.guests.map((g) => `${g.name} ${g.state}`)); // ["st-pc-1 absent", "st-pc-2 absent"]
 * ```
 */
export async function rangeStatus(
  given: Range,
  registry: PoolRegistry,
  options: StatusOptions = {},
): Promise<RangeStatus> {
  const range = verifiedRange(given, "status");
  options.signal?.throwIfAborted();
  const t0 = performance.now();
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const results = await settleAll(
    range.guests,
    limit,
    (g): Promise<GuestStatus> => guestStatus(range, registry, options, g),
  );
  options.signal?.throwIfAborted();
  const guests = results.map((r) => (r as PromiseFulfilledResult<GuestStatus>).value);
  return {
    range: range.name,
    generatedAt: new Date().toISOString(),
    guests,
    counts: {
      running: guests.filter((g) => g.state === "running").length,
      present: guests.filter((g) => g.state !== "absent").length,
      described: guests.length,
      withAddress: guests.filter((g) => g.address).length,
    },
    tookMs: Math.round(performance.now() - t0),
  };
}
