/**
 * `upRange`'s storage phases: the storage pool, the base images (lib/range/images.ts) and one qcow2
 * volume per guest.
 *
 * @module
 */
import { isNotFound } from "../../errors.ts";
import { createVolume, defineStoragePool, lookupStoragePool, lookupVolume } from "../../storage.ts";
import { decodeXmlText, escapeXml } from "../../xml.ts";
import { Lanes } from "../_lanes.ts";
import { Ledger, volumeXml } from "../_libvirt.ts";
import { type BaseImageOutcome, provideBaseImages } from "../images.ts";
import type { UpContext } from "./context.ts";
import type { UpRecord } from "./record.ts";

/** @internal The pool phase: the range's storage pool defined, built when needed and started, or kept. */
export async function upPool(c: UpContext, record: UpRecord): Promise<void> {
  const { range, plan, steps, pool, stepName, created, limit } = c;
  const { ledgers, changed, saveChanged, forget } = record;
  // the storage pool
  const poolWork = plan.items.filter((i) => i.kind === "pool");
  try {
    await steps.phase("pool", poolWork, (i) => ({ target: i.name, host: i.host }), async (i) => {
      return await pool(i.host).use(async (conn) => {
        if (i.action === "create") {
          let p;
          try {
            await steps.act("pool", i.name, i.host);
            p = await defineStoragePool(
              conn,
              `<pool type='dir'><name>${escapeXml(i.name)}</name><target><path>${
                escapeXml(range.pool.path!)
              }</path></target></pool>`,
            );
          } catch (error) {
            await forget("pool", i.name, i.host, conn);
            throw error;
          }
          try {
            steps.mark(stepName(i));
            created.push(`pool ${JSON.stringify(i.name)} on ${i.host}`);
            const entry = ledgers.get(i.host)!.get("pool", i.name)!;
            entry.state = "created";
            changed.add(i.host);
            // a directory that exists already (someone's, or shared with another host) is used as it
            // is and never removed by down; one that does not is built, and down removes it
            try {
              await p.create();
              entry.built ??= false;
            } catch (error) {
              try {
                await p.build();
              } catch (buildError) {
                // Another host sharing the storage may have made the directory since our create:
                // libvirt's build checks for it, then mkdirs, and fails ("File exists") when the other
                // daemon's mkdir falls between the two. Then the directory is theirs, used as it is (not
                // built here). Any other build failure may have left a directory of ours: not retried.
                if (!/File exists/.test((buildError as Error).message)) throw error;
                try {
                  await p.create();
                } catch {
                  throw error;
                }
                entry.built ??= false;
                return "created";
              }
              entry.built = true;
              await p.create();
            }
          } finally {
            p.free();
          }
          return "created";
        }
        using p = await lookupStoragePool(conn, i.name);
        if (!(await p.isActive())) await p.create();
        return "kept";
      });
    }, limit);
  } finally {
    await saveChanged();
  }
}

/** @internal The base images phase (lib/range/images.ts). */
export async function upBaseImages(c: UpContext, record: UpRecord): Promise<BaseImageOutcome[]> {
  const { range, surveys, steps, pool, options, created, kept, limit } = c;
  const { ledgers, save } = record;
  // base images: uploaded (and verified) to the hosts whose pools lack them, before the overlays
  // that back onto them (lib/range/images.ts)
  const ledgerOf = (hostId: string) => {
    let ledger = ledgers.get(hostId);
    if (!ledger) ledgers.set(hostId, ledger = new Ledger(range.name, hostId, surveys.get(hostId)?.record));
    return ledger;
  };
  const images = await provideBaseImages({
    range,
    pool,
    ledger: ledgerOf,
    save,
    phase: (...args) => steps.phase(...args),
    act: async (...args) => await steps.act(...args),
    steps,
    limit,
    signal: options.signal,
    options,
    created,
    kept,
  });
  return images;
}

