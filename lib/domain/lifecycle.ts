/**
 * The operations that move a domain between states (start, destroy, reboot, reset, suspend, resume,
 * managed save and restore, undefine; shutdown with its waits is in ./shutdown.ts), orchestrated over
 * the domain's one-call methods (`createWithFlags`, `destroyFlags`, ...). Results, refusals and the
 * `ifNeeded` no-ops: lib/domain.ts's module doc. Each function's example runs on `test:///default`.
 *
 * @module
 */
import { asOperation, kPointer } from "../_handle.ts";
import { NotFoundError, OperationInvalidError } from "../errors.ts";
import { attribute_, invalid } from "./attribution.ts";
import {
  cacheUuid,
  type Domain,
  type DomainStateInfo,
  type DomainStateName,
  invalidateDomain,
} from "../objects/domain.ts";
import { domainFlagsCall } from "../objects/domain_call.ts";

export { attribute_, invalid };

// Lifecycle.

/** What a lifecycle operation did. */
export interface LifecycleResult {
  /** The state read just before acting. */
  before: DomainStateName;
  /** The state read just after ("shutoff" when the domain no longer exists: see `gone`). */
  after: DomainStateName;
  /** The reason for the state after, e.g. "booted", "destroyed", "saved" ({@link domainStateReason}). */
  afterReason: string;
  /** Wall time of the whole operation (state reads included), ms. */
  tookMs: number;
  /** False when `ifNeeded` found nothing to do. */
  changed: boolean;
  /** True when the domain no longer exists afterwards (a transient domain that stopped, or an undefine). */
  gone?: boolean;
  /**
   * True with `states: false`: nothing was read, `before`/`after`/`afterReason` are what the call's
   * success implies ("nostate"/"unknown" where it implies nothing), and `gone` is not reported.
   */
  inferred?: true;
}

/** Options every lifecycle operation takes. */
export interface LifecycleOptions {
  /**
   * When the domain is already where the operation would take it (start: running; shutdown/destroy:
   * shut off; suspend: paused; resume: running), resolve with `changed: false` instead of throwing
   * {@link OperationInvalidError}.
   */
  ifNeeded?: boolean;
  /**
   * Read the state before and after the call (default true): two more round trips, for exact
   * `before`/`after`/`afterReason`/`gone` and refusals worded before libvirt is asked. `false` makes
   * the operation one call, like libvirt-python's: the result is inferred from its success
   * (`inferred: true`), libvirt itself refuses invalid transitions (still an
   * {@link OperationInvalidError}), and `ifNeeded` reads the state only when libvirt refused.
   */
  states?: boolean;
}

/** Options for {@link startDomain}. */
export interface StartOptions extends LifecycleOptions {
  /** Start with its vCPUs paused (`VIR_DOMAIN_START_PAUSED`). */
  paused?: boolean;
  /** Destroy it when the starting connection closes (`VIR_DOMAIN_START_AUTODESTROY`). */
  autodestroy?: boolean;
  /** Bypass the host's file cache when restoring a managed save (`VIR_DOMAIN_START_BYPASS_CACHE`). */
  bypassCache?: boolean;
  /** Boot afresh, discarding a managed save image (`VIR_DOMAIN_START_FORCE_BOOT`). */
  forceBoot?: boolean;
}

/** Options for {@link undefineDomain} (`VIR_DOMAIN_UNDEFINE_*`). */
export interface UndefineOptions {
  /** Also remove a managed save image (otherwise libvirt refuses while one exists). */
  managedSave?: boolean;
  /** Also remove snapshot metadata (otherwise libvirt refuses while snapshots exist). */
  snapshotsMetadata?: boolean;
  /** Also remove checkpoint metadata. */
  checkpointsMetadata?: boolean;
  /** Remove the UEFI NVRAM file (true), keep it (false), or let libvirt refuse when one exists (unset). */
  nvram?: boolean;
  /** As {@link LifecycleOptions.states}: `false` undefines in one call (before/after "nostate"). */
  states?: boolean;
}

/** Options for {@link destroyDomain}. */
export interface DestroyOptions extends LifecycleOptions {
  /** Only SIGTERM the hypervisor process, never SIGKILL (`VIR_DOMAIN_DESTROY_GRACEFUL`). */
  graceful?: boolean;
}

