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
 * import { describeTask } from "@deno-libvirt/deno-libvirt/range";
 * console.log(describeTask({ type: "addAccount", account: "daniel", password: "secret" }));
 * // addAccount daniel
 * ```
 *
 * @module
 */
import type { Domain } from "../domain.ts";
import { lookupDomain } from "../domain.ts";
import { AgentUnresponsiveError } from "../errors.ts";
import type { PoolRegistry } from "../pool.ts";
import { guestExec, type GuestExecResult, guestFileWrite, qemuAgentCommand } from "../qemu.ts";
import type { ExpandedGuest, GuestTask, PackageManager, Range } from "./description.ts";
import { shaCrypt, verifyShadowHash } from "./_crypt.ts";
import type { Steps } from "./_steps.ts";

/** Where a guest records the programs that ran successfully (one empty file per task). */
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
 * A task in a line, without its secrets (passwords are never shown).
 *
 * @param task the task
 * @returns e.g. `addAccount daniel`, `copyContent /srv/flag.txt -> /root`
 * @example
 * ```ts
 * import { describeTask } from "@deno-libvirt/deno-libvirt/range";
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

function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * Quotes a word for /bin/sh (single quotes; an inner `'` as `'\''`).
 *
 * @param text any text
 * @returns the quoted word
 * @example
 * ```ts
 * import { shellQuote } from "@deno-libvirt/deno-libvirt/range";
 * console.log(shellQuote("it's")); // 'it'\''s'
 * ```
 */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The marker file that records a successful {@link ExecuteProgramTask} in a guest: named by a hash
 * of the task, so a changed task runs again.
 *
 * @param task the task
 * @returns the marker's absolute path in the guest
 * @example
 * ```ts
 * import { taskMarker } from "@deno-libvirt/deno-libvirt/range";
 * console.log((await taskMarker({ type: "executeProgram", program: "/opt/a.sh" })).startsWith("/var/lib/"));
 * // true
 * ```
 */
export async function taskMarker(task: GuestTask): Promise<string> {
  const key = JSON.stringify(task, Object.keys(task).sort());
  return `${TASK_MARKER_DIR}/${(await sha256Hex(key)).slice(0, 20)}`;
}

const MANAGERS: readonly PackageManager[] = ["apt-get", "dnf", "yum", "apk", "zypper"];