/**
 * @internal How a volume's path is found: a dir pool names a volume's file "<target path>/<volume
 * name>" (libvirt's fs backend): one read of the pool's XML per host then stands in for a path call
 * per volume; other pool types are asked.
 */
function volumePaths(): (
  hostId: string,
  p: { xmlDesc(): Promise<string> },
  volume: { path(): Promise<string> },
  name: string,
) => Promise<string> {
  const dirTargets = new Map<string, Promise<string | undefined>>();
  return async (
    hostId: string,
    p: { xmlDesc(): Promise<string> },
    volume: { path(): Promise<string> },
    name: string,
  ) => {
    let target = dirTargets.get(hostId);
    if (!target) {
      target = p.xmlDesc().then(dirPoolTarget, () => undefined);
      dirTargets.set(hostId, target);
    }
    const dir = await target;
    return dir === undefined || name.includes("/") ? await volume.path() : `${dir}/${name}`;
  };
}

/** @internal The volume phase: one volume per guest; returns each guest's volume path by guest name. */
export async function upVolumes(c: UpContext, record: UpRecord): Promise<Map<string, string>> {
  const { range, steps, pool, planned, stepName, created, limit } = c;
  const { ledgers, changed, saveChanged, forget } = record;
  // volumes: one per guest. Leases are held for the phase (lanes), so the storage pool is looked up
  // once per connection, not once per volume.
  const paths = new Map<string, string>();
  const lanes = new Lanes(limit);
  const volumePath = volumePaths();
  try {
    // not async: the step is the lane's promise, one layer fewer (Steps.phase catches a synchronous throw)
    await steps.phase("volume", range.guests, (g) => ({ target: g.volume, host: g.hostId }), (g) => {
      const item = planned("volume", g.volume, g.hostId)!;
      return lanes.use(pool(g.hostId), async (conn, cached) => {
        const p = await cached("pool", () => lookupStoragePool(conn, range.pool.name));
        if (item.action === "create") {
          let volume;
          try {
            const acted = steps.act("volume", g.volume, g.hostId);
            if (acted !== undefined) await acted; // no test hook: no await of nothing (a microtask turn)
            volume = await createVolume(p, volumeXml(g));
          } catch (error) {
            // not made; or "already exists": someone made it since the plan, and it is theirs
            await forget("volume", g.volume, g.hostId, conn);
            throw error;
          }
          try {
            steps.mark(stepName(item));
            created.push(`volume ${JSON.stringify(g.volume)} on ${g.hostId}`);
            const entry = ledgers.get(g.hostId)!.get("volume", g.volume, range.pool.name)!;
            entry.state = "created";
            changed.add(g.hostId);
            const path = await volumePath(g.hostId, p, volume, g.volume);
            entry.path = path;
            paths.set(g.name, path);
          } finally {
            volume.free();
          }
          return "created";
        }
        try {
          using volume = await lookupVolume(p, g.volume);
          paths.set(g.name, await volume.path());
        } catch (error) {
          if (!isNotFound(error)) throw error;
          throw new Error(
            `volume ${
              JSON.stringify(g.volume)
            } on ${g.hostId} is in the range's ownership record but gone: ` +
              "run down, then up",
            { cause: error },
          );
        }
        return "kept";
      });
    }, limit);
  } finally {
    await lanes.end();
    await saveChanged();
  }
  return paths;
}

/**
 * The target directory of a `dir` storage pool from its XML (absolute, without a trailing slash), or
 * undefined for any other pool type or an unexpected document.
 */
function dirPoolTarget(xml: string): string | undefined {
  const type = /^\s*<pool\s+type=(['"])([^'"]*)\1/.exec(xml)?.[2];
  if (type !== "dir") return undefined;
  const paths = [...xml.matchAll(/<target>\s*<path>([^<]*)<\/path>/g)];
  if (paths.length !== 1) return undefined;
  const path = decodeXmlText(paths[0][1].trim());
  if (!path.startsWith("/") || path.includes("\0")) return undefined;
  return path.length > 1 ? path.replace(/\/+$/, "") : undefined;
}
