/**
 * Graceful shutdown: ask the guest ({@link Domain.shutdownFlags}), wait for it to power off (lifecycle
 * events, polling when there are none), and optionally pull the plug after a timeout.
 *
 * @module
 */
import { sleep } from "../_async.ts";
import { kPointer } from "../_handle.ts";
import { isTimeout, NotFoundError, OperationInvalidError } from "../errors.ts";
import { waitForState } from "../events/wait.ts";
import type { Domain, DomainStateInfo } from "../objects/domain.ts";
import type { DomainStateName } from "../objects/domain_state.ts";
import {
  active,
  attribute_,
  elapsed,
  invalid,
  type LifecycleOptions,
  type LifecycleResult,
  modeFlags,
  readAfter,
  readState,
} from "./lifecycle.ts";

/** What the errors of every step call the operation. */
const VERB = "shut down";
/** Options for {@link shutdownDomain}. */
export interface ShutdownOptions extends LifecycleOptions {
  /**
   * How to ask the guest: "acpi" (the power button), "agent" (qemu-guest-agent), "default" (the
   * hypervisor's choice). Default "default".
   */
  mode?: "acpi" | "agent" | "default";
  /** How long to wait for the guest to power off, ms. Default 60,000. 0: check once, do not wait. */
  timeoutMs?: number;
  /** @deprecated the old name of {@link ShutdownOptions.timeoutMs} (every other wait says timeoutMs) */
  waitMs?: number;
  /** Stops waiting; the operation rejects with the signal's reason (no fallback runs). */
  signal?: AbortSignal;
  /**
   * What to do when the guest has not powered off after `timeoutMs`, or the request itself failed (no
   * agent, no ACPI): "destroy" pulls the plug; "none" (default) throws.
   */
  fallback?: "destroy" | "none";
}

/** What {@link shutdownDomain} did. */
export interface ShutdownResult extends LifecycleResult {
  /** True when the fallback destroyed the domain. */
  forced: boolean;
  /** Why the graceful path failed, when `forced`. */
  gracefulFailure?: string;
}

/** Polls a domain's state until it is shut off or gone, or `deadline` (performance.now()) passes. */
async function pollForShutoff(domain: Domain, deadline: number, signal?: AbortSignal): Promise<boolean> {
  let delay = 50;
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    try {
      if ((await domain.state()).state === "shutoff") return false;
    } catch (error) {
      if (error instanceof NotFoundError) return true;
      throw error;
    }
    await sleep(Math.min(delay, Math.max(0, deadline - performance.now())), signal);
    delay = Math.min(delay * 2, 500);
  }
  return false;
}

/**
 * Shuts a domain down gracefully (virDomainShutdownFlags), then waits for it to power off, driven by
 * lifecycle events ({@link waitForState}), not by polling. After `timeoutMs` it either destroys the domain
 * (`fallback: "destroy"`, `forced: true`) or throws a `DOMException` named "TimeoutError" that names the
 * domain and the state it is still in.
 *
 * No-op semantics: shutting down a shut-off domain throws {@link OperationInvalidError} ("domain is not
 * running"), or with `ifNeeded` resolves `{ changed: false, forced: false }`. A transient domain vanishes
 * once off (`gone: true`).
 *
 * @param domain the domain
 * @param options mode, timeoutMs, signal, fallback, ifNeeded
 * @returns the states before and after, the time taken, and whether the fallback was needed
 * @throws {OperationInvalidError} when the domain is not running
 * @throws {AgentUnresponsiveError} in agent mode without an agent (unless `fallback: "destroy"`)
 * @throws a `DOMException` TimeoutError after `timeoutMs` without fallback; the signal's reason on abort
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, shutdownDomain, startDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * const result = await shutdownDomain(dom, { timeoutMs: 30_000, fallback: "destroy" });
 * if (result.forced) console.warn(`${dom.name} ignored the request; destroyed after ${result.tookMs} ms`);
 * console.log(result.after, result.forced); // "shutoff" false
 * await startDomain(dom);
 * ```
 */
