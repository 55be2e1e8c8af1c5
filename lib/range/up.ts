/**
 * `upRange`: bring a range up, converging on the description. Networks first, then the storage pool,
 * then one qcow2 volume per guest (an overlay of its base image, or an empty data disk so snapshots
 * work), then guests defined and started with bounded concurrency, then their addresses waited for.
 *
 * Idempotent: what exists and carries the range's ownership mark is kept (a shut-off guest is
 * started), so a second `up` creates nothing. A conflict (a network, pool, volume or domain of a
 * planned name that the range did not create, a missing pool) stops it before anything is created.
 * Networks and domains carry the mark in their own metadata, written in the define XML; pools and
 * volumes (which have no metadata) are listed in the range's ownership record on each host, written
 * before each is created and confirmed after (docs/range.md). A failure part-way, even the process
 * dying, leaves the record saying what was made; `downRange` removes exactly that.
 *
 * @example
 * ```ts ignore
 * import { PoolRegistry } from "../pool.ts";
 * import { parseRangeDescription } from "./description.ts";
 * import { upRange } from "./up.ts";
 * await using pools = new PoolRegistry({ max: 8 });
 * const range = parseRangeDescription(await Deno.readTextFile("range.yaml"), "range.yaml");
 * const result = await upRange(range, pools, { onProgress: (e) => console.log(e.phase, e.status, e.target) });
 * console.log(result.created.length, "created in", result.tookMs, "ms");
 * ```
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import { defineDomain, type Domain, interfaceAddresses, lookupDomain, startDomain } from "../domain.ts";
import { normalizeMac } from "../ip/addresses.ts";
import { mergeSightings } from "../ip/merge.ts";
import type { Nic } from "../ip/types.ts";
import { type AddressFound, waitForAddress } from "../ip/wait.ts";
import { defineNetwork, lookupNetwork, startNetwork } from "../network.ts";
import { isNotFound } from "../errors.ts";
import type { PoolRegistry } from "../pool.ts";
import {
  buildStoragePool,
  createVolume,
  defineStoragePool,
  lookupStoragePool,
  lookupVolume,
  startStoragePool,
} from "../storage.ts";
import { decodeXmlText, escapeXml } from "../xml.ts";
import {
  guestXml,
  Lanes,
  Ledger,
  networkXml,
  recordNetworkName,
  settleAll,
  verifiedRange,
  volumeXml,
} from "./_libvirt.ts";
import type { ExpandedGuest, Range } from "./description.ts";
import { type BaseImageOptions, type BaseImageOutcome, provideBaseImages } from "./images.ts";
import { ensureFilterRefs, firewallFilters, firewallRedefinitionXml } from "./firewall.ts";
import { rangeDhcpHosts, syncDhcpHosts } from "./network_live.ts";
import { type RangePlan, surveyAndPlan } from "./plan.ts";
import { applyRangeTasks, type GuestTaskOptions, type GuestTaskReport } from "./tasks.ts";
import type { RangeHooks, RangePhase } from "./types.ts";
import { Steps } from "./_steps.ts";
import { type GuestConsole, type RangeConsoleOptions, RangeConsoles } from "./consoles.ts";

/** Options for {@link upRange}. */
export interface UpOptions extends RangeHooks, GuestTaskOptions, BaseImageOptions {
  /** Run the guests' `tasks` (lib/range/tasks.ts) once they run. Default true. */
  tasks?: boolean;
  /** Wait until every guest has an address. Default true. */
  waitForAddresses?: boolean;
  /** How long to wait for each guest's address, ms. Default 120,000. */
  addressTimeoutMs?: number;
  /**
   * The least discovery confidence that counts as an address. Default 0.5; on libvirt's test driver
   * (`test://`, `test+unix://`), which invents its addresses (often outside the network's subnet, so
   * flagged and demoted), 0: whatever it reports counts, with its flags, since waiting changes nothing.
   */
  minConfidence?: number;
  /**
   * Capture every guest's serial console into `<dir>/<guest>.log` (lib/range/consoles.ts; default
   * on, dir `range-consoles/<range>`); `false`: no capture. A guest without an address then has its
   * console's tail in the timeout's explanation.
   */
  consoles?: RangeConsoleOptions | false;
}

