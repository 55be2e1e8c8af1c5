/**
 * What the range operations share: the error that says what was done and what was not, progress
 * events, and the hook tests use to inject a failure part-way.
 *
 * @module
 */

/** The phases of the range operations, in the order `up` runs them. */
export type RangePhase =
  | "plan"
  | "record"
  | "network"
  | "pool"
  | "image"
  | "volume"
  | "domain"
  | "firewall"
  | "address"
  | "tasks"
  | "snapshot"
  | "revert"
  | "destroy"
  | "undefine";

/** One step a range operation is about to take (what {@link RangeHooks.beforeAction} sees). */
export interface RangeAction {
  /** The phase the step belongs to. */
  phase: RangePhase;
  /** What the step acts on: a network, volume or domain name (phase "record": the record network). */
  target: string;
  /** The host id. */
  host: string;
}

/** A progress event. */
export interface RangeProgress {
  /** The phase the event is about. */
  phase: RangePhase;
  /** "start" / "end" of a phase, or one item's outcome. */
  status: "start" | "end" | "created" | "kept" | "removed" | "failed" | "ok" | "skipped";
  /** The item (absent for phase start/end). */
  target?: string;
  /** The host id of the item (absent for phase start/end). */
  host?: string;
  /** Items finished in this phase so far, and in all. */
  done: number;
  /** Items in this phase in all. */
  total: number;
  /** Since the operation began, ms. */
  elapsedMs: number;
  /** For "failed". */
  error?: string;
}

/** Options every range operation takes. */
export interface RangeHooks {
  /** Called for each event; must not throw. */
  onProgress?: (event: RangeProgress) => void;
  /**
   * Called before every step; a throw fails that step as libvirt failing would. For tests (inject a
   * failure half-way) and for dry-run style tracing.
   */
  beforeAction?: (action: RangeAction) => void | Promise<void>;
  /** Operations in flight per host (the size of each host's pool when the registry is the range's own). */
  concurrency?: number;
  /**
   * Stops the operation: no step starts after the abort, waits for addresses and for connections end
   * with the signal's reason, and the operation throws {@link RangeOperationError} whose `done` lists
   * what it made (so `downRange` can remove it) and whose `errors` hold the reason.
   */
  signal?: AbortSignal;
}

/**
 * A range operation that failed part-way. `done` lists what it did (so `down` has something to
 * remove), `notDone` what it did not get to; `errors` the failures themselves.
 *
 * @example
 * ```ts
 * import { type Range, RangeOperationError, upRange } from "@deno-libvirt/deno-libvirt/range";
 * import type { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * async function up(range: Range, pools: PoolRegistry): Promise<void> {
 *   try {
 *     await upRange(range, pools);
 *   } catch (e) {
 *     if (!(e instanceof RangeOperationError)) throw e;
 *     console.error(`failed part-way; made: ${e.done.join(", ")}; not done: ${e.notDone.length}`);
 *     throw e; // downRange(range, pools) removes what `done` lists
 *   }
 * }
 * void up;
 * ```
 */
export class RangeOperationError extends Error {
  /** "up", "down", "snapshot", "reset". */
  readonly operation: string;
  /** Steps completed, e.g. `created domain "demo-web-1" on local`. */
  readonly done: string[];
  /** Steps not completed. */
  readonly notDone: string[];
  /** The underlying failures (the first is also `cause`). */
  readonly errors: Error[];

  /**
   * Makes the error; the message counts and lists what was done and what not, and the first failure.
   *
   * @param operation the operation's name
   * @param range the range's name
   * @param parts what was done, what not, and why
   */
  constructor(
    operation: string,
    range: string,
    parts: { done: string[]; notDone: string[]; errors: Error[] },
  ) {
    const first = parts.errors[0];
    super(
      `Cannot ${operation} range ${JSON.stringify(range)}: ${parts.errors.length} step(s) failed, first: ${
        first?.message ?? "unknown"
      }\n  done (${parts.done.length}): ${summary(parts.done)}\n  not done (${parts.notDone.length}): ${
        summary(parts.notDone)
      }`,
      { cause: first },
    );
    this.name = "RangeOperationError";
    this.operation = operation;
    this.done = parts.done;
    this.notDone = parts.notDone;
    this.errors = parts.errors;
  }
}

function summary(items: string[]): string {
  if (items.length === 0) return "nothing";
  return items.length <= 6
    ? items.join("; ")
    : `${items.slice(0, 6).join("; ")}; ... ${items.length - 6} more`;
}

/** @internal a progress reporter bound to an operation's start time. */
export function reporter(
  hooks: RangeHooks,
  started: number = performance.now(),
): (event: Omit<RangeProgress, "elapsedMs">) => void {
  return (event: Omit<RangeProgress, "elapsedMs">) => {
    try {
      hooks.onProgress?.({ ...event, elapsedMs: Math.round(performance.now() - started) });
    } catch {
      // a progress display must not break the operation
    }
  };
}