export async function shutdownDomain(domain: Domain, options: ShutdownOptions = {}): Promise<ShutdownResult> {
  const t0 = performance.now();
  const { mode, timeoutMs } = checkedOptions(domain, options);
  const fallback = options.fallback ?? "none";
  options.signal?.throwIfAborted();
  const before = await readState(domain, VERB);
  if (!active.has(before.state)) {
    if (options.ifNeeded) return shutdownResult(before.state, before, t0, { changed: false, forced: false });
    throw invalid(domain, VERB, "domain is not running");
  }
  let gracefulFailure = await requestShutdown(domain, mode, fallback);
  let gone = false;
  if (gracefulFailure === undefined) {
    const now = await awaitPowerOff(domain, timeoutMs, t0, options.signal);
    gone = now.gone;
    if (now.info.state === "shutoff") {
      return shutdownResult(before.state, now.info, t0, { changed: true, forced: false, gone });
    }
    const still = `it is still ${now.info.state} after ${timeoutMs} ms (mode ${JSON.stringify(mode)})`;
    if (fallback !== "destroy") {
      throw new DOMException(
        `Cannot shut down domain ${
          JSON.stringify(domain.name)
        }: ${still}; pass fallback: "destroy" to force it off`,
        "TimeoutError",
      );
    }
    gracefulFailure =
      `domain ${JSON.stringify(domain.name)} is still ${now.info.state} after ${timeoutMs} ms ` +
      `(mode ${JSON.stringify(mode)})`;
  }
  options.signal?.throwIfAborted();
  const after = await forceOff(domain);
  return shutdownResult(before.state, after.info, t0, {
    changed: true,
    forced: true,
    gracefulFailure,
    gone: after.gone || gone,
  });
}

/** The mode and the wait of `options`, checked: a TypeError/RangeError naming the bad field. */
function checkedOptions(
  domain: Domain,
  options: ShutdownOptions,
): { mode: keyof typeof modeFlags; timeoutMs: number } {
  const mode = options.mode ?? "default";
  const timeoutMs = options.timeoutMs ?? options.waitMs ?? 60_000;
  if (!(mode in modeFlags)) {
    throw new TypeError(
      `Cannot shut down domain ${JSON.stringify(domain.name)}: unknown mode ${JSON.stringify(mode)}`,
    );
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(
      `Cannot shut down domain ${JSON.stringify(domain.name)}: timeoutMs must be >= 0, got ${timeoutMs}`,
    );
  }
  return { mode, timeoutMs };
}

/**
 * Asks the guest to power off (virDomainShutdownFlags in `mode`).
 *
 * @returns undefined once the request went out; with `fallback: "destroy"`, why it was refused (the
 *   caller then destroys); without, the refusal is thrown
 */
async function requestShutdown(
  domain: Domain,
  mode: keyof typeof modeFlags,
  fallback: "destroy" | "none",
): Promise<string | undefined> {
  try {
    domain[kPointer](VERB);
    await domain.shutdownFlags(modeFlags[mode]);
    return undefined;
  } catch (error) {
    const attributed = attribute_(error, domain, VERB);
    if (fallback !== "destroy" || error instanceof TypeError) throw attributed;
    return (attributed as Error).message;
  }
}

/**
 * Waits up to `timeoutMs` (from `t0`) for the domain to be shut off: on lifecycle events, or by polling
 * where there are none (event loop disabled, a driver that refuses subscriptions).
 *
 * @returns the state then, and whether the domain vanished (a transient domain, once off)
 * @throws the signal's reason on abort; a state read's error
 */
async function awaitPowerOff(
  domain: Domain,
  timeoutMs: number,
  t0: number,
  signal: AbortSignal | undefined,
): Promise<{ info: DomainStateInfo; gone: boolean }> {
  const first = await readAfter(domain, VERB);
  if (first.info.state === "shutoff" || timeoutMs === 0) return first;
  let gone = first.gone;
  try {
    await waitForState(domain, "shutoff", { timeoutMs, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof NotFoundError) gone = true; // transient: vanished as it stopped
    else if (signal?.aborted) throw error; // aborted: the signal's reason, untouched
    else if (!isTimeout(error)) {
      // no events here (event loop disabled, or the driver refused a subscription): the request
      // went out, so wait for its outcome by polling instead of reporting a failure
      gone = await pollForShutoff(domain, t0 + timeoutMs, signal);
    }
  }
  const now = await readAfter(domain, VERB);
  return { info: now.info, gone: gone || now.gone };
}

/** Pulls the plug (virDomainDestroyFlags); a domain that powered off meanwhile is not an error. */
async function forceOff(domain: Domain): Promise<{ info: DomainStateInfo; gone: boolean }> {
  try {
    domain[kPointer](VERB);
    await domain.destroyFlags(0);
  } catch (error) {
    // it may have powered off on its own between our read and the destroy
    const attributed = attribute_(error, domain, VERB);
    if (!(attributed instanceof OperationInvalidError)) throw attributed;
  }
  return await readAfter(domain, VERB);
}

/** The one shape every outcome of shutdownDomain reports. */
function shutdownResult(
  before: DomainStateName,
  after: DomainStateInfo,
  t0: number,
  outcome: { changed: boolean; forced: boolean; gracefulFailure?: string; gone?: boolean },
): ShutdownResult {
  const { gone, ...rest } = outcome;
  return {
    before,
    after: after.state,
    afterReason: after.reasonName,
    tookMs: elapsed(t0),
    ...rest,
    ...(gone ? { gone: true } : {}),
  };
}
