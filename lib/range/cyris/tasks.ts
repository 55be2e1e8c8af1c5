/**
 * @internal CyRIS `tasks` of a base image (guest_settings) into our guest tasks: add_account,
 * modify_account, install_package, copy_content and execute_program are carried out by `range up`;
 * the emulation tasks and firewall_rules are named in a note with their values (not carried out).
 *
 * @module
 */
import type { Checker, Obj, Path } from "../description/checker.ts";
import type { GuestTask, PackageManager } from "../description/types.ts";

/** Where a translated value came from: the CyRIS field's path, and our field name -> CyRIS field name. */
export interface Origin {
  path: Path;
  fields: Record<string, string>;
}

/** A CyRIS task kind: its fields (required first), and how it translates (or why it does not). */
interface Kind {
  required: string[];
  optional: string[];
  /** Our task type and field -> CyRIS field; absent: not carried out. */
  to?: { type: GuestTask["type"]; fields: Record<string, string> };
  /** Why it is not carried out. */
  refused?: string;
}

const KINDS: Record<string, Kind> = {
  add_account: {
    required: ["account", "passwd"],
    optional: ["full_name"],
    to: { type: "addAccount", fields: { account: "account", password: "passwd", fullName: "full_name" } },
  },
  modify_account: {
    required: ["account"],
    optional: ["new_account", "new_passwd"],
    to: {
      type: "modifyAccount",
      fields: { account: "account", newAccount: "new_account", newPassword: "new_passwd" },
    },
  },
  install_package: {
    required: ["name"],
    optional: ["package_manager", "version"],
    to: { type: "installPackage", fields: { name: "name", version: "version", manager: "package_manager" } },
  },
  copy_content: {
    required: ["src", "dst"],
    optional: [],
    to: { type: "copyContent", fields: { src: "src", dst: "dst" } },
  },
  execute_program: {
    required: ["program"],
    optional: ["interpreter", "args", "execute_time", "id"],
    to: { type: "executeProgram", fields: { program: "program", interpreter: "interpreter", args: "args" } },
  },
  emulate_attack: {
    required: ["attack_type"],
    optional: ["target_account", "attempt_number", "attack_time"],
    refused: "attack emulation is CyRIS's own tooling (an SSH dictionary attack from the host)",
  },
  emulate_traffic_capture_file: {
    required: ["format", "file_name", "attack_type"],
    optional: ["attack_source", "noise_level"],
    refused: "the pcap files are made by CyRIS's own generators",
  },
  emulate_malware: {
    required: ["name", "mode"],
    optional: ["cpu_utilization", "port"],
    refused: "CyRIS's dummy malware binary is not part of this range",
  },
  firewall_rules: {
    required: ["rule"],
    optional: [],
    refused: "the rule files are CyRIS iptables templates: copy them with copy_content and load them " +
      "with execute_program (iptables-restore) instead",
  },
};

const MANAGER: Record<string, PackageManager> = {
  "apt-get": "apt-get",
  apt: "apt-get",
  dnf: "dnf",
  yum: "yum",
  apk: "apk",
  zypper: "zypper",
};

/** Scalars CyRIS reads as text: numbers and booleans are written without quotes in its examples. */
function text(value: unknown): unknown {
  return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
}

/**
 * Translates one base image's tasks. Fields are checked (unknown ones are located errors); values
 * are carried as written, so the range validator's findings map back to the CyRIS field.
 *
 * @returns the tasks, each with the CyRIS place it came from
 */
export function cyrisTasks(
  c: Checker,
  value: unknown,
  p: Path,
  guestId: string,
  notes: string[],
): { task: Record<string, unknown>; origin: Origin }[] {
  const out: { task: Record<string, unknown>; origin: Origin }[] = [];
  c.list(value, p, false).forEach((entry, j) => {
    const ep = [...p, j];
    const o = c.object(entry, ep, Object.keys(KINDS), []);
    if (!o) return;
    const keys = Object.keys(o);
    if (keys.length !== 1) {
      c.add(ep, `must name one task kind (${Object.keys(KINDS).join(", ")}), got ${keys.length}`);
      return;
    }
    const kind = keys[0];
    const spec = KINDS[kind];
    if (!spec) return; // recorded by c.object
    c.list(o[kind], [...ep, kind], true, `${kind} entry`).forEach((item, k) => {
      const ip = [...ep, kind, k];
      const fields = c.object(item, ip, [...spec.required, ...spec.optional], spec.required) as
        | Obj
        | undefined;
      if (!fields) return;
      if (!spec.to) {
        notes.push(
          `guest ${guestId}: task ${kind} ${c.q(fields)} is not carried out: ${spec.refused}`,
        );
        return;
      }
      const task: Record<string, unknown> = { type: spec.to.type };
      for (const [ours, theirs] of Object.entries(spec.to.fields)) {
        if (fields[theirs] !== undefined) task[ours] = text(fields[theirs]);
      }
      if (kind === "install_package" && fields.package_manager !== undefined) {
        const m = MANAGER[String(fields.package_manager)];
        if (m) task.manager = m;
        else delete task.manager;
        notes.push(
          `guest ${guestId}: package_manager ${c.q(fields.package_manager)} ${
            m
              ? "is tried first; the guest's own manager is used when it lacks it"
              : "is not one range up knows"
          } (apt-get, dnf, yum, apk, zypper are looked for with command -v; none: the task is skipped)`,
        );
      }
      if (kind === "execute_program") {
        if (fields.execute_time !== undefined) {
          notes.push(
            `guest ${guestId}: execute_program ${c.q(fields.program)} execute_time ${
              c.q(fields.execute_time)
            }: every task runs in each clone once it runs (there is no base-image phase)`,
          );
        }
        if (fields.id !== undefined) {
          notes.push(
            `guest ${guestId}: execute_program ${c.q(fields.program)} id ${c.q(fields.id)} is not used`,
          );
        }
      }
      if (kind === "copy_content") {
        notes.push(
          `guest ${guestId}: copy_content src ${
            c.q(fields.src)
          } is read on the machine that runs range up (CyRIS: the host)`,
        );
      }
      out.push({ task, origin: { path: ip, fields: spec.to.fields } });
    });
  });
  return out;
}