/** `UpOptions.minConfidence` unless given: 0 on the test driver (see there), else 0.5. */
function minConfidenceFor(uri: string, options: UpOptions): number {
  return options.minConfidence ?? (/^test[+:]/i.test(uri) ? 0 : 0.5);
}

/** A guest's address as `up` or `reset` found it. */
export interface GuestAddress {
  /** The guest's domain name. */
  name: string;
  /** The id of the host it runs on. */
  host: string;
  /** The best IPv4 address found. */
  address: string;
  /** The MAC of the NIC that has it. */
  mac: string;
  /** The discovery confidence of the address, 0..1. */
  confidence: number;
  /** The discovery sources that saw it, e.g. "lease", "agent". */
  sources: string[];
  /** Discovery's flags on it, e.g. "outside-subnet", "same-origin" (see DiscoveredAddress). */
  flags?: string[];
  /** How long waiting for the address took, ms. */
  waitedMs: number;
}

/** What {@link upRange} did. */
export interface UpResult {
  /** The range's name. */
  range: string;
  /** The plan `up` carried out. */
  plan: RangePlan;
  /** Steps taken, e.g. `created network "demo-lan" on local`. */
  created: string[];
  /** Things that existed already. */
  kept: string[];
  /** Guests started by this call. */
  started: string[];
  /** The guests' addresses (empty with `waitForAddresses: false`). */
  addresses: GuestAddress[];
  /** Each base image on each host that runs guests of it: present, uploaded, replaced, unchecked. */
  images: BaseImageOutcome[];
  /** Time per phase, ms. */
  timingsMs: Partial<Record<RangePhase, number>>;
  /** Time of the whole operation, ms. */
  tookMs: number;
  /** Each guest's console capture: its log, or why it was skipped (empty with `consoles: false`). */
  consoles: GuestConsole[];
  /** The running captures, with `consoles.keepOpen`: yours to close. */
  consoleCapture?: RangeConsoles;
  /** Per guest and task: done, kept or skipped (with the reason), exit code and output. */
  tasks: GuestTaskReport[];
}

/**
 * Brings the range up on its hosts, converging on the description.
 *
 * @param given the validated range; re-checked first, and a private copy is used from then on
 * @param registry pools to the hosts (one per URI; their `max` bounds the calls in flight per host)
 * @param options concurrency, address waiting, progress and test hooks
 * @returns what was created, kept and started, the guests' addresses, and the time per phase
 * @throws {RangeDescriptionError} when the Range is invalid or was changed after validation (nothing
 *   is created)
 * @throws {RangeOperationError} on a conflict (nothing created) or a failure part-way (with `done` and
 *   `notDone`)
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { downRange, parseRangeDescription, upRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: up
 * hosts: [{ id: local, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * networks: [{ name: up-lan, mode: isolated, subnet: 10.9.2.0/24, dhcp: { start: 10.9.2.100, end: 10.9.2.200 } }]
 * guests: [{ id: pc, memory: 64, count: 2, nics: [{ network: up-lan }] }]
 * `, "up.yaml");
 * await using pools = new PoolRegistry({ max: 4 });
 * const hold = await pools.get("test:///default").acquire(); // test:///default lives while a connection does
 * const result = await upRange(range, pools, { signal: AbortSignal.timeout(60_000) });
 * for (const a of result.addresses) console.log(a.name, a.address, a.confidence);
 * await downRange(range, pools);
 * hold.release();
 * ```
 */
