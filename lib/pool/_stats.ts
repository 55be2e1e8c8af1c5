// A pool's statistics: the event counters, the failures by libvirt error code and a window of
// operation latencies, with the summary ConnectionPool.stats() reports. Apart from the pool so that
// the pool's code reads as leasing and returning connections, with one line where each event counts.
import { LibvirtError } from "../errors.ts";
import type { PoolStats } from "./types.ts";

/** How many latencies the percentiles are taken over (the most recent ones). */
const LATENCY_WINDOW = 2048;

/** The counters a pool bumps as things happen (see PoolStats for each one's meaning). */
export interface PoolCounts {
  opened: number;
  closed: number;
  reused: number;
  reconnects: number;
  retries: number;
  healthCheckFailures: number;
  operations: number;
}

/** The part of PoolStats that is history rather than the pool's state now. */
export type PoolHistory = PoolCounts & Pick<PoolStats, "errorsByCode" | "latencyMs">;

/** The counters, failures by code and latencies of one pool. */
export class PoolStatistics {
  /** Bumped in place by the pool. */
  readonly counts: PoolCounts = {
    opened: 0,
    closed: 0,
    reused: 0,
    reconnects: 0,
    retries: 0,
    healthCheckFailures: 0,
    operations: 0,
  };
  readonly #errorsByCode: Record<string, number> = {};
  readonly #latencies = new Float64Array(LATENCY_WINDOW);
  #latencyCount = 0;

  /** Counts a failed operation under its libvirt error code name, or "OTHER". */
  recordFailure(error: unknown): void {
    const code = error instanceof LibvirtError ? error.codeName : "OTHER";
    this.#errorsByCode[code] = (this.#errorsByCode[code] ?? 0) + 1;
  }

  /** Keeps one operation's latency (the oldest of the window drops out). */
  recordLatency(ms: number): void {
    this.#latencies[this.#latencyCount++ % LATENCY_WINDOW] = ms;
  }

  /** A copy of the counters, the failures by code and the latency percentiles now. */
  summary(): PoolHistory {
    const samples = Math.min(this.#latencyCount, LATENCY_WINDOW);
    const sorted = Array.from(this.#latencies.subarray(0, samples)).sort((a, b) => a - b);
    const pick = (q: number) => samples === 0 ? 0 : sorted[Math.min(samples - 1, Math.floor(q * samples))];
    return {
      ...this.counts,
      errorsByCode: { ...this.#errorsByCode },
      latencyMs: { p50: pick(0.5), p95: pick(0.95), samples },
    };
  }
}
