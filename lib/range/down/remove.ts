/**
 * `downRange`'s removal phases, in their order: domains (destroyed and undefined), volumes, network
 * filters, networks, pools, and last each host's ownership record; after a failure, the records
 * rewritten to list only what is still there.
 *
 * @module
 */
import { sleep } from "../../_async.ts";
import { destroyDomain, type Domain, lookupDomain, undefineDomain } from "../../domain.ts";
import { isNotFound, isOperationInvalid, LibvirtError } from "../../errors.ts";
import { defineNetwork, lookupNetwork } from "../../network.ts";
import type { Connection } from "../../connection.ts";
import type { ConnectionPool, PoolRegistry } from "../../pool.ts";
import { lookupStoragePool, lookupVolume, type StoragePool, type StorageVolume } from "../../storage.ts";
import { type Lanes, Ledger, type OwnershipRecord, recordNetworkName, settleAll } from "../_libvirt.ts";
import type { Range } from "../description.ts";
import { stepNamesOnce, type Steps } from "../_steps.ts";
import { type Found, listing, type VolumeListing, volumeListing } from "./find.ts";

/** @internal What one down shares across its phases. */
export class Removal {
  readonly found: Found[] = [];
  readonly records = new Map<string, OwnershipRecord>();
  readonly removed: string[] = [];
  readonly kept: string[] = [];
  readonly gone = new Set<Found>();
  readonly #uriOf: Map<string, string>;

