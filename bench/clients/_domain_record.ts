/**
 * What the per-operation Deno clients share (bench/clients/domain_deno.ts, the library's; domain_bare.ts,
 * bare FFI): the `--passes` / `--warmup` counts, the process's CPU time, and the one-line JSON record
 * bench/perop_compare.ts and bench/domain_compare.ts read (domain_python.py prints the same fields).
 *
 * @module
 */
import type { ThreadCpu } from "../_cpu.ts";

/**
 * A count option of the command line (`--passes 3`), or its default.
 *
 * @param flag the option, with its dashes
 * @param fallback the value without it
 * @returns the count
 */
export function countOption(flag: string, fallback: number): number {
  const at = Deno.args.indexOf(flag);
  return at < 0 ? fallback : Number(Deno.args[at + 1]);
}

let libc: Deno.DynamicLibrary<{ getrusage: { parameters: ["i32", "buffer"]; result: "i32" } }> | undefined;
const usage = new BigInt64Array(18); // struct rusage: ru_utime and ru_stime (timeval) first

/** The process's CPU time so far (ns): getrusage(RUSAGE_SELF), user + system, every thread. */
export function processCpuNs(): number {
  libc ??= Deno.dlopen("libc.so.6", { getrusage: { parameters: ["i32", "buffer"], result: "i32" } });
  libc.symbols.getrusage(0, usage);
  return Number(usage[0] + usage[2]) * 1e9 + Number(usage[1] + usage[3]) * 1e3;
}

/** The timed passes of one client process, as measured. */
export interface TimedPasses {
  /** "deno", "deno-lean", "deno-bare" */
  client: string;
  op: string;
  /** How many domains each pass works on. */
  domains: number;
  /** Each timed pass's wall time (ns). */
  times: number[];
  /** {@link processCpuNs} over the timed passes. */
  cpu: number;
  /** The thread CPU readings before and after the timed passes (bench/_cpu.ts threadCpu). */
  threads: readonly [ThreadCpu, ThreadCpu];
  /** Each domain's time in the timed passes (ms; stats_bulk: each call's); empty: no median lap (null). */
  laps: readonly number[];
}

/**
 * Prints the record: the fastest pass (`total_ns`), CPU per domain (process, main thread, other threads),
 * and the median lap per domain.
 *
 * @param t the passes
 */
export function printDomainRecord(t: TimedPasses): void {
  const total = Math.min(...t.times);
  const work = t.times.length * t.domains;
  const [before, after] = t.threads;
  console.log(JSON.stringify({
    client: t.client,
    op: t.op,
    domains: t.domains,
    passes: t.times.length,
    total_ns: total,
    per_domain_ns: total / t.domains,
    passes_ns: t.times,
    cpu_ns_per_domain: t.cpu / work,
    main_ns_per_domain: (after.main - before.main) / work,
    other_ns_per_domain: (after.other - before.other) / work,
    median_lap_ns: median(t.laps) * 1e6 / (t.op === "stats_bulk" ? t.domains : 1),
  }));
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN; // JSON: null
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
