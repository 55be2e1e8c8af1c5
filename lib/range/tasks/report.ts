/**
 * Guest tasks' reports, options and error, and the names they go by (lib/range/tasks.ts).
 *
 * @module
 */
import type { GuestTask } from "../description.ts";

/** @internal Where a guest records the programs that ran successfully (one empty file per task). */
export const TASK_MARKER_DIR = "/var/lib/deno_libvirt/tasks";

/** What happened to one task on one guest. */
export interface GuestTaskReport {
  /** The guest's domain name. */
  guest: string;
  /** The id of its host. */
  host: string;
  /** The task's position in the guest kind's `tasks` (0-based). */
  index: number;
  /** The task, without secrets, e.g. `addAccount daniel`. */
  task: string;
  /** The task's type. */
  type: GuestTask["type"];
  /** "done" (changed the guest), "kept" (already so), "skipped" (not carried out: see `reason`). */
  status: "done" | "kept" | "skipped";
  /** Why it was kept or skipped, or what it did. */
  reason?: string;
  /** The exit code of the program that did the work, when one ran. */
  exitCode?: number;
  /** Its standard output and error (the last 4,000 characters). */
  output?: string;
  /** Time taken, ms. */
  tookMs: number;
}

/** Options for {@link runGuestTasks}. */
export interface GuestTaskOptions {
  /** How long to wait for the guest agent to answer after the guest starts, ms. Default 120,000. */
  agentTimeoutMs?: number;
  /** How long one task may run, ms. Default 600,000 (a package install on a slow mirror). */
  taskTimeoutMs?: number;
  /** Stops between tasks and while waiting for a program (which keeps running in the guest). */
  signal?: AbortSignal;
}

/**
 * A task that failed in a guest: a program exited non-zero, the agent refused a command, a source
 * file is missing. Names the guest, the task and the output. `upRange` throws it inside a
 * RangeOperationError's `errors`.
 *
 * @example
 * ```ts
 * import { GuestTaskError } from "@deno-libvirt/deno-libvirt/range";
 * const e = new GuestTaskError("lab-pc-1", "h1", 0, "executeProgram /x.sh", "the program failed", {
 *   exitCode: 2,
 *   output: "no such file",
 * });
 * console.log(e.guest, e.exitCode); // "lab-pc-1" 2
 * ```
 */
export class GuestTaskError extends Error {
  /** The guest's domain name. */
  readonly guest: string;
  /** The id of its host. */
  readonly host: string;
  /** The task's position in its guest kind's `tasks` (0-based). */
  readonly index: number;
  /** The task, without secrets. */
  readonly task: string;
  /** The exit code, when a program ran. */
  readonly exitCode?: number;
  /** What the program printed (stdout and stderr), when one ran. */
  readonly output: string;

  /**
   * Builds the error; its message names the task's position, the task, the guest and its host, and
   * ends with the exit code and the output's tail when a program ran.
   *
   * @param guest the guest's domain name
   * @param host its host id
   * @param index the task's position
   * @param task the task, described without secrets
   * @param detail what went wrong
   * @param result the program's result, when one ran
   * @param cause the underlying error
   */
  constructor(
    guest: string,
    host: string,
    index: number,
    task: string,
    detail: string,
    result?: { exitCode: number; output: string },
    cause?: unknown,
  ) {
    const output = result?.output ?? "";
    super(
      `Cannot run task ${index + 1} (${task}) on guest ${JSON.stringify(guest)} (host ${host}): ${detail}` +
        (result ? `: exit code ${result.exitCode}${output ? `, output:\n${tail(output, 1000)}` : ""}` : ""),
      cause === undefined ? undefined : { cause },
    );
    this.name = "GuestTaskError";
    this.guest = guest;
    this.host = host;
    this.index = index;
    this.task = task;
    if (result) this.exitCode = result.exitCode;
    this.output = output;
  }
}

/**
 * @internal A task in a line, without its secrets (passwords are never shown).
 *
 * @param task the task
 * @returns e.g. `addAccount daniel`, `copyContent /srv/flag.txt -> /root`
 * @example
 * ```ts
 * import { describeTask } from "./report.ts";
 * console.log(describeTask({ type: "executeProgram", program: "/opt/setup.sh", interpreter: "sh" }));
 * // executeProgram sh /opt/setup.sh
 * ```
 */
export function describeTask(task: GuestTask): string {
  switch (task.type) {
    case "addAccount":
      return `addAccount ${task.account}`;
    case "modifyAccount":
      return `modifyAccount ${task.account}${task.newAccount ? ` -> ${task.newAccount}` : ""}${
        task.newPassword !== undefined ? " (new password)" : ""
      }`;
    case "copyContent":
      return `copyContent ${task.src} -> ${task.dst}${task.mode ? ` (mode ${task.mode})` : ""}`;
    case "executeProgram":
      return `executeProgram ${task.interpreter ? `${task.interpreter} ` : ""}${task.program}${
        task.args ? ` ${task.args}` : ""
      }`;
    case "installPackage":
      return `installPackage ${task.name}${task.version ? ` ${task.version}` : ""}`;
  }
}

/** @internal The last `max` characters of `text`. */
export function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * @internal Quotes a word for /bin/sh (single quotes; an inner `'` as `'\''`).
 *
 * @param text any text
 * @returns the quoted word
 * @example
 * ```ts
 * import { shellQuote } from "./report.ts";
 * console.log(shellQuote("it's")); // 'it'\''s'
 * ```
 */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** @internal The SHA-256 of `data`, in hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @internal The marker file that records a successful {@link ExecuteProgramTask} in a guest: named by a hash
 * of the task, so a changed task runs again.
 *
 * @param task the task
 * @returns the marker's absolute path in the guest
 * @example
 * ```ts
 * import { taskMarker } from "./report.ts";
 * console.log((await taskMarker({ type: "executeProgram", program: "/opt/a.sh" })).startsWith("/var/lib/"));
 * // true
 * ```
 */
export async function taskMarker(task: GuestTask): Promise<string> {
  const key = JSON.stringify(task, Object.keys(task).sort());
  return `${TASK_MARKER_DIR}/${(await sha256Hex(key)).slice(0, 20)}`;
}