/** Options for {@link rebootDomain}. */
export interface RebootOptions {
  /** "acpi" (power button), "agent" (qemu-guest-agent), "default" (the hypervisor's choice). */
  mode?: "acpi" | "agent" | "default";
}

/** Options for {@link managedSaveDomain} (`VIR_DOMAIN_SAVE_*`). */
export interface ManagedSaveOptions {
  /** Bypass the host's file cache while writing (`VIR_DOMAIN_SAVE_BYPASS_CACHE`). */
  bypassCache?: boolean;
  /** The state to restore into: "running" or "paused"; default: the state at save time. */
  restoreAs?: "running" | "paused";
}

/** @internal */
export const modeFlags = { default: 0, acpi: 1, agent: 2 } as const;
/** @internal */
export const active = new Set<DomainStateName>(["running", "blocked", "paused", "shutdown", "pmsuspended"]);
const runningStates = new Set<DomainStateName>(["running", "blocked"]);

/** @internal */
export function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

/** @internal */
export async function readState(domain: Domain, verb: string): Promise<DomainStateInfo> {
  try {
    return await domain.state();
  } catch (error) {
    throw attribute_(error, domain, verb);
  }
}

/** @internal The state after an operation; a domain that vanished (transient, stopped) reads as shut off and gone. */
export async function readAfter(
  domain: Domain,
  verb: string,
): Promise<{ info: DomainStateInfo; gone: boolean }> {
  try {
    return { info: await domain.state(), gone: false };
  } catch (error) {
    if (error instanceof NotFoundError) {
      invalidateDomain(domain);
      return { info: { state: "shutoff", reason: 0, reasonName: "unknown" }, gone: true };
    }
    throw attribute_(error, domain, verb);
  }
}

interface Plan {
  verb: string;
  /** undefined when the operation is valid in this state, else libvirt's wording of why not. */
  refuse: (state: DomainStateName) => string | undefined;
  /** True when `ifNeeded` makes this state a no-op. */
  noop?: (state: DomainStateName) => boolean;
  /** The one call (a method of the domain, or {@link domainFlagsCall}). */
  run: () => Promise<unknown>;
  /** What success implies, for `states: false` (absent: "nostate"/"unknown"). */
  implies?: { before?: DomainStateName; after?: DomainStateName; reason?: string };
  /** True when success may make a transient domain vanish (its cached handle is dropped then). */
  mayVanish?: boolean;
  /** Runs once the call succeeded (before the state read after it, if any). */
  done?: () => void;
}

function lifecycle(domain: Domain, plan: Plan, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  const ifNeeded = options.ifNeeded ?? false;
  return options.states === false
    ? leanLifecycle(domain, plan, ifNeeded)
    : readLifecycle(domain, plan, ifNeeded);
}

/** A lifecycle operation between two state reads (the default). */
async function readLifecycle(domain: Domain, plan: Plan, ifNeeded: boolean): Promise<LifecycleResult> {
  const t0 = performance.now();
  const before = await readState(domain, plan.verb);
  if (ifNeeded && plan.noop?.(before.state)) return unchanged(before, t0);
  const why = plan.refuse(before.state);
  if (why !== undefined) throw invalid(domain, plan.verb, why);
  try {
    domain[kPointer](plan.verb); // a freed handle: "Cannot start freed Domain ..."
    await plan.run();
  } catch (error) {
    throw attribute_(error, domain, plan.verb);
  }
  plan.done?.();
  const after = await readAfter(domain, plan.verb);
  return {
    before: before.state,
    after: after.info.state,
    afterReason: after.info.reasonName,
    tookMs: elapsed(t0),
    changed: true,
    ...(after.gone ? { gone: true } : {}),
  };
}

/**
 * A lifecycle operation in one call ({ states: false }): the result follows from its success. Not
 * async: on an idle `blocking: true` connection the call's promise is settled when `plan.run()`
 * returns, and one `then` makes the result (an async function and its awaits cost two more promises).
 */
function leanLifecycle(domain: Domain, plan: Plan, ifNeeded: boolean): Promise<LifecycleResult> {
  const t0 = performance.now();
  let call: Promise<unknown>;
  try {
    domain[kPointer](plan.verb); // a freed handle: "Cannot start freed Domain ..."
    call = plan.run();
  } catch (error) {
    return leanRefused(domain, plan, ifNeeded, t0, error);
  }
  return call.then(() => {
    // the cache must not hand out a transient domain that may have vanished with this call
    if (plan.mayVanish) invalidateDomain(domain);
    plan.done?.();
    return {
      before: plan.implies?.before ?? "nostate",
      after: plan.implies?.after ?? "nostate",
      afterReason: plan.implies?.reason ?? "unknown",
      tookMs: elapsed(t0),
      changed: true,
      inferred: true,
    };
  }, (error) => leanRefused(domain, plan, ifNeeded, t0, error));
}

