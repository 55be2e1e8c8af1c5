/**
 * `upRange`'s ownership record: every pool, volume and nwfilter about to be created written down as an
 * intent on its host first, then confirmed as each is made (docs/range.md).
 *
 * @module
 */
import type { Connection } from "../../connection.ts";
import { defineNetwork } from "../../network.ts";
import { Ledger, recordNetworkName, settleAll } from "../_libvirt.ts";
import type { UpContext } from "./context.ts";

/** @internal The ownership records of one `up` call and how to write them. */
export interface UpRecord {
  ledgers: Map<string, Ledger>;
  /** Hosts whose record changed since it was last written. */
  changed: Set<string>;
  /** Entries this call added as intent (host + key). */
  added: Set<string>;
  save: (hostId: string, held?: Connection) => Promise<void>;
  saveChanged: () => Promise<unknown>;
  forget: (
    kind: "pool" | "volume" | "nwfilter",
    name: string,
    hostId: string,
    held: Connection,
  ) => Promise<void>;
}

/** @internal Writes the intents (phase "record") and returns the records. */
export async function recordIntents(c: UpContext): Promise<UpRecord> {
  const { range, creates, surveys, steps, pool, limit } = c;
  // the ownership record: every pool and volume about to be created is written down first (one
  // define of the record network per host), so that a crash from here on leaves it findable
  const ledgers = new Map<string, Ledger>();
  const changed = new Set<string>(); // hosts whose record changed since it was last written
  const added = new Set<string>(); // entries this call added as intent (host + key)
  for (const i of creates) {
    if (i.kind !== "pool" && i.kind !== "volume" && i.kind !== "nwfilter") continue;
    let ledger = ledgers.get(i.host);
    if (!ledger) {
      ledger = new Ledger(range.name, i.host, surveys.get(i.host)?.record);
      ledgers.set(i.host, ledger);
    }
    const poolName = i.kind === "volume" ? range.pool.name : undefined;
    if (ledger.get(i.kind, i.name, poolName)) continue; // recorded by an earlier up: stays recorded
    ledger.set({ kind: i.kind, name: i.name, state: "intent", ...(poolName ? { pool: poolName } : {}) });
    added.add(`${i.host}\0${i.kind}\0${i.name}`);
    changed.add(i.host);
  }
  // a step that holds a connection (a lane's, or its pool.use's) writes the record through it: a
  // nested pool.use could wait for a connection the phase itself holds
  const save = (hostId: string, held?: Connection) => {
    changed.delete(hostId);
    return ledgers.get(hostId)!.save((xml) => {
      const write = async (conn: Connection) => {
        (await defineNetwork(conn, xml)).free();
      };
      return held ? write(held) : pool(hostId).use(write);
    });
  };
  const saveChanged = () => settleAll([...changed], limit, save);
  const recordName = recordNetworkName(range.name);
  await steps.phase("record", [...changed], (h) => ({ target: recordName, host: h }), async (h) => {
    await steps.act("record", recordName, h);
    await save(h);
    return "ok";
  }, limit);
  /**
   * After a failed create: the name is not ours (it may be someone else's now), unless recorded
   * before. A failure to rewrite the record is added to the operation's errors, never masks the
   * create's own.
   */
  const forget = async (
    kind: "pool" | "volume" | "nwfilter",
    name: string,
    hostId: string,
    held: Connection,
  ) => {
    if (!added.has(`${hostId}\0${kind}\0${name}`)) return;
    ledgers.get(hostId)!.delete(kind, name, kind === "volume" ? range.pool.name : undefined);
    await save(hostId, held).catch((error) => {
      steps.errors.push(
        new Error(`cannot drop ${kind} ${JSON.stringify(name)} from the ownership record on ${hostId}`, {
          cause: error,
        }),
      );
    });
  };
  return { ledgers, changed, added, save, saveChanged, forget };
}