export async function upRange(
  given: Range,
  registry: PoolRegistry,
  options: UpOptions = {},
): Promise<UpResult> {
  const range = verifiedRange(given, "up");
  const consoles = options.consoles === false ? undefined : new RangeConsoles(range, options.consoles);
  const keepOpen = options.consoles !== false && options.consoles?.keepOpen === true;
  try {
    const result = await bringUp(range, registry, options, consoles);
    if (!keepOpen) await consoles?.close();
    return {
      ...result,
      consoles: consoles?.summary() ?? [],
      ...(keepOpen ? { consoleCapture: consoles } : {}),
    };
  } catch (error) {
    await consoles?.close();
    throw error;
  }
}

async function bringUp(
  range: Range,
  registry: PoolRegistry,
  options: UpOptions,
  consoles: RangeConsoles | undefined,
): Promise<Omit<UpResult, "consoles" | "consoleCapture">> {
  const steps = new Steps("up", range.name, options);
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const pool = (hostId: string) => registry.get(uriOf.get(hostId)!);

  const tPlan = performance.now();
  steps.report({ phase: "plan", status: "start", done: 0, total: 1 });
  const { plan, surveys } = await surveyAndPlan(range, registry);
  steps.timings.plan = Math.round(performance.now() - tPlan);
  steps.report({ phase: "plan", status: "end", done: 1, total: 1 });
  const creates = plan.items.filter((i) => i.action === "create");
  const stepName = (i: { kind: string; name: string; host: string }) =>
    `create ${i.kind} ${JSON.stringify(i.name)} on ${i.host}`;
  for (const i of creates) steps.notDone.add(stepName(i));
  // by kind, host and name: one map, not a scan of the plan per guest (1,000 guests: 2,000 items)
  const byKey = new Map(plan.items.map((i) => [`${i.kind}\0${i.host}\0${i.name}`, i]));
  const planned = (kind: string, name: string, host: string) => byKey.get(`${kind}\0${host}\0${name}`);
  for (const g of range.guests) steps.notDone.add(`start domain ${JSON.stringify(g.name)} on ${g.hostId}`);
  const conflicts = plan.items.filter((i) => i.action === "conflict");
  if (conflicts.length > 0) {
    for (const c of conflicts) {
      steps.errors.push(new Error(`${c.kind} ${JSON.stringify(c.name)} on ${c.host}: ${c.reason}`));
    }
    throw steps.failure();
  }
  const created: string[] = [];
  const kept = plan.items.filter((i) => i.action === "keep").map((i) =>
    `${i.kind} ${JSON.stringify(i.name)} on ${i.host}`
  );
  const started: string[] = [];

  // networks (per host, in description order)
  const networkWork = plan.items.filter((i) =>
    i.kind === "network" && !(range.description.networks ?? []).find((n) => n.name === i.name)?.external
  );
  await steps.phase("network", networkWork, (i) => ({ target: i.name, host: i.host }), async (i) => {
    const spec = range.description.networks!.find((n) => n.name === i.name)!;
    return await pool(i.host).use(async (conn) => {
      if (i.action === "create") {
        await steps.act("network", i.name, i.host);
        using network = await defineNetwork(conn, networkXml(range, spec, i.host));
        steps.mark(stepName(i));
        created.push(`network ${JSON.stringify(i.name)} on ${i.host}`);
        await startNetwork(network);
        return "created";
      }
      using network = await lookupNetwork(conn, i.name);
      // a guest (or reservation) added to the description: its DHCP entry goes into the network
      // that exists, live, without restarting it (lib/range/network_live.ts)
      if (spec.dhcp) {
        const sync = await syncDhcpHosts(network, rangeDhcpHosts(range, spec, i.host));
        for (const h of sync.added) {
          created.push(`dhcp host ${h.mac} ${h.ip} on network ${JSON.stringify(i.name)} on ${i.host}`);
        }
      }
      if (!(await network.isActive())) await startNetwork(network);
      return "kept";
    });
  }, limit);

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
              await startStoragePool(p);
              entry.built ??= false;
            } catch (error) {
              try {
                await buildStoragePool(p);
              } catch {
                throw error;
              }
              entry.built = true;
              await startStoragePool(p);
            }
          } finally {
            p.free();
          }
          return "created";
        }
        using p = await lookupStoragePool(conn, i.name);
        if (!(await p.isActive())) await startStoragePool(p);
        return "kept";
      });
    }, limit);
  } finally {
    await saveChanged();
  }

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
    act: (...args) => steps.act(...args),
    steps,
    limit,
    signal: options.signal,
    options,
    created,
    kept,
  });

  // volumes: one per guest. Leases are held for the phase (lanes), so the storage pool is looked up
  // once per connection, not once per volume.
  const paths = new Map<string, string>();
  const lanes = new Lanes(limit);
  // a dir pool names a volume's file "<target path>/<volume name>" (libvirt's fs backend): one read of
  // the pool's XML per host then stands in for a path call per volume; other pool types are asked
  const dirTargets = new Map<string, Promise<string | undefined>>();
  const volumePath = async (
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
  try {
    await steps.phase("volume", range.guests, (g) => ({ target: g.volume, host: g.hostId }), async (g) => {
      const item = planned("volume", g.volume, g.hostId)!;
      return await lanes.use(pool(g.hostId), async (conn, cached) => {
        const p = await cached("pool", () => lookupStoragePool(conn, range.pool.name));
        if (item.action === "create") {
          let volume;
          try {
            await steps.act("volume", g.volume, g.hostId);
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

  // firewall filters (lib/range/firewall.ts), before the domains whose NICs reference them; a kept one
  // is defined again, so that a changed rule reaches the running guests (libvirt re-applies it)
  const filterWork = plan.items.filter((i) => i.kind === "nwfilter");
  try {
    await steps.phase("firewall", filterWork, (i) => ({ target: i.name, host: i.host }), async (i) => {
      // none: its guest kind lost its last rule, and the filter is emptied (plan.ts)
      const filter = firewallFilters(range, i.host).find((f) => f.name === i.name) ??
        { name: i.name, guestId: "", xml: `<filter name='${escapeXml(i.name)}' chain='root'></filter>` };
      return await pool(i.host).use(async (conn) => {
        await steps.act("firewall", i.name, i.host);
        try {
          const xml = i.action === "create" ? filter.xml : await firewallRedefinitionXml(conn, filter);
          (await conn.nwFilterDefineXml(xml)).free();
        } catch (error) {
          if (i.action === "create") await forget("nwfilter", i.name, i.host, conn);
          throw error;
        }
        if (i.action !== "create") return "kept";
        steps.mark(stepName(i));
        created.push(`nwfilter ${JSON.stringify(i.name)} on ${i.host}`);
        ledgers.get(i.host)!.get("nwfilter", i.name)!.state = "created";
        changed.add(i.host);
        return "created";
      });
    }, limit);
  } finally {
    await saveChanged();
  }

  // domains: define (unless kept) and start (unless running)
  const wantAddresses = options.waitForAddresses !== false;
  const firstLook = new Map<string, GuestAddress>();
  // each network's subnet, so that the first look flags an address outside it as discovery does
  const subnets = new Map((range.description.networks ?? []).map((n) => [n.name, n.subnet]));
  await steps.phase("domain", range.guests, (g) => ({ target: g.name, host: g.hostId }), async (g) => {
    const item = planned("domain", g.name, g.hostId)!;
    const startStep = `start domain ${JSON.stringify(g.name)} on ${g.hostId}`;
    return await pool(g.hostId).use(async (conn) => {
      let status: "created" | "kept" = "kept";
      let domain;
      if (item.action === "create") {
        await steps.act("domain", g.name, g.hostId);
        domain = await defineDomain(conn, guestXml(range, g, paths.get(g.name)!));
        steps.mark(stepName(item));
        created.push(`domain ${JSON.stringify(g.name)} on ${g.hostId}`);
        status = "created";
      } else {
        domain = await lookupDomain(conn, g.name);
      }
      try {
        await steps.act("domain", `start ${g.name}`, g.hostId);
        // one call: the result's states are not used (libvirt refuses a wrong state itself; ifNeeded
        // reads the state only then)
        const result = consoles
          ? await consoles.start(domain, g) // started paused, console attached, resumed
          : await startDomain(domain, { ifNeeded: true, states: false });
        if (result.changed) started.push(g.name);
        steps.mark(startStep);
        // a kept guest of a kind a rule now protects: its NICs get the filter reference, live
        if (status === "kept") {
          for (const mac of await ensureFilterRefs(range, g.guestId, domain)) {
            created.push(`filter reference on NIC ${mac} of domain ${JSON.stringify(g.name)} on ${g.hostId}`);
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

  const addresses = wantAddresses
    ? await waitForGuests(range, registry, steps, options, firstLook, consoles)
    : [];
  const tasks = options.tasks === false ? [] : await applyRangeTasks(range, registry, steps, options);
  return {
    range: range.name,
    plan,
    created,
    kept,
    started,
    addresses,
    images,
    timingsMs: steps.timings,
    tookMs: Math.round(performance.now() - steps.started),
    tasks,
  };
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
  const nics: Nic[] = guest.nics.map((n) => ({
    mac: normalizeMac(n.mac) ?? n.mac,
    type: "network",
    network: n.network,
    ...(subnets.has(n.network) ? { subnets: [subnets.get(n.network)!] } : {}),
  }));
  const interfaces = await interfaceAddresses(domain, "lease");
  const sightings = interfaces.flatMap((iface) =>
    iface.addresses.map((a) => ({
      source: "lease" as const,
      mac: normalizeMac(iface.mac),
      interfaceName: iface.name,
      address: a.address,
      family: a.family,
      prefix: a.prefix,
    }))
  );
  const tookMs = performance.now() - t0;
  const merged = mergeSightings(nics, [{ source: "lease", status: "ok", tookMs, sightings }], {
    family: "ipv4",
  });
  const min = minConfidenceFor(guest.uri, options);
  const best = merged.nics
    .flatMap((n) => n.addresses.map((a) => ({ ...a, mac: n.nic.mac })))
    .filter((a) => a.family === "ipv4" && a.confidence >= min)
    .sort((a, b) => b.confidence - a.confidence)[0];
  if (!best) return undefined;
  return {
    name: guest.name,
    host: guest.hostId,
    address: best.address,
    mac: best.mac,
    confidence: best.confidence,
    sources: best.sources,
    flags: best.flags,
    waitedMs: 0,
  };
}

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
): Promise<GuestAddress[]> {
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const addresses: GuestAddress[] = [];
  for (const g of range.guests) steps.notDone.add(`address of ${JSON.stringify(g.name)}`);
  await steps.phase(
    "address",
    range.guests,
    (g: ExpandedGuest) => ({ target: g.name, host: g.hostId }),
    async (g) => {
      await steps.act("address", g.name, g.hostId);
      const early = known.get(g.name);
      if (early) {
        addresses.push(early);
        steps.mark(`address of ${JSON.stringify(g.name)}`);
        return "ok";
      }
      const found: AddressFound = await registry.get(uriOf.get(g.hostId)!).use(async (conn) => {
        using domain = await lookupDomain(conn, g.name);
        return await waitForAddress(domain, {
          timeoutMs: options.addressTimeoutMs ?? 120_000,
          minConfidence: minConfidenceFor(g.uri, options),
          family: "ipv4",
          ...(options.signal ? { signal: options.signal } : {}),
          ...(consoles ? { console: { tail: () => consoles.tail(g.name) } } : {}),
        });
      }, { idempotent: true });
      addresses.push({
        name: g.name,
        host: g.hostId,
        address: found.address.address,
        mac: found.address.mac,
        confidence: found.address.confidence,
        sources: found.address.sources,
        flags: found.address.flags,
        waitedMs: found.waitedMs,
      });
      steps.mark(`address of ${JSON.stringify(g.name)}`);
      return "ok";
    },
    limit,
  );
  const order = new Map(range.guests.map((g, i) => [g.name, i]));
  return addresses.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
}
