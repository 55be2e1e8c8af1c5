/**
 * @internal A guest kind's `tasks`: each a mapping with a `type` and that type's fields, checked like
 * the rest of the description (unknown fields with a "did you mean", located problems).
 *
 * @module
 */
import type { Checker, Path } from "./checker.ts";
import type { GuestTask, PackageManager } from "./types.ts";

/** The fields of each task type (the first ones required). */
const TASK_FIELDS: Record<GuestTask["type"], { required: string[]; optional: string[] }> = {
  addAccount: { required: ["account", "password"], optional: ["fullName"] },
  modifyAccount: { required: ["account"], optional: ["newAccount", "newPassword"] },
  copyContent: { required: ["src", "dst"], optional: ["mode"] },
  executeProgram: { required: ["program"], optional: ["interpreter", "args"] },
  installPackage: { required: ["name"], optional: ["version", "manager"] },
};

/** The task types, in the order docs/range.md lists them. */
export const TASK_TYPES = Object.keys(TASK_FIELDS) as GuestTask["type"][];

/** The package managers a task may name. */
export const PACKAGE_MANAGERS: readonly PackageManager[] = ["apt-get", "dnf", "yum", "apk", "zypper"];

/** What useradd accepts on every distribution (no leading digit, "-" or "."), at most 32 characters. */
const ACCOUNT = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const INTERPRETER = /^[A-Za-z0-9_./+-]+$/;
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._:@-]*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9+._:~-]*$/;
const MODE = /^0?[0-7]{3}$/;

function account(c: Checker, value: unknown, path: Path): string | undefined {
  const text = c.string(value, path);
  if (text !== undefined && !ACCOUNT.test(text)) {
    c.add(
      path,
      `${c.q(text)} is not an account name: use 1-32 letters, digits, "_", "-" or ".", ` +
        'starting with a letter or "_"',
    );
    return undefined;
  }
  return text;
}

function pattern(
  c: Checker,
  value: unknown,
  path: Path,
  re: RegExp,
  what: string,
): string | undefined {
  const text = c.string(value, path);
  if (text !== undefined && !re.test(text)) {
    c.add(path, `${c.q(text)} is not ${what}`);
    return undefined;
  }
  return text;
}

function checkTask(c: Checker, value: unknown, p: Path): GuestTask | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    c.add(p, `must be a mapping with a type (${TASK_TYPES.join(", ")}), got ${c.q(value)}`);
    return undefined;
  }
  const type = c.oneOf((value as Record<string, unknown>).type, [...p, "type"], TASK_TYPES);
  if ((value as Record<string, unknown>).type === undefined) {
    c.add([...p, "type"], `is required (missing): one of ${TASK_TYPES.join(", ")}`);
  }
  if (type === undefined) return undefined;
  const fields = TASK_FIELDS[type];
  const o = c.object(value, p, ["type", ...fields.required, ...fields.optional], fields.required);
  if (!o) return undefined;
  const before = c.issues.length + c.omitted;
  const opt = <T>(key: string, v: T | undefined) => v === undefined ? {} : { [key]: v };
  let task: GuestTask | undefined;
  switch (type) {
    case "addAccount": {
      const name = account(c, o.account, [...p, "account"]);
      const password = c.string(o.password, [...p, "password"]);
      const fullName = pattern(c, o.fullName, [...p, "fullName"], /^[^:]*$/, 'a full name (no ":")');
      if (name !== undefined && password !== undefined) {
        task = { type, account: name, password, ...opt("fullName", fullName) };
      }
      break;
    }
    case "modifyAccount": {
      const name = account(c, o.account, [...p, "account"]);
      const newAccount = account(c, o.newAccount, [...p, "newAccount"]);
      const newPassword = c.string(o.newPassword, [...p, "newPassword"]);
      if (o.newAccount === undefined && o.newPassword === undefined) {
        c.add(p, "says nothing to change: give newAccount, newPassword or both");
      }
      if (name !== undefined) {
        task = { type, account: name, ...opt("newAccount", newAccount), ...opt("newPassword", newPassword) };
      }
      break;
    }
    case "copyContent": {
      const src = c.absolutePath(o.src, [...p, "src"]);
      const dst = c.absolutePath(o.dst, [...p, "dst"]);
      let mode: string | undefined;
      if (typeof o.mode === "number") {
        c.add([...p, "mode"], `write the mode as a quoted octal string, e.g. "0644", got ${c.q(o.mode)}`);
      } else {
        mode = pattern(c, o.mode, [...p, "mode"], MODE, 'an octal mode (e.g. "0644")');
      }
      if (src !== undefined && dst !== undefined) {
        task = { type, src, dst, ...opt("mode", mode === undefined ? undefined : mode.padStart(4, "0")) };
      }
      break;
    }
    case "executeProgram": {
      const program = c.absolutePath(o.program, [...p, "program"]);
      const interpreter = pattern(
        c,
        o.interpreter,
        [...p, "interpreter"],
        INTERPRETER,
        'an interpreter (a command name or path without spaces, e.g. "bash")',
      );
      const args = c.string(o.args, [...p, "args"], true);
      if (program !== undefined) {
        task = { type, program, ...opt("interpreter", interpreter), ...opt("args", args) };
      }
      break;
    }
    case "installPackage": {
      const name = pattern(c, o.name, [...p, "name"], PACKAGE, "a package name");
      const version = pattern(c, o.version, [...p, "version"], VERSION, "a package version");
      const manager = c.oneOf(o.manager, [...p, "manager"], PACKAGE_MANAGERS);
      if (name !== undefined) {
        task = { type, name, ...opt("version", version), ...opt("manager", manager) };
      }
      break;
    }
  }
  return c.issues.length + c.omitted > before ? undefined : task;
}

/**
 * Checks a guest kind's `tasks`.
 *
 * @returns the tasks, or undefined (problems recorded) when any is wrong
 */
export function checkTasks(c: Checker, value: unknown, p: Path): GuestTask[] | undefined {
  const list = c.list(value, p, false);
  const tasks = list.map((t, j) => checkTask(c, t, [...p, j]));
  return tasks.includes(undefined) ? undefined : tasks as GuestTask[];
}
