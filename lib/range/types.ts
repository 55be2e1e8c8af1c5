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
  | "volume"
  | "domain"
  | "firewall"
  | "address"
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
  status: "start" | "end" | "created" | "kept" | "removed" | "failed" | "ok";
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
}

/**
 * A range operation that failed part-way. `done` lists what it did (so `down` has something to
 * remove), `notDone` what it did not get to; `errors` the failures themselves.
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
