/**
 * `upRange`'s address phase (also `resetRange`'s): every guest's address waited for.
 *
 * @module
 */
import { lookupDomain } from "../../domain.ts";
import { type AddressFound, waitForAddress } from "../../ip/wait.ts";
import type { PoolRegistry } from "../../pool.ts";
import type { ExpandedGuest, Range } from "../description.ts";
import type { Steps } from "../_steps.ts";
import { type GuestAddress, minConfidenceFor, type UpOptions } from "./types.ts";

/**
 * @internal Waits for every guest's address (phase "address"); `known` holds addresses already found
 * (a first lease look after start), which need no call.
 */
export async function waitForGuests(
  range: Range,
  registry: PoolRegistry,
  steps: Steps,
  options: UpOptions,
  known: ReadonlyMap<string, GuestAddress> = new Map(),
  consoles?: { tail(guest: string): string },
  movedTo: ReadonlyMap<string, string> = new Map(),
): Promise<GuestAddress[]> {
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const hostOf = new Map(range.description.hosts.map((h) => [h.uri, h.id]));
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const addresses: GuestAddress[] = [];
  // each guest's step name made once (notDone, then mark)
  const stepOf = new Map<ExpandedGuest, string>();
  for (const g of range.guests) {
    const step = `address of ${JSON.stringify(g.name)}`;
    stepOf.set(g, step);
    steps.notDone.add(step);
  }
  await steps.phase(
    "address",
    range.guests,
    (g: ExpandedGuest) => ({ target: g.name, host: g.hostId }),
    async (g) => {
      const acted = steps.act("address", g.name, g.hostId);
      if (acted !== undefined) await acted; // no test hook: no await of nothing (a microtask turn)
      const early = known.get(g.name);
      if (early) {
        addresses.push(early);
        steps.mark(stepOf.get(g)!);
        return "ok";
      }
      const uri = movedTo.get(g.name) ?? uriOf.get(g.hostId)!; // a migrated guest is asked where it runs
      const found: AddressFound = await registry.get(uri).use(async (conn) => {
        using domain = await lookupDomain(conn, g.name);
        return await waitForAddress(domain, {
          timeoutMs: options.addressTimeoutMs ?? 120_000,
          minConfidence: minConfidenceFor(uri, options),
          family: "ipv4",
          ...(options.signal ? { signal: options.signal } : {}),
          ...(consoles ? { console: { tail: () => consoles.tail(g.name) } } : {}),
        });
      }, { idempotent: true });
      addresses.push({
        name: g.name,
        host: hostOf.get(uri) ?? g.hostId,
        address: found.address.address,
        mac: found.address.mac,
        confidence: found.address.confidence,
        sources: found.address.sources,
        flags: found.address.flags,
        waitedMs: found.waitedMs,
      });
      steps.mark(stepOf.get(g)!);
      return "ok";
    },
    limit,
  );
  const order = new Map(range.guests.map((g, i) => [g.name, i]));
  return addresses.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
}
