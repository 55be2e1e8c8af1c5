/**
 * What the phases of `upRange` (lib/range/up/) share: the range, the plan, the steps and what was
 * created, kept and started so far.
 *
 * @module
 */
import type { ConnectionPool, PoolRegistry } from "../../pool.ts";
import type { RangeConsoles } from "../consoles.ts";
import type { ExpandedGuest, Range } from "../description.ts";
import type { HostSurvey, PlanItem, RangePlan } from "../plan.ts";
import type { Steps } from "../_steps.ts";
import type { UpOptions } from "./types.ts";

/** @internal One `up` call's state, handed to each phase. */
export interface UpContext {
  range: Range;
  registry: PoolRegistry;
  options: UpOptions;
  consoles: RangeConsoles | undefined;
  steps: Steps;
  /** Steps in flight at once, over all hosts. */
  limit: number;
  /** The connection pool of a host id. */
  pool: (hostId: string) => ConnectionPool;
  plan: RangePlan;
  surveys: Map<string, HostSurvey>;
  /** The plan's items to create. */
  creates: PlanItem[];
  /** The plan's item of a kind, name and host. */
  planned: (kind: string, name: string, host: string) => PlanItem | undefined;
  /** The step name of a create, as in `done` / `notDone`. */
  stepName: (i: { kind: string; name: string; host: string }) => string;
  /** The step name of a guest's start, as in `done` / `notDone` (made once per guest). */
  startStep: (g: ExpandedGuest) => string;
  created: string[];
  kept: string[];
  started: string[];
}
