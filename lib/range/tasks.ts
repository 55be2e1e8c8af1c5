/**
 * Guest tasks: what `range up` does inside each guest once it runs (accounts, files, programs,
 * packages), through the QEMU guest agent only (guest-exec, guest-file-*, virDomainSetUserPassword),
 * so it works on isolated networks and needs no SSH.
 *
 * Every task converges, so a second `up` changes nothing: an account that exists is kept (its password
 * is set again), a file whose content and mode match is kept, a program that succeeded once is not run
 * again (a marker in `/var/lib/deno_libvirt/tasks/` records it), an installed package is kept. Each
 * task is reported per guest with its status, exit code and output; a failed task is a
 * {@link GuestTaskError} naming the guest, the task and the output.
 *
 * On the test driver (`test:///default`), which has no guest agent, every task is reported as
 * "skipped" with that reason: nothing is dropped silently. A guest without a package manager reports
 * its `installPackage` tasks as "skipped", naming the managers looked for.
 *
 * @example
 * ```ts
 * import { rangePlaybook, validateRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = validateRange({
 *   name: "tk",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{ id: "pc", memory: 64, agent: true, tasks: [{ type: "addAccount", account: "daniel", password: "s" }] }],
 * });
 * // the tasks as `up` applies them, written as an Ansible playbook (passwords never shown)
 * console.log((await rangePlaybook(range)).includes("daniel")); // true
 * ```
 *
 * @module
 */
import { sleep } from "../_async.ts";
import type { Domain } from "../domain.ts";
import { lookupDomain } from "../domain.ts";
import { AgentUnresponsiveError } from "../errors.ts";
import type { PoolRegistry } from "../pool.ts";
import { qemuAgentCommand } from "../qemu.ts";
import type { ExpandedGuest, GuestTask, Range } from "./description.ts";
import type { Steps } from "./_steps.ts";
import {
  addAccount,
  type Context,
  copyContent,
  executeProgram,
  installPackage,
  modifyAccount,
  type Outcome,
} from "./tasks/kinds.ts";
import { describeTask, GuestTaskError, type GuestTaskOptions, type GuestTaskReport } from "./tasks/report.ts";

export {
  describeTask,
  GuestTaskError,
  type GuestTaskOptions,
  type GuestTaskReport,
  shellQuote,
  TASK_MARKER_DIR,
  taskMarker,
} from "./tasks/report.ts";

/** Waits until the guest agent answers guest-ping (it starts some time after the guest boots). */
async function waitForAgent(
  dom: Domain,
  guest: ExpandedGuest,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let pause = 50;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutMs: 5_000 });
      return;
    } catch (error) {
      if (!(error instanceof AgentUnresponsiveError) || performance.now() >= deadline) {
        throw new GuestTaskError(
          guest.name,
          guest.hostId,
          0,
          "waiting for the guest agent",
          error instanceof AgentUnresponsiveError
            ? `the guest agent did not answer within ${timeoutMs} ms (is qemu-guest-agent running in the image?)`
            : `the guest agent cannot be used: ${(error as Error).message}`,
          undefined,
          error,
        );
      }
    }
    await sleep(pause);
    pause = Math.min(1000, pause * 2);
  }
}

/**
 * Runs a guest's tasks in order through its guest agent, stopping at the first that fails. On the
 * test driver (guest type "test"), which has no agent, every task is reported "skipped".
 *
 * @param dom the guest's running domain
 * @param guest the guest (its `tasks`)
 * @param options agentTimeoutMs, taskTimeoutMs
 * @returns one report per task
 * @throws {GuestTaskError} naming the guest, the task and the output of the first task that failed
 * @example
 * ```ts
 * import type { Domain } from "@deno-libvirt/deno-libvirt";
 * import type { ExpandedGuest } from "@deno-libvirt/deno-libvirt/range";
 * import { runGuestTasks } from "@deno-libvirt/deno-libvirt/range";
 * async function apply(dom: Domain, guest: ExpandedGuest): Promise<void> {
 *   for (const r of await runGuestTasks(dom, guest, { agentTimeoutMs: 60_000 })) {
 *     console.log(r.guest, r.task, r.status, r.reason ?? "");
 *   }
 * }
 * console.log(typeof apply); // "function"
 * ```
 */
export async function runGuestTasks(
  dom: Domain,
  guest: ExpandedGuest,
  options: GuestTaskOptions = {},
): Promise<GuestTaskReport[]> {
  const tasks = guest.tasks ?? [];
  const reports: GuestTaskReport[] = [];
  const base = (task: GuestTask, index: number) => ({
    guest: guest.name,
    host: guest.hostId,
    index,
    task: describeTask(task),
    type: task.type,
  });
  if (guest.type === "test") {
    return tasks.map((task, index) => ({
      ...base(task, index),
      status: "skipped",
      reason: "the test driver has no guest agent: tasks are carried out on QEMU guests only",
      tookMs: 0,
    }));
  }
  if (tasks.length === 0) return reports;
  await waitForAgent(dom, guest, options.agentTimeoutMs ?? 120_000, options.signal);
  for (const [index, task] of tasks.entries()) {
    const t0 = performance.now();
    const ctx: Context = {
      dom,
      guest,
      index,
      label: describeTask(task),
      timeoutMs: options.taskTimeoutMs ?? 600_000,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    options.signal?.throwIfAborted();
    let outcome: Outcome;
    switch (task.type) {
      case "addAccount":
        outcome = await addAccount(ctx, task);
        break;
      case "modifyAccount":
        outcome = await modifyAccount(ctx, task);
        break;
      case "copyContent":
        outcome = await copyContent(ctx, task);
        break;
      case "executeProgram":
        outcome = await executeProgram(ctx, task);
        break;
      case "installPackage":
        outcome = await installPackage(ctx, task);
        break;
    }
    const clean = Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined && v !== ""));
    reports.push(
      { ...base(task, index), ...clean, tookMs: Math.round(performance.now() - t0) } as GuestTaskReport,
    );
  }
  return reports;
}

/**
 * @internal The "tasks" phase of `up`: every guest with tasks, in parallel (bounded like the other
 * phases), each on its own pooled connection.
 */
export async function applyRangeTasks(
  range: Range,
  registry: PoolRegistry,
  steps: Steps,
  options: GuestTaskOptions & { concurrency?: number },
): Promise<GuestTaskReport[]> {
  const uriOf = new Map(range.description.hosts.map((h) => [h.id, h.uri]));
  const limit = (options.concurrency ?? 8) * Math.max(1, range.description.hosts.length);
  const guests = range.guests.filter((g) => (g.tasks ?? []).length > 0);
  const reports = new Map<string, GuestTaskReport[]>();
  if (guests.length === 0) return [];
  for (const g of guests) steps.notDone.add(`tasks of ${JSON.stringify(g.name)}`);
  await steps.phase("tasks", guests, (g) => ({ target: g.name, host: g.hostId }), async (g) => {
    await steps.act("tasks", g.name, g.hostId);
    const done = await registry.get(uriOf.get(g.hostId)!).use(async (conn) => {
      using dom = await lookupDomain(conn, g.name);
      return await runGuestTasks(dom, g, {
        ...options,
        ...(steps.hooks.signal ? { signal: steps.hooks.signal } : {}),
      });
    });
    reports.set(g.name, done);
    steps.mark(`tasks of ${JSON.stringify(g.name)}`);
    return done.every((r) => r.status === "skipped")
      ? "skipped"
      : done.every((r) => r.status !== "done")
      ? "kept"
      : "ok";
  }, limit);
  return guests.flatMap((g) => reports.get(g.name) ?? []);
}
