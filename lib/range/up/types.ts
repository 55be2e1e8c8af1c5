/**
 * The options and result of `upRange` (lib/range/up.ts), shared by its phases (lib/range/up/).
 *
 * @module
 */
import type { GuestConsole, RangeConsoleOptions, RangeConsoles } from "../consoles.ts";
import type { BaseImageOptions, BaseImageOutcome } from "../images.ts";
import type { RangePlan } from "../plan.ts";
import type { GuestTaskOptions, GuestTaskReport } from "../tasks.ts";
import type { RangeHooks, RangePhase } from "../types.ts";

/** Options for {@link upRange}. */
export interface UpOptions extends RangeHooks, GuestTaskOptions, BaseImageOptions {
  /** Run the guests' `tasks` (lib/range/tasks.ts) once they run. Default true. */
  tasks?: boolean;
  /** Wait until every guest has an address. Default true. */
  waitForAddresses?: boolean;
  /** How long to wait for each guest's address, ms. Default 120,000. */
  addressTimeoutMs?: number;
  /**
   * The least discovery confidence that counts as an address. Default 0.5; on libvirt's test driver
   * (`test://`, `test+unix://`), which invents its addresses (often outside the network's subnet, so
   * flagged and demoted), 0: whatever it reports counts, with its flags, since waiting changes nothing.
   */
  minConfidence?: number;
  /**
   * Capture every guest's serial console into `<dir>/<guest>.log` (lib/range/consoles.ts; default
   * on, dir `range-consoles/<range>`); `false`: no capture. A guest without an address then has its
   * console's tail in the timeout's explanation.
   */
  consoles?: RangeConsoleOptions | false;
}

/** @internal `UpOptions.minConfidence` unless given: 0 on the test driver (see there), else 0.5. */
export function minConfidenceFor(uri: string, options: UpOptions): number {
  return options.minConfidence ?? (/^test[+:]/i.test(uri) ? 0 : 0.5);
}

/** A guest's address as `up` or `reset` found it. */
export interface GuestAddress {
  /** The guest's domain name. */
  name: string;
  /** The id of the host it runs on. */
  host: string;
  /** The best IPv4 address found. */
  address: string;
  /** The MAC of the NIC that has it. */
  mac: string;
  /** The discovery confidence of the address, 0..1. */
  confidence: number;
  /** The discovery sources that saw it, e.g. "lease", "agent". */
  sources: string[];
  /** Discovery's flags on it, e.g. "outside-subnet", "same-origin" (see DiscoveredAddress). */
  flags?: string[];
  /** How long waiting for the address took, ms. */
  waitedMs: number;
}

/** What {@link upRange} did. */
export interface UpResult {
  /** The range's name. */
  range: string;
  /** The plan `up` carried out. */
  plan: RangePlan;
  /** Steps taken, e.g. `created network "demo-lan" on local`. */
  created: string[];
  /** Things that existed already. */
  kept: string[];
  /** Guests started by this call. */
  started: string[];
  /** The guests' addresses (empty with `waitForAddresses: false`). */
  addresses: GuestAddress[];
  /** Each base image on each host that runs guests of it: present, uploaded, replaced, unchecked. */
  images: BaseImageOutcome[];
  /** Time per phase, ms. */
  timingsMs: Partial<Record<RangePhase, number>>;
  /** Time of the whole operation, ms. */
  tookMs: number;
  /** Each guest's console capture: its log, or why it was skipped (empty with `consoles: false`). */
  consoles: GuestConsole[];
  /** The running captures, with `consoles.keepOpen`: yours to close. */
  consoleCapture?: RangeConsoles;
  /** Per guest and task: done, kept or skipped (with the reason), exit code and output. */
  tasks: GuestTaskReport[];
}