/** A one-call operation failed: its error in the operation's words, or with ifNeeded a no-op. */
async function leanRefused(
  domain: Domain,
  plan: Plan,
  ifNeeded: boolean,
  t0: number,
  error: unknown,
): Promise<LifecycleResult> {
  const attributed = attribute_(error, domain, plan.verb);
  // libvirt refused: with ifNeeded, one read tells a no-op from a real refusal
  if (ifNeeded && plan.noop && attributed instanceof OperationInvalidError) {
    const now = await readState(domain, plan.verb);
    if (plan.noop(now.state)) return unchanged(now, t0);
  }
  throw attributed;
}

/** An `ifNeeded` no-op: the domain already is where the operation would take it. */
function unchanged(state: DomainStateInfo, t0: number): LifecycleResult {
  return {
    before: state.state,
    after: state.state,
    afterReason: state.reasonName,
    tookMs: elapsed(t0),
    changed: false,
  };
}

const notRunning = (s: DomainStateName) => active.has(s) ? undefined : "domain is not running";

/**
 * Starts a defined domain (virDomainCreateWithFlags). A domain with a managed save image is restored
 * from it (unless `forceBoot`).
 *
 * No-op semantics: starting a running domain throws {@link OperationInvalidError} ("domain is already
 * running"), or with `ifNeeded` resolves `{ changed: false }`. Starting a paused (or otherwise active)
 * domain always throws: it would not make it run; use {@link resumeDomain}.
 *
 * @param domain the domain
 * @param options paused / autodestroy / bypassCache / forceBoot / ifNeeded
 * @returns the states before and after, and the time taken
 * @throws {OperationInvalidError} when the domain is already active
 * @throws {LibvirtError} when libvirt cannot start it
 * @example
 * ```ts
 * import { Connection, lookupDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log(await startDomain(dom, { ifNeeded: true })); // { before: "running", after: "running", changed: false, ... }
 * ```
 */
export function startDomain(domain: Domain, options: StartOptions = {}): Promise<LifecycleResult> {
  const flags = (options.paused ? 1 : 0) | (options.autodestroy ? 2 : 0) | (options.bypassCache ? 4 : 0) |
    (options.forceBoot ? 8 : 0);
  return lifecycle(domain, {
    verb: "start",
    refuse: (s) => active.has(s) ? `domain is already ${s === "blocked" ? "running" : s}` : undefined,
    noop: (s) => runningStates.has(s) && !options.paused,
    run: () => domainFlagsCall(domain, "virDomainCreateWithFlags", flags),
    // a managed save image makes it "restored" rather than "booted": only a read can tell
    implies: { before: "shutoff", after: options.paused ? "paused" : "running" },
  }, options);
}

/**
 * Stops a domain at once, like pulling the plug (virDomainDestroyFlags). A transient domain vanishes
 * (`gone: true`).
 *
 * No-op semantics: destroying a shut-off domain throws {@link OperationInvalidError} ("domain is not
 * running"), or with `ifNeeded` resolves `{ changed: false }`.
 *
 * @param domain the domain
 * @param options graceful (SIGTERM only) / ifNeeded
 * @returns the states before and after, and the time taken
 * @throws {OperationInvalidError} when the domain is not running
 * @example
 * ```ts
 * import { Connection, destroyDomain, lookupDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await destroyDomain(dom)).afterReason, (await startDomain(dom)).after); // "destroyed" "running"
 * ```
 */
export function destroyDomain(domain: Domain, options: DestroyOptions = {}): Promise<LifecycleResult> {
  const flags = options.graceful ? 1 : 0;
  return lifecycle(domain, {
    verb: "destroy",
    refuse: notRunning,
    noop: (s) => !active.has(s),
    run: () => domainFlagsCall(domain, "virDomainDestroyFlags", flags),
    implies: { after: "shutoff", reason: "destroyed" },
    mayVanish: true,
  }, options);
}

