/**
 * Guest tasks, one function per kind (addAccount, modifyAccount, copyContent, executeProgram,
 * installPackage), each converging through the guest agent (lib/range/tasks.ts runs them).
 *
 * @module
 */
import type { Domain } from "../../domain.ts";
import { guestExec, type GuestExecResult, guestFileWrite } from "../../qemu.ts";
import type { ExpandedGuest, GuestTask, PackageManager } from "../description.ts";
import { shaCrypt, verifyShadowHash } from "../_crypt.ts";
import { GuestTaskError, type GuestTaskReport, sha256Hex, shellQuote, tail, taskMarker } from "./report.ts";

const MANAGERS: readonly PackageManager[] = ["apt-get", "dnf", "yum", "apk", "zypper"];

export interface Context {
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

export type Outcome = Pick<GuestTaskReport, "status" | "reason" | "exitCode" | "output">;

export async function addAccount(
  ctx: Context,
  task: Extract<GuestTask, { type: "addAccount" }>,
): Promise<Outcome> {
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

export async function modifyAccount(
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

export async function copyContent(
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

export async function executeProgram(
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

export async function installPackage(
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
