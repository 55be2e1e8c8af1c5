// What every `range.ts` command module receives: the parsed, checked command line and the range it
// names, the pools to reach its hosts through, and the shared progress printer. range.ts checks the
// arguments once, up front; a command module only runs its command and prints its result.
import type { PoolRegistry } from "../../lib/pool.ts";
import type { Range } from "../../lib/range/description.ts";
import type { RangeProgress } from "../../lib/range/types.ts";

/** The inputs of one command. */
export interface RangeCommandContext {
  /** The parsed description. */
  range: Range;
  /** One connection pool per host, closed by range.ts after the command. */
  registry: PoolRegistry;
  /** The option values, checked by range.ts. */
  values: Record<string, unknown>;
  /** The positionals: command, file, then the command's own (guest, NIC, ...). */
  positionals: string[];
  /** True with `--json`: the command returns its document as `output` and prints nothing else. */
  json: boolean;
  /** The `--format` value, checked against the command's formats. */
  format: string;
  /** Operations in flight per host (`--concurrency`). */
  concurrency: number;
  /** `--timeout` in milliseconds. */
  timeoutMs: number;
  /** `--concurrency` and the progress printer, as the range operations take them. */
  hooks: { concurrency: number; onProgress: (e: RangeProgress) => void };
  /** Whether and how long up/reset wait for addresses (`--no-wait`, `--timeout`). */
  wait: { waitForAddresses: boolean; addressTimeoutMs: number };
}

/** What a command hands back to range.ts: the exit code, and the document `--json` prints. */
export interface RangeCommandResult {
  /** 0 done; 1 failed part-way, conflicts, guests without an address. */
  exit: number;
  /** Printed as JSON with `--json`; undefined when the command printed its own output. */
  output?: unknown;
}

/** A command module's entry point. */
export type RangeCommand = (context: RangeCommandContext) => Promise<RangeCommandResult>;