/**
 * Asks a running domain to reboot (virDomainReboot); resolves once the request was accepted (the guest
 * reboots on its own time; a "reboot" event follows on hypervisors that emit one).
 *
 * @param domain the domain
 * @param options mode: "acpi", "agent" or "default"
 * @returns the states before and after the request
 * @throws {OperationInvalidError} when the domain is not running
 * @throws {AgentUnresponsiveError} in agent mode without an agent
 * @example
 * ```ts
 * import { Connection, lookupDomain, rebootDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await rebootDomain(dom, { mode: "acpi" })).changed); // true: the guest got the request
 * ```
 */
export async function rebootDomain(domain: Domain, options: RebootOptions = {}): Promise<LifecycleResult> {
  const mode = options.mode ?? "default";
  if (!(mode in modeFlags)) {
    throw new TypeError(
      `Cannot reboot domain ${JSON.stringify(domain.name)}: unknown mode ${JSON.stringify(mode)}`,
    );
  }
  return await lifecycle(domain, {
    verb: "reboot",
    refuse: (s) => runningStates.has(s) ? undefined : `domain is not running (it is ${s})`,
    run: () => domain.reboot(modeFlags[mode]),
  });
}

/**
 * Resets a domain like a hardware reset button, without asking the guest (virDomainReset).
 *
 * @param domain the domain
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not active
 * @example
 * ```ts
 * import { Connection, lookupDomain, resetDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await resetDomain(dom)).after); // "running": a reset does not stop it
 * ```
 */
export function resetDomain(domain: Domain): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "reset",
    refuse: (s) => active.has(s) ? undefined : "domain is not running",
    run: () => domain.reset(0),
  });
}

/**
 * Pauses a running domain's vCPUs (virDomainSuspend).
 *
 * No-op semantics: suspending a paused domain throws {@link OperationInvalidError} ("domain is already
 * paused"), or with `ifNeeded` resolves `{ changed: false }`; suspending a shut-off domain always throws.
 *
 * @param domain the domain
 * @param options ifNeeded
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not running
 * @example
 * ```ts
 * import { Connection, lookupDomain, resumeDomain, suspendDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await suspendDomain(dom)).after, (await resumeDomain(dom)).after); // "paused" "running"
 * ```
 */
export function suspendDomain(domain: Domain, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "suspend",
    refuse: (s) =>
      runningStates.has(s)
        ? undefined
        : s === "paused"
        ? "domain is already paused"
        : "domain is not running",
    noop: (s) => s === "paused",
    run: () => domain.suspend(),
    implies: { after: "paused", reason: "user" },
  }, options);
}

/**
 * Resumes a paused domain (virDomainResume).
 *
 * No-op semantics: resuming a running domain throws {@link OperationInvalidError} ("domain is not
 * paused"), or with `ifNeeded` resolves `{ changed: false }`; resuming a shut-off domain always throws
 * (use {@link startDomain}).
 *
 * @param domain the domain
 * @param options ifNeeded
 * @returns the states before and after
 * @throws {OperationInvalidError} when the domain is not paused
 * @example
 * ```ts
 * import { Connection, lookupDomain, resumeDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await resumeDomain(dom, { ifNeeded: true })).changed); // false: it runs already
 * ```
 */
export function resumeDomain(domain: Domain, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  return lifecycle(domain, {
    verb: "resume",
    refuse: (s) =>
      s === "paused" ? undefined : runningStates.has(s) ? "domain is not paused" : "domain is not running",
    noop: (s) => runningStates.has(s),
    run: () => domain.resume(),
    implies: { before: "paused", after: "running", reason: "unpaused" },
  }, options);
}

/**
 * Saves a running or paused domain's memory to a file libvirt manages and stops it (virDomainManagedSave);
 * the next start ({@link startDomain} or {@link restoreDomain}) restores it.
 *
 * @param domain the domain
 * @param options bypassCache, restoreAs
 * @returns the states before and after ("shutoff", reason "saved")
 * @throws {OperationInvalidError} when the domain is not active, or is transient
 * @example
 * ```ts
 * import { Connection, lookupDomain, managedSaveDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log((await managedSaveDomain(dom)).afterReason, await dom.hasManagedSave()); // "saved" true
 * console.log((await startDomain(dom)).afterReason); // "restored" on QEMU ("booted": the test driver)
 * ```
 */