interface Context {
  dom: Domain;
  guest: ExpandedGuest;
  index: number;
  label: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

function fail(ctx: Context, detail: string, result?: GuestExecResult, cause?: unknown): never {
  throw new GuestTaskError(
    ctx.guest.name,
    ctx.guest.hostId,
    ctx.index,
    ctx.label,
    detail,
    result ? { exitCode: result.exitCode, output: joined(result) } : undefined,
    cause,
  );
}

function joined(r: GuestExecResult): string {
  return tail([r.stdout, r.stderr].map((s) => s.trimEnd()).filter((s) => s !== "").join("\n"), 4000);
}

/** Runs a /bin/sh script in the guest with positional arguments ($1, $2, ...). */
async function sh(ctx: Context, script: string, args: string[] = []): Promise<GuestExecResult> {
  try {
    return await guestExec(ctx.dom, "/bin/sh", ["-c", script, "sh", ...args], {
      timeoutMs: ctx.timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (error) {
    if (ctx.signal?.aborted) throw ctx.signal.reason;
    fail(ctx, `the guest agent could not run /bin/sh: ${(error as Error).message}`, undefined, error);
  }
}

/** Runs a script that must succeed. */
async function must(
  ctx: Context,
  what: string,
  script: string,
  args: string[] = [],
): Promise<GuestExecResult> {
  const r = await sh(ctx, script, args);
  if (r.exitCode !== 0) fail(ctx, `${what} failed`, r);
  return r;
}

const SALT = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Sets an account's password unless /etc/shadow holds it already (a `$5$`/`$6$` hash is compared
 * here). It is set as a SHA-512 crypt hash made here (virDomainSetUserPassword with `encrypted`), so
 * the next `up` can compare it whatever the guest's default scheme.
 *
 * @returns whether the password was set
 */
async function setPassword(ctx: Context, account: string, password: string): Promise<boolean> {
  const current = await sh(
    ctx,
    'while IFS=: read -r n h rest; do [ "$n" = "$1" ] && { printf "%s\\n" "$h"; exit 0; }; done < /etc/shadow; exit 1',
    [account],
  );
  const hash = current.exitCode === 0 ? current.stdout.trim() : "";
  if (hash && await verifyShadowHash(password, hash) === true) return false;
  const salt = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => SALT[b & 63]).join("");
  try {
    await ctx.dom.setUserPassword(account, await shaCrypt(password, `$6$${salt}`), { encrypted: true });
  } catch (error) {
    fail(
      ctx,
      `cannot set the password of ${account} (virDomainSetUserPassword): ${(error as Error).message}`,
      undefined,
      error,
    );
  }
  return true;
}

const EXISTS = 'id -u "$1" >/dev/null 2>&1';

type Outcome = Pick<GuestTaskReport, "status" | "reason" | "exitCode" | "output">;

async function addAccount(ctx: Context, task: Extract<GuestTask, { type: "addAccount" }>): Promise<Outcome> {
  const exists = (await sh(ctx, EXISTS, [task.account])).exitCode === 0;
  // created by an earlier up and renamed since (a modifyAccount after it): not created again
  const marker = await taskMarker({ type: "addAccount", account: task.account, password: "" });
  if (!exists && (await sh(ctx, '[ -e "$1" ]', [marker])).exitCode === 0) {
    return {
      status: "kept",
      reason: `created on an earlier up and renamed or removed since (marker ${marker})`,
    };
  }
  let result: GuestExecResult | undefined;
  if (!exists) {
    result = await must(
      ctx,
      `useradd ${task.account}`,
      'useradd -m -s /bin/sh "$1" && mkdir -p "$(dirname "$2")" && : > "$2"',
      [task.account, marker],
    );
  }
  if (task.fullName !== undefined) {
    // the GECOS field: usermod -c where it exists, else edit /etc/passwd (minimal images' usermod lacks -c)
    await must(
      ctx,
      `setting the full name of ${task.account}`,
      'usermod -c "$2" "$1" 2>/dev/null || { f=$(printf %s "$2" | sed "s/[\\\\/&|]/\\\\&/g"); ' +
        'sed -i "s|^\\($1:[^:]*:[^:]*:[^:]*:\\)[^:]*:|\\1$f:|" /etc/passwd; }',
      [task.account, task.fullName],
    );
  }
  const changed = await setPassword(ctx, task.account, task.password);
  if (!exists) {
    return { status: "done", reason: "account created, password set", exitCode: 0, output: joined(result!) };
  }
  return changed
    ? { status: "done", reason: "the account exists; its password was changed" }
    : { status: "kept", reason: "the account exists with this password" };
}

async function modifyAccount(
  ctx: Context,
  task: Extract<GuestTask, { type: "modifyAccount" }>,
): Promise<Outcome> {
  const oldExists = (await sh(ctx, EXISTS, [task.account])).exitCode === 0;
  let name = task.account;
  let renamed = false;
  if (task.newAccount !== undefined && task.newAccount !== task.account) {
    const newExists = (await sh(ctx, EXISTS, [task.newAccount])).exitCode === 0;
    if (oldExists && newExists) {
      fail(ctx, `both ${task.account} and ${task.newAccount} exist: rename refused`);
    }
    if (!oldExists && !newExists) fail(ctx, `there is no account ${task.account} (nor ${task.newAccount})`);
    if (oldExists) {
      await must(ctx, `usermod -l ${task.newAccount} ${task.account}`, 'usermod -l "$2" "$1"', [
        task.account,
        task.newAccount,
      ]);
      renamed = true;
    }
    name = task.newAccount;
  } else if (!oldExists) {
    fail(ctx, `there is no account ${task.account}`);
  }
  const passwordSet = task.newPassword !== undefined && await setPassword(ctx, name, task.newPassword);
  const what = [
    renamed ? `renamed to ${name}` : task.newAccount ? `already renamed to ${name}` : "",
    task.newPassword === undefined ? "" : passwordSet ? "password set" : "the password is set already",
  ].filter(Boolean).join(", ");
  return { status: renamed || passwordSet ? "done" : "kept", reason: what };
}

/** The files under a source path: [path relative to the copy's root, absolute local path, mode]. */
async function localFiles(src: string): Promise<{ rel: string; path: string; mode: number }[]> {
  const base = src.replace(/\/+$/, "").split("/").pop() || "root";
  const info = await Deno.stat(src);
  if (info.isFile) return [{ rel: base, path: src, mode: (info.mode ?? 0o644) & 0o7777 }];
  if (!info.isDirectory) throw new Error(`${src} is neither a file nor a directory`);
  const out: { rel: string; path: string; mode: number }[] = [];
  // the real paths of the directories above: a symbolic link back to one of them is a loop
  const walk = async (dir: string, rel: string, above: string[] = []) => {
    const real = await Deno.realPath(dir);
    if (above.includes(real)) throw new Error(`${dir} leads back to ${real} (a symbolic link loop)`);
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      const st = await Deno.stat(path);
      if (st.isDirectory) await walk(path, `${rel}/${e.name}`, [...above, real]);
      else if (st.isFile) out.push({ rel: `${rel}/${e.name}`, path, mode: (st.mode ?? 0o644) & 0o7777 });
    }
  };
  await walk(src.replace(/\/+$/, ""), base);
  return out;
}

async function copyContent(
  ctx: Context,
  task: Extract<GuestTask, { type: "copyContent" }>,
): Promise<Outcome> {
  let files;
  try {
    files = await localFiles(task.src);
  } catch (error) {
    fail(ctx, `cannot read the source ${task.src}: ${(error as Error).message}`, undefined, error);
  }
  const dst = task.dst.replace(/\/+$/, "") || "";
  const targets = files.map((f) => ({
    ...f,
    guest: `${dst}/${f.rel}`,
    mode: task.mode !== undefined ? parseInt(task.mode, 8) : f.mode,
  }));
  // one call for what the guest has: "MODE HASH" per file, "- -" when missing
  const state = await must(
    ctx,
    "reading the guest's copies",
    'for f in "$@"; do if [ -f "$f" ]; then printf "%s %s\\n" "$(stat -c %a "$f")" "$(sha256sum "$f" | cut -d" " -f1)"; else echo "- -"; fi; done',
    targets.map((t) => t.guest),
  );
  const have = state.stdout.trim().split("\n");
  const changed: typeof targets = [];
  const datas = new Map<string, Uint8Array>();
  for (const [i, t] of targets.entries()) {
    const data = await Deno.readFile(t.path);
    const [mode, hash] = (have[i] ?? "- -").split(" ");
    if (hash === await sha256Hex(data) && parseInt(mode, 8) === t.mode) continue;
    changed.push(t);
    datas.set(t.guest, data);
  }
  if (changed.length === 0) {
    return {
      status: "kept",
      reason: `${targets.length} file(s) in ${dst} have the content and mode already`,
    };
  }
  const dirs = [...new Set(changed.map((t) => t.guest.slice(0, t.guest.lastIndexOf("/")) || "/"))];
  await must(ctx, `mkdir -p ${dirs.join(" ")}`, 'mkdir -p "$@"', dirs);
  for (const t of changed) {
    try {
      await guestFileWrite(ctx.dom, t.guest, datas.get(t.guest)!);
    } catch (error) {
      fail(ctx, `cannot write ${t.guest} (guest-file-write): ${(error as Error).message}`, undefined, error);
    }
  }
  const modes = changed.flatMap((t) => [t.mode.toString(8).padStart(4, "0"), t.guest]);
  await must(ctx, "chmod", 'while [ $# -gt 1 ]; do chmod "$1" "$2" || exit 1; shift 2; done', modes);
  return {
    status: "done",
    reason: `wrote ${changed.length} of ${targets.length} file(s): ${
      changed.slice(0, 5).map((t) => `${t.guest} (${t.mode.toString(8).padStart(4, "0")})`).join(", ")
    }${changed.length > 5 ? ", ..." : ""}`,
  };
}

async function executeProgram(
  ctx: Context,
  task: Extract<GuestTask, { type: "executeProgram" }>,
): Promise<Outcome> {
  const marker = await taskMarker(task);
  if ((await sh(ctx, '[ -e "$1" ]', [marker])).exitCode === 0) {
    return { status: "kept", reason: `ran successfully on an earlier up (marker ${marker})` };
  }
  const command = `${task.interpreter ? `${shellQuote(task.interpreter)} ` : ""}${shellQuote(task.program)}${
    task.args ? ` ${task.args}` : ""
  }`;
  // the program's exit code is the script's; the marker is written only after a success
  const r = await sh(
    ctx,
    `(${command}); rc=$?; if [ $rc -eq 0 ]; then mkdir -p "$(dirname "$1")" && : > "$1"; fi; exit $rc`,
    [marker],
  );
  if (r.exitCode !== 0) fail(ctx, "the program failed", r);
  return { status: "done", exitCode: 0, output: joined(r), reason: `ran: ${command}` };
}

async function installPackage(
  ctx: Context,
  task: Extract<GuestTask, { type: "installPackage" }>,
): Promise<Outcome> {
  const order = task.manager ? [task.manager, ...MANAGERS.filter((m) => m !== task.manager)] : MANAGERS;
  const found = await sh(
    ctx,
    'for m in "$@"; do if command -v "$m" >/dev/null 2>&1; then echo "$m"; exit 0; fi; done; exit 1',
    [...order],
  );
  const manager = found.stdout.trim() as PackageManager;
  if (found.exitCode !== 0 || !MANAGERS.includes(manager)) {
    return {
      status: "skipped",
      reason: `the guest has no package manager (looked for ${order.join(", ")} with command -v)`,
    };
  }
  const v = task.version;
  const spec = {
    "apt-get": v ? `${task.name}=${v}` : task.name,
    dnf: v ? `${task.name}-${v}` : task.name,
    yum: v ? `${task.name}-${v}` : task.name,
    apk: v ? `${task.name}=${v}` : task.name,
    zypper: v ? `${task.name}=${v}` : task.name,
  }[manager];
  const check = {
    "apt-get": v
      ? `[ "$(dpkg-query -W -f='\${Status} \${Version}' "$1" 2>/dev/null)" = "install ok installed $2" ]`
      : `dpkg-query -W -f='\${Status}' "$1" 2>/dev/null | grep -q "install ok installed"`,
    dnf: 'rpm -q "$3" >/dev/null 2>&1',
    yum: 'rpm -q "$3" >/dev/null 2>&1',
    apk: 'apk info -e "$1" >/dev/null 2>&1',
    zypper: 'rpm -q "$3" >/dev/null 2>&1',
  }[manager];
  const args = [task.name, v ?? "", spec];
  if ((await sh(ctx, check, args)).exitCode === 0) {
    return { status: "kept", reason: `${spec} is installed (${manager})` };
  }
  const install = {
    "apt-get":
      'export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q "$3" || { apt-get update -q && apt-get install -y -q "$3"; }',
    dnf: 'dnf install -y "$3"',
    yum: 'yum install -y "$3"',
    apk: 'apk add "$3" || { apk update && apk add "$3"; }',
    zypper: 'zypper --non-interactive install "$3"',
  }[manager];
  const r = await sh(ctx, install, args);
  if (r.exitCode !== 0) fail(ctx, `${manager} could not install ${spec}`, r);
  return {
    status: "done",
    exitCode: 0,
    output: joined(r),
    reason: `installed ${spec} with ${manager}${
      task.manager && task.manager !== manager ? ` (the guest has no ${task.manager})` : ""
    }`,
  };
}

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
      await qemuAgentCommand(dom, { execute: "guest-ping" }, { timeoutSeconds: 5 });
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
    await new Promise((resolve) => setTimeout(resolve, pause));
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
