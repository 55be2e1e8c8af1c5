/**
 * `upRange`'s domain phase: each guest defined (unless kept) and started (unless running), with a first
 * look at its lease.
 *
 * @module
 */
import { defineDomain, type Domain, lookupDomain, startDomain } from "../../domain.ts";
import { normalizeMac } from "../../ip/addresses.ts";
import { type MergeOptions, mergeSightings, mergeSingleLease } from "../../ip/merge.ts";
import type { DiscoveredAddress, Nic, SourceReport } from "../../ip/types.ts";
import { leaseSightings } from "../../ip/sources/lease.ts";
import { guestXml, rangeDomainUuid } from "../_libvirt.ts";
import { Lanes } from "../_lanes.ts";
import type { ExpandedGuest } from "../description.ts";
import { ensureFilterRefs } from "../firewall.ts";
import type { UpContext } from "./context.ts";
import { type GuestAddress, minConfidenceFor, type UpOptions } from "./types.ts";
import type { UpRecord } from "./record.ts";

/**
 * @internal The domain phase; `paths` holds each guest's volume path. Returns the addresses a first
 * lease look found (none with `waitForAddresses: false`).
 */
export async function upDomains(
  c: UpContext,
  record: UpRecord,
  paths: Map<string, string>,
): Promise<Map<string, GuestAddress>> {
  const { range, options, consoles, steps, pool, planned, stepName, startStep, created, started, limit } = c;
  const wantAddresses = options.waitForAddresses !== false;
  const firstLook = new Map<string, GuestAddress>();
  // each network's subnet, so that the first look flags an address outside it as discovery does
  const subnets = new Map((range.description.networks ?? []).map((n) => [n.name, n.subnet]));
  // leases held for the phase (lanes), not taken and returned per guest: a guest's three calls run on
  // one connection either way, and the pool's bookkeeping per lease is then paid per lane
  const lanes = new Lanes(limit);
  try {
    // not async: the step is the lane's promise, one layer fewer (Steps.phase catches a synchronous throw)
    await steps.phase("domain", range.guests, (g) => ({ target: g.name, host: g.hostId }), (g) => {
      const item = planned("domain", g.name, g.hostId)!;
      return lanes.use(pool(g.hostId), async (conn) => {
        let status: "created" | "kept" = "kept";
        let domain;
        if (item.action === "create") {
          const acted = steps.act("domain", g.name, g.hostId);
          if (acted !== undefined) await acted; // no test hook: no await of nothing (a microtask turn)
          // its UUID derived from the host's ownership record: down proves ownership from a listing
          const recordUuid = (record.ledgers.get(g.hostId)?.record ?? c.surveys.get(g.hostId)?.record)?.uuid;
          const uuid = recordUuid ? rangeDomainUuid(recordUuid, g.name) : undefined;
          domain = await defineDomain(conn, guestXml(range, g, paths.get(g.name)!, uuid));
          steps.mark(stepName(item));
          created.push(`domain ${JSON.stringify(g.name)} on ${g.hostId}`);
          status = "created";
        } else {
          domain = await lookupDomain(conn, g.name);
        }
        try {
          const acted = steps.act("domain", `start ${g.name}`, g.hostId);
          if (acted !== undefined) await acted;
          // one call: the result's states are not used (libvirt refuses a wrong state itself; ifNeeded
          // reads the state only then)
          const result = consoles
            ? await consoles.start(domain, g) // started paused, console attached, resumed
            : await startDomain(domain, { ifNeeded: true, states: false });
          if (result.changed) started.push(g.name);
          steps.mark(startStep(g));
          // a kept guest of a kind a rule now protects: its NICs get the filter reference, live
          if (status === "kept") {
            for (const mac of await ensureFilterRefs(range, g.guestId, domain)) {
              created.push(
                `filter reference on NIC ${mac} of domain ${JSON.stringify(g.name)} on ${g.hostId}`,
              );
            }
          }
          // a first look at the lease while the handle is here: on a driver that answers at once (the
          // test driver, a guest that kept its lease) the address phase then needs no call for it
          if (wantAddresses) {
            const early = await leaseFirstLook(domain, g, options, subnets).catch(() => undefined);
            if (early) firstLook.set(g.name, early);
          }
        } finally {
          domain.free();
        }
        return status;
      });
    }, limit);
  } finally {
    await lanes.end();
  }
  return firstLook;
}

/**
 * One lease read (virDomainInterfaceAddresses, lease source) for a guest just started: its address
 * when the lease names one of the guest's NICs and qualifies by the same merge rules and confidence
 * as discovery's, else undefined (the address phase then waits with every source).
 */
async function leaseFirstLook(
  domain: Domain,
  guest: ExpandedGuest,
  options: UpOptions,
  subnets: ReadonlyMap<string, string>,
): Promise<GuestAddress | undefined> {
  const t0 = performance.now();
  // loops, not map/flatMap/spread: this runs once per guest on the main thread (h11-up2's profile)
  const nics: Nic[] = [];
  for (const n of guest.nics) {
    const nic: Nic = { mac: normalizeMac(n.mac) ?? n.mac, type: "network", network: n.network };
    const subnet = subnets.get(n.network);
    if (subnet !== undefined) nic.subnets = [subnet];
    nics.push(nic);
  }
  const sightings = leaseSightings(await domain.interfaceAddresses("lease"));
  const reports: SourceReport[] = [{
    source: "lease",
    status: "ok",
    tookMs: performance.now() - t0,
    sightings,
  }];
  // the common answer (one lease address on a NIC, in its subnet) without the full merge: the same
  // result (tests/ip_merge_single_lease_test.ts), else the full merge
  const merged = mergeSingleLease(nics, reports, FIRST_LOOK) ?? mergeSightings(nics, reports, FIRST_LOOK);
  const min = minConfidenceFor(guest.uri, options);
  // the first of the highest confidence, NICs in order, each NIC's best first
  let best: DiscoveredAddress | undefined;
  let mac = "";
  for (const n of merged.nics) {
    for (const a of n.addresses) {
      if (a.family !== "ipv4" || a.confidence < min) continue;
      if (best === undefined || a.confidence > best.confidence) {
        best = a;
        mac = n.nic.mac;
      }
    }
  }
  if (best === undefined) return undefined;
  return {
    name: guest.name,
    host: guest.hostId,
    address: best.address,
    mac,
    confidence: best.confidence,
    sources: best.sources,
    flags: best.flags,
    waitedMs: 0,
  };
}

/** The first look's merge options: up wants an IPv4 address. */
const FIRST_LOOK: MergeOptions = { family: "ipv4" };