export function managedSaveDomain(
  domain: Domain,
  options: ManagedSaveOptions = {},
): Promise<LifecycleResult> {
  const flags = (options.bypassCache ? 1 : 0) | (options.restoreAs === "running" ? 2 : 0) |
    (options.restoreAs === "paused" ? 4 : 0);
  return lifecycle(domain, {
    verb: "save the state of",
    refuse: notRunning,
    run: () => domain.managedSave(flags),
  });
}

/**
 * Restores a domain from its managed save image by starting it (virDomainCreateWithFlags).
 *
 * Unlike {@link startDomain}, this refuses to boot afresh: without a managed save image it throws
 * {@link OperationInvalidError} ("domain has no managed save image").
 *
 * @param domain the domain
 * @param options paused (restore into paused), bypassCache
 * @returns the states before and after (reason "restored")
 * @throws {OperationInvalidError} when the domain is active or has no managed save image
 * @example
 * ```ts
 * import { Connection, lookupDomain, managedSaveDomain, restoreDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await managedSaveDomain(dom, { restoreAs: "running" });
 * console.log(await restoreDomain(dom)); // { before: "shutoff", after: "running", changed: true, ... }
 * ```
 */
export async function restoreDomain(
  domain: Domain,
  options: Pick<StartOptions, "paused" | "bypassCache"> = {},
): Promise<LifecycleResult> {
  let has: boolean;
  try {
    has = await domain.hasManagedSave();
  } catch (error) {
    throw attribute_(error, domain, "restore");
  }
  if (!has) throw invalid(domain, "restore", "domain has no managed save image");
  const flags = (options.paused ? 1 : 0) | (options.bypassCache ? 4 : 0);
  return lifecycle(domain, {
    verb: "restore",
    refuse: (s) => active.has(s) ? `domain is already ${s}` : undefined,
    run: () => domainFlagsCall(domain, "virDomainCreateWithFlags", flags),
  });
}

/**
 * Removes a domain's managed save image, so that the next start boots afresh (virDomainManagedSaveRemove).
 *
 * @param domain the domain
 * @returns true when an image was removed, false when there was none
 * @throws {LibvirtError} when libvirt cannot remove it
 * @example
 * ```ts
 * import { Connection, lookupDomain, managedSaveDomain, removeManagedSave, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await managedSaveDomain(dom);
 * console.log(await removeManagedSave(dom), (await startDomain(dom)).afterReason); // true "booted": afresh
 * ```
 */
export async function removeManagedSave(domain: Domain): Promise<boolean> {
  if (!await domain.hasManagedSave()) return false;
  await asOperation(domain, "remove the managed save image of", () => domain.managedSaveRemove(0));
  return true;
}

/**
 * Undefines a domain (virDomainUndefineFlags): a shut-off domain is gone (`gone: true`), a running one
 * becomes transient (it vanishes when it stops). The handle stays usable for what remains.
 *
 * @param domain the domain
 * @param options also remove the managed save image, snapshot/checkpoint metadata, NVRAM
 * @returns the states before and after
 * @throws {OperationInvalidError} for a transient domain, or while a managed save image or snapshots
 *   exist without the matching option
 * @example
 * ```ts
 * import { Connection, defineDomain, undefineDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<domain type='test'><name>docs-undefine</name><memory>65536</memory><os><type>hvm</type></os></domain>";
 * using dom = await defineDomain(conn, xml);
 * console.log(await undefineDomain(dom)); // { before: "shutoff", after: "shutoff", gone: true, ... }
 * ```
 */
export function undefineDomain(domain: Domain, options: UndefineOptions = {}): Promise<LifecycleResult> {
  const flags = (options.managedSave ? 1 : 0) | (options.snapshotsMetadata ? 2 : 0) |
    (options.nvram === true ? 4 : 0) | (options.nvram === false ? 8 : 0) |
    (options.checkpointsMetadata ? 16 : 0);
  let uuid: string | undefined;
  try {
    uuid = cacheUuid(domain); // read before the call (a free meanwhile) only when the cache has entries
  } catch (error) {
    return Promise.reject(error);
  }
  return lifecycle(domain, {
    verb: "undefine",
    refuse: () => undefined,
    run: () => domainFlagsCall(domain, "virDomainUndefineFlags", flags),
    done: () => invalidateDomain(domain, uuid),
  }, { states: options.states });
}
