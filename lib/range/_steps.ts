/**
 * The bookkeeping every range operation shares: phases run with bounded concurrency, progress events,
 * the test hook before each step, the caller's `signal`, and the done / not-done lists a failure
 * reports (so that `down` has something to remove after a failed `up`).
 *
 * @module
 */
import { asError, settleAll } from "./_libvirt.ts";
import { type RangeHooks, RangeOperationError, type RangePhase, reporter } from "./types.ts";

/**
 * @internal A step-name function that builds each object's name once: a step's name is used at least
 * twice (added to `notDone`, then marked done), and at 1,000 guests building it each time showed.
 */
export function stepNamesOnce<K extends object>(name: (key: K) => string): (key: K) => string {
  const made = new Map<K, string>();
  return (key) => {
    let step = made.get(key);
    if (step === undefined) {
      step = name(key);
      made.set(key, step);
    }
    return step;
  };
}

/** @internal Tracks done / not-done steps and runs phases with hooks and progress. */
export class Steps {
  readonly done: string[] = [];
  readonly notDone = new Set<string>();
  readonly errors: Error[] = [];
  readonly timings: Partial<Record<RangePhase, number>> = {};
  readonly report: ReturnType<typeof reporter>;
  readonly started = performance.now();
  constructor(readonly operation: string, readonly range: string, readonly hooks: RangeHooks) {
    // no progress listener: nothing to build per step
    this.report = hooks.onProgress ? reporter(hooks, this.started) : () => {};
  }

  /** Runs one phase over items; throws the operation's error when any item failed. */
  async phase<T>(
    phase: RangePhase,
    items: readonly T[],
    describe: (item: T) => { target: string; host: string },
    fn: (item: T) => Promise<"created" | "kept" | "removed" | "ok" | "skipped">,
    limit: number,
  ): Promise<void> {
    // An aborted operation starts no further phase; what earlier phases did is in `done`.
    if (this.hooks.signal?.aborted) {
      this.errors.push(asError(this.hooks.signal.reason));
      throw this.failure();
    }
    const t0 = performance.now();
    let done = 0;
    const total = items.length;
    this.report({ phase, status: "start", done, total });
    const listening = this.hooks.onProgress !== undefined;
    const results = await settleAll(items, limit, async (item) => {
      try {
        const status = await fn(item);
        done++;
        if (listening) this.report({ phase, status, ...describe(item), done, total });
      } catch (error) {
        const { target, host } = describe(item);
        this.report({
          phase,
          status: "failed",
          target,
          host,
          done: ++done,
          total,
          error: asError(error).message,
        });
        throw error;
      }
    });
    this.timings[phase] = Math.round(performance.now() - t0);
    this.report({ phase, status: "end", done, total });
    for (const r of results) if (r.status === "rejected") this.errors.push(asError(r.reason));
    if (this.errors.length > 0) throw this.failure();
  }

  /** Before every step: stops at an aborted signal (the step fails with its reason), then the test hook. */
  act(phase: RangePhase, target: string, host: string): Promise<void> | void {
    this.hooks.signal?.throwIfAborted();
    return this.hooks.beforeAction?.({ phase, target, host });
  }

  /** Marks a step done (removing it from not-done). */
  mark(step: string): void {
    this.done.push(step);
    this.notDone.delete(step);
  }

  failure(): RangeOperationError {
    return new RangeOperationError(this.operation, this.range, {
      done: [...this.done],
      notDone: [...this.notDone],
      errors: [...this.errors],
    });
  }
}