  constructor(
    readonly range: Range,
    readonly steps: Steps,
    readonly registry: PoolRegistry,
    readonly lanes: Lanes,
    readonly limit: number,
  ) {
    this.#uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  }

  /** The pool of a host (by id). */
  pool(host: string): ConnectionPool {
    return this.registry.get(this.#uriOf.get(host)!);
  }

  /** What was found of one kind. */
  of(kind: Found["kind"]): Found[] {
    return this.found.filter((f) => f.kind === kind);
  }

  /** Each found thing's step name, made once (notDone, then mark). */
  readonly #step = stepNamesOnce((f: Found) => `remove ${f.label}`);

  /** Counts every found thing and record as not done yet (a failure lists what is left). */
  expect(): void {
    for (const f of this.found) this.steps.notDone.add(this.#step(f));
    for (const host of this.records.keys()) this.steps.notDone.add(`remove ownership record on ${host}`);
  }

  /** `f` was there and is removed. */
  removedNow(f: Found): "removed" {
    this.steps.mark(this.#step(f));
    this.removed.push(f.label);
    this.gone.add(f);
    return "removed";
  }

  /** `f` is no longer there to remove (gone meanwhile, or never made), or is kept on purpose. */
  settled(f: Found): void {
    this.gone.add(f);
    this.steps.mark(this.#step(f));
  }

  /** Runs one removal phase over the found things of `kind`. */
  phase(
    phase: "undefine" | "volume" | "firewall" | "network" | "pool",
    kind: Found["kind"],
    fn: (f: Found) => Promise<"removed" | "kept" | "ok">,
  ): Promise<void> {
    return this.steps.phase(phase, this.of(kind), (f) => ({ target: f.name, host: f.host }), (f) => {
      if (phase === "volume") return fn(f); // it acts itself (not for a base image it keeps)
      let acted;
      try {
        acted = this.steps.act(phase, f.name, f.host);
      } catch (error) {
        return Promise.reject(error); // an aborted signal
      }
      // no test hook: no await of nothing (a microtask turn per step)
      return acted === undefined ? fn(f) : Promise.resolve(acted).then(() => fn(f));
    }, this.limit);
  }
}

const unsupportedFlags = (error: unknown) =>
  error instanceof LibvirtError && /unsupported flags/i.test(error.libvirtMessage);

/**
 * Whether a host's driver takes the NVRAM undefine flag (the test driver refuses it): the first
 * undefine on a host finds out while the others wait for it, so it is asked once per host, not once
 * per domain or lane.
 */
class NvramProbe {
  readonly #taken = new Map<string, Promise<boolean | undefined>>();
  /** What the probe found per host, once it has: the undefines after it need not await it. */
  readonly #known = new Map<string, boolean>();
  static readonly flags = { managedSave: true, snapshotsMetadata: true, states: false } as const;
  static readonly withNvram = { ...NvramProbe.flags, nvram: true } as const;

  undefine(domain: Domain, host: string): Promise<unknown> {
    const known = this.#known.get(host);
    if (known !== undefined) return undefineDomain(domain, known ? NvramProbe.withNvram : NvramProbe.flags);
    return this.#probing(domain, host);
  }

  async #probing(domain: Domain, host: string): Promise<void> {
    const flags = NvramProbe.flags;
    for (;;) {
      const known = this.#taken.get(host);
      if (known) {
        const taken = await known;
        if (taken === undefined) continue; // the probe failed otherwise: probe again
        await undefineDomain(domain, taken ? NvramProbe.withNvram : flags);
        return;
      }
      let settle!: (taken: boolean | undefined) => void;
      this.#taken.set(host, new Promise((resolve) => settle = resolve));
      try {
        await undefineDomain(domain, NvramProbe.withNvram);
        this.#known.set(host, true);
        settle(true);
        return;
      } catch (error) {
        // the test driver knows no NVRAM flag; nothing of it to remove there
        if (!unsupportedFlags(error)) {
          this.#taken.delete(host);
          settle(undefined);
          throw error;
        }
        this.#known.set(host, false);
        settle(false);
      }
      await undefineDomain(domain, flags);
      return;
    }
  }
}

/**
 * @internal After a failed removal: true when the domain is gone by now, or a second removal (on a fresh handle,
 * a moment later) succeeded; false when it is still there and refuses again.
 */
export async function retriedOnce(
  conn: Connection,
  uuid: string, // the listed domain's, proven the range's: a same-named newcomer is not retried
  remove: (domain: Domain) => Promise<void>,
): Promise<boolean> {
  await sleep(500);
  let again: Domain;
  try {
    again = await lookupDomain(conn, uuid, { fresh: true });
  } catch (error) {
    return isNotFound(error);
  }
  try {
    await remove(again);
    return true;
  } catch (error) {
    return isNotFound(error);
  } finally {
    again.free();
  }
}

const DESTROY = { ifNeeded: true, states: false } as const;

/** @internal Phase "undefine": each domain destroyed and undefined, from its lane's listing. */
export function undefineDomains(r: Removal): Promise<void> {
  const nvram = new NvramProbe();
  return r.phase("undefine", "domain", async (f) => {
    await r.lanes.use(r.pool(f.host), async (conn, cached) => {
      const listed = await cached("domains", () => listing(conn));
      let domain = listed.byName.get(f.name);
      let own: Domain | undefined; // looked up here (not in this lane's listing): freed here
      if (!domain) {
        try {
          domain = own = await lookupDomain(conn, f.name);
        } catch (error) {
          if (isNotFound(error)) return; // gone meanwhile
          throw error;
        }
      }
      const remove = async (d: Domain) => {
        // one call each: the results' states are not used (ifNeeded reads the state only when
        // libvirt refused, to tell a shut-off domain from a real refusal)
        await destroyDomain(d, DESTROY);
        await nvram.undefine(d, f.host);
      };
      try {
        await remove(domain);
      } catch (error) {
        if (isNotFound(error)) return; // gone meanwhile (a listed handle outlives its domain)
        // A refusal from a domain that is changing under us (the incoming side of an aborted
        // migration being torn down, a job holding its state lock): gone by now is gone; still
        // there, it gets one more try, and the first error is what a second failure reports.
        if (await retriedOnce(conn, domain.uuid, remove)) return;
        throw error;
      } finally {
        own?.free();
      }
    });
    return r.removedNow(f); // also when gone meanwhile: it was the range's when listed
  });
}

/** @internal Phase "volume": each recorded volume deleted, except base images. */
export function deleteVolumes(r: Removal): Promise<void> {
  const baseImages = new Set((r.range.description.baseImages ?? []).map((b) => b.path));
  // the pools each host's record says the range made, read once: a scan of the record per volume
  // was quadratic (a 1,000-guest record holds 1,000 volume entries)
  const made = new Map<string, Set<string>>();
  const madeHere = (host: string, pool: string): boolean => {
    let pools = made.get(host);
    if (!pools) {
      pools = new Set();
      for (const e of r.records.get(host)?.entries ?? []) {
        if (e.kind === "pool" && e.state === "created") pools.add(e.name);
      }
      made.set(host, pools);
    }
    return pools.has(pool);
  };
  return r.phase("volume", "volume", async (f) => {
    const entry = f.entry!;
    if (
      entry.path !== undefined && baseImages.has(entry.path) && (entry.state === "created" || !entry.made)
    ) {
      // never: a base image is not the range's to delete, whatever a record says (one up uploaded
      // and verified is kept too: other ranges may back onto it). An "intent" one up recorded as
      // made is a half-made upload (lib/range/images.ts), the range's own and of use to no one: it
      // goes; an intent never made is not the range's volume (someone put one there since).
      r.kept.push(`${f.label}: it is a base image of the range (${entry.path})`);
      r.settled(f);
      return "kept";
    }
    await r.steps.act("volume", f.name, f.host);
    const poolName = entry.pool ?? r.range.pool.name;
    const madeByRange = madeHere(f.host, poolName);
    const existed = await r.lanes.use(r.pool(f.host), async (conn, cached) => {
      let listed;
      try {
        // the pool looked up and its volumes listed once per lane, not looked up one by one; one
        // missing from the listing is looked up (it may have come since)
        listed = await cached(`volumes\0${poolName}`, () => poolVolumes(conn, poolName, madeByRange));
      } catch (error) {
        if (isNotFound(error)) return false; // the pool is gone, and its volumes with it
        throw error;
      }
      if ("noDirectory" in listed) return false; // the range's pool lost its directory: no volume is left
      let own: StorageVolume | undefined;
      try {
        const volume = listed.byName.get(f.name) ?? (own = await lookupVolume(listed.pool, f.name));
        await volume.delete();
        return true;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        return false; // an intent the crashed up never carried out, or removed meanwhile
      } finally {
        own?.free();
      }
    });
    if (existed) return r.removedNow(f);
    r.settled(f);
    return "ok";
  });
}

/** What {@link poolVolumes} gives for a pool of the range whose directory is gone. */
const NO_DIRECTORY = { noDirectory: true as const, free(): void {} };

/** A running storage pool and its volumes by name, listed on one lane (freed with the lane). */
interface PoolVolumes extends VolumeListing {
  pool: StoragePool;
}

/**
 * The storage pool to delete a host's range volumes from, running, and its volumes listed. libvirt
 * lists and deletes volumes only in a running pool, so the listing is asked first (no state read per
 * lane); refused as not running, the pool's state decides: one the range made is started (up failed
 * before it ran, or someone stopped it: the pool phase stops and removes it anyway), else the step
 * fails saying how to go on (someone else's pool is not started behind their back). A pool of the
 * range that cannot start because its directory is gone has no volumes left: {@link NO_DIRECTORY}.
 */
async function poolVolumes(
  conn: Connection,
  name: string,
  madeByRange: boolean,
): Promise<PoolVolumes | typeof NO_DIRECTORY> {
  const p = await lookupStoragePool(conn, name);
  try {
    let listed: VolumeListing;
    try {
      listed = await volumeListing(p);
    } catch (error) {
      if (!isOperationInvalid(error)) throw error; // "storage pool is not active" is this code
      if (!await running(p, name, madeByRange)) {
        p.free();
        return NO_DIRECTORY;
      }
      listed = await volumeListing(p);
    }
    return {
      pool: p,
      byName: listed.byName,
      free: () => {
        listed.free();
        p.free();
      },
    };
  } catch (error) {
    p.free();
    throw error;
  }
}

/**
 * Makes sure a pool whose listing was refused runs: true when it runs (by now, or started here), false
 * when it is the range's and cannot start because its directory is gone; throws for a stopped pool
 * the range did not make, or a start that failed otherwise.
 */
async function running(p: StoragePool, name: string, madeByRange: boolean): Promise<boolean> {
  if (await p.isActive()) return true; // started meanwhile (or refused for another reason: asked again)
  if (!madeByRange) {
    throw new Error(
      `storage pool ${JSON.stringify(name)} is not running, and the range's volumes in it cannot be ` +
        `deleted until it is: start it (virsh pool-start ${name}) and run down again`,
    );
  }
  try {
    await p.create();
    return true;
  } catch (error) {
    if (await p.isActive()) return true; // another lane of this down started it meanwhile
    if (!/No such file or directory/.test((error as Error).message)) throw error;
    return false;
  }
}

/** @internal Phase "firewall": the range's network filters (no domain of the range uses them now). */
export function undefineFilters(r: Removal): Promise<void> {
  return r.phase("firewall", "nwfilter", async (f) => {
    const existed = await r.pool(f.host).use(async (conn) => {
      try {
        using filter = await conn.nwFilterLookupByName(f.name);
        await filter.undefine();
        return true;
      } catch (error) {
        if (isNotFound(error)) return false; // an intent up never carried out, or removed meanwhile
        throw error;
      }
    });
    if (existed) return r.removedNow(f);
    r.settled(f);
    return "ok";
  });
}

/** @internal Phase "network": the range's networks stopped (when running) and undefined (when persistent). */
export function removeNetworks(r: Removal): Promise<void> {
  return r.phase("network", "network", async (f) => {
    await r.pool(f.host).use(async (conn) => {
      using network = await lookupNetwork(conn, f.name);
      // two calls, not four: no state read before each (down finds the range's networks running)
      try {
        await network.destroy();
      } catch (error) {
        // refused: fine when the network is not running (defined by a failed up, or stopped), else
        // the error it is
        if (!isOperationInvalid(error) || await network.isActive()) throw error;
      }
      try {
        await network.undefine();
      } catch (error) {
        if (!isNotFound(error)) throw error; // a transient network went with its destroy
      }
    });
    return r.removedNow(f);
  });
}

/** @internal Phase "pool": the recorded pools stopped, their directories removed when up made them. */
export function removePools(r: Removal): Promise<void> {
  return r.phase("pool", "pool", async (f) => {
    const existed = await r.pool(f.host).use(async (conn) => {
      let p;
      try {
        p = await lookupStoragePool(conn, f.name);
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      try {
        if (await p.isActive()) await p.destroy();
        if (f.entry!.built) {
          // up made the directory: it goes too when empty. Hosts sharing a file system (the lab's
          // two hosts) find it already removed by the other; a file someone put there keeps it.
          await p.delete().catch((error: Error) => {
            if (/No such file or directory/.test(error.message)) return;
            if (/not empty|Directory not empty/i.test(error.message)) {
              r.kept.push(`the directory of ${f.label}: it is not empty`);
              return;
            }
            throw error;
          });
        } else {
          r.kept.push(`the directory of ${f.label}: it existed before up`);
        }
        await p.undefine();
        return true;
      } finally {
        p.free();
      }
    });
    if (existed) return r.removedNow(f);
    r.settled(f);
    return "ok";
  });
}

/** @internal Phase "record": last, each host's record itself (everything it listed is gone). */
export function removeRecords(r: Removal): Promise<void> {
  const name = recordNetworkName(r.range.name);
  return r.steps.phase("record", [...r.records.keys()], (h) => ({ target: name, host: h }), async (h) => {
    await r.steps.act("record", name, h);
    await r.pool(h).use(async (conn) => {
      try {
        using network = await lookupNetwork(conn, name);
        await network.undefine();
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    });
    r.records.delete(h);
    r.steps.mark(`remove ownership record on ${h}`);
    return "removed";
  }, r.limit);
}

/**
 * @internal After a failure: each record left lists only what is still there (best effort; the old
 * record stays otherwise, and the next down finds the removed entries gone).
 */
export async function rewriteRecords(r: Removal): Promise<void> {
  await settleAll([...r.records], r.limit, async ([host, record]) => {
    const removedHere = r.found.filter((f) => f.host === host && f.entry && r.gone.has(f));
    if (removedHere.length === 0) return;
    const ledger = new Ledger(r.range.name, host, record);
    for (const f of removedHere) ledger.delete(f.entry!.kind, f.entry!.name, f.entry!.pool);
    await ledger.save((xml) =>
      r.pool(host).use(async (conn) => {
        (await defineNetwork(conn, xml)).free();
      })
    );
  });
}
