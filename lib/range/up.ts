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
 * The phases live in lib/range/up/ (one module each; up/context.ts is what they share).
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
import type { PoolRegistry } from "../pool.ts";
import { verifiedRange } from "./_libvirt.ts";
import type { ExpandedGuest, Range } from "./description.ts";
import { surveyAndPlan } from "./plan.ts";
import { applyRangeTasks } from "./tasks.ts";
import { stepNamesOnce, Steps } from "./_steps.ts";
import { RangeConsoles } from "./consoles.ts";
import type { UpContext } from "./up/context.ts";
import { upDomains } from "./up/domains.ts";
import { upFirewall } from "./up/firewall.ts";
import { upNetworks } from "./up/networks.ts";
import { recordIntents } from "./up/record.ts";
import { upBaseImages, upPool, upVolumes } from "./up/storage.ts";
import type { UpOptions, UpResult } from "./up/types.ts";
import { waitForGuests } from "./up/wait.ts";

export type { GuestAddress, UpOptions, UpResult } from "./up/types.ts";
export { waitForGuests } from "./up/wait.ts";

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

/**
 * The plan and what every phase shares: surveys the hosts, plans, and stops at a conflict before
 * anything is created.
 */
async function startUp(
  range: Range,
  registry: PoolRegistry,
  options: UpOptions,
  consoles: RangeConsoles | undefined,
): Promise<UpContext> {
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
  // each step name made once (here, for notDone) and reused when the phase marks it done
  const stepName = stepNamesOnce((i: { kind: string; name: string; host: string }) =>
    `create ${i.kind} ${JSON.stringify(i.name)} on ${i.host}`
  );
  for (const i of creates) steps.notDone.add(stepName(i));
  // by kind, host and name: one map, not a scan of the plan per guest (1,000 guests: 2,000 items)
  const byKey = new Map(plan.items.map((i) => [`${i.kind}\0${i.host}\0${i.name}`, i]));
  const planned = (kind: string, name: string, host: string) => byKey.get(`${kind}\0${host}\0${name}`);
  const startStep = stepNamesOnce((g: ExpandedGuest) =>
    `start domain ${JSON.stringify(g.name)} on ${g.hostId}`
  );
  for (const g of range.guests) steps.notDone.add(startStep(g));
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
  const c: UpContext = {
    range,
    registry,
    options,
    consoles,
    steps,
    limit,
    pool,
    plan,
    surveys,
    creates,
    planned,
    stepName,
    startStep,
    created,
    kept,
    started,
  };
  return c;
}

async function bringUp(
  range: Range,
  registry: PoolRegistry,
  options: UpOptions,
  consoles: RangeConsoles | undefined,
): Promise<Omit<UpResult, "consoles" | "consoleCapture">> {
  const c = await startUp(range, registry, options, consoles);
  const { steps, plan, created, kept, started } = c;

  await upNetworks(c);
  const record = await recordIntents(c);
  await upPool(c, record);
  const images = await upBaseImages(c, record);
  const paths = await upVolumes(c, record);
  await upFirewall(c, record);
  const firstLook = await upDomains(c, record, paths);

  const wantAddresses = options.waitForAddresses !== false;
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
