/**
 * The guests' tasks as an Ansible playbook, for those who would rather run Ansible (over SSH, with
 * the inventory from `range.ts inventory`) than let `range up` apply them through the guest agent.
 *
 * One play per guest kind with tasks, its hosts the kind's guests by name. Each task maps to the
 * module that converges the same way `range up` does: `ansible.builtin.user` (with a salt derived
 * from the range, guest kind and account, so a second run changes nothing), `ansible.builtin.copy`
 * (`mode: preserve` unless the task gives one), `ansible.builtin.shell` with `creates:` on the same
 * marker file `range up` writes (a program that ran once, either way, is not run again), and
 * `ansible.builtin.package`. Values are passed to Jinja as literals (`{% raw %}`), never templated.
 *
 * @example
 * ```ts
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * import { rangePlaybook } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: lab
 * hosts: [{ id: h, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * guests:
 *   - id: pc
 *     memory: 64
 *     agent: true
 *     tasks: [{ type: addAccount, account: daniel, password: theAnswer }]
 * `);
 * console.log((await rangePlaybook(range)).includes("ansible.builtin.user")); // true
 * ```
 *
 * @module
 */
import { toYaml } from "./_yaml.ts";
import type { GuestTask, Range } from "./description.ts";
import { describeTask, shellQuote, TASK_MARKER_DIR, taskMarker } from "./tasks.ts";

/** A value Jinja must not template: wrapped in `{% raw %}` when it holds braces. */
function literal(text: string): string {
  if (!/[{}]/.test(text)) return text;
  if (text.includes("endraw")) {
    throw new TypeError(`Cannot write the playbook: ${JSON.stringify(text)} contains "endraw"`);
  }
  return `{% raw %}${text}{% endraw %}`;
}

/** A Jinja single-quoted string literal. */
function jinjaString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

const SALT = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A crypt salt (16 characters) derived from the text: the same account gets the same hash. */
async function salt(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.subarray(0, 16)].map((b) => SALT[b % 64]).join("");
}

async function password(account: string, secret: string, key: string): Promise<Record<string, unknown>> {
  return {
    name: literal(account),
    password: `{{ ${jinjaString(secret)} | password_hash('sha512', ${jinjaString(await salt(key))}) }}`,
    update_password: "always",
  };
}

async function ansibleTasks(
  range: string,
  kind: string,
  task: GuestTask,
): Promise<Record<string, unknown>[]> {
  const name = literal(describeTask(task));
  const key = (account: string) => `${range}/${kind}/${account}`;
  switch (task.type) {
    case "addAccount":
      return [{
        name,
        "ansible.builtin.user": {
          ...await password(task.account, task.password, key(task.account)),
          create_home: true,
          shell: "/bin/sh",
          ...(task.fullName !== undefined ? { comment: literal(task.fullName) } : {}),
        },
      }];
    case "modifyAccount": {
      const out: Record<string, unknown>[] = [];
      const final = task.newAccount ?? task.account;
      if (task.newAccount !== undefined && task.newAccount !== task.account) {
        out.push({
          name,
          "ansible.builtin.shell": literal(
            `if id -u ${shellQuote(task.account)} >/dev/null 2>&1 && ! id -u ${
              shellQuote(task.newAccount)
            } >/dev/null 2>&1; then usermod -l ${shellQuote(task.newAccount)} ${
              shellQuote(task.account)
            } && echo renamed; fi`,
          ),
          register: "deno_libvirt_rename",
          changed_when: "'renamed' in deno_libvirt_rename.stdout",
        });
      }
      if (task.newPassword !== undefined) {
        out.push({
          name: literal(`${describeTask(task)}: password`),
          "ansible.builtin.user": await password(final, task.newPassword, key(final)),
        });
      }
      return out;
    }
    case "copyContent":
      return [{
        name,
        "ansible.builtin.copy": {
          src: literal(task.src.replace(/\/+$/, "")),
          dest: literal(`${task.dst.replace(/\/+$/, "")}/`),
          mode: task.mode ?? "preserve",
        },
      }];
    case "executeProgram": {
      const marker = await taskMarker(task);
      const command = `${task.interpreter ? `${shellQuote(task.interpreter)} ` : ""}${
        shellQuote(task.program)
      }${task.args ? ` ${task.args}` : ""}`;
      return [{
        name,
        "ansible.builtin.shell": literal(`(${command}) && mkdir -p ${TASK_MARKER_DIR} && : > ${marker}`),
        args: { creates: marker },
      }];
    }
    case "installPackage": {
      const v = task.version;
      const spec = v === undefined
        ? literal(task.name)
        : task.manager === "dnf" || task.manager === "yum"
        ? `${task.name}-${v}`
        : task.manager !== undefined
        ? `${task.name}=${v}`
        : `{{ ${jinjaString(`${task.name}-${v}`)} if ansible_pkg_mgr in ['dnf', 'yum', 'dnf5'] else ${
          jinjaString(`${task.name}=${v}`)
        } }}`;
      return [{ name, "ansible.builtin.package": { name: spec, state: "present" } }];
    }
  }
}

/** One play of {@link rangePlaybookPlays}. */
export interface AnsiblePlay {
  /** The play's name. */
  name: string;
  /** The host pattern: the kind's guests by name, joined with ":". */
  hosts: string;
  /** Tasks run as root. */
  become: boolean;
  /** The Ansible tasks. */
  tasks: Record<string, unknown>[];
}

/**
 * The plays of {@link rangePlaybook}, as values.
 *
 * @param range a validated range
 * @returns one play per guest kind that has tasks (none: an empty list)
 * @throws {TypeError} when a value cannot be passed to Jinja as a literal (it contains "endraw")
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt/range";
 * import { rangePlaybookPlays } from "@deno-libvirt/deno-libvirt/range";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{
 *     id: "pc",
 *     memory: 64,
 *     count: 2,
 *     agent: true,
 *     tasks: [{ type: "installPackage", name: "nmap" }],
 *   }],
 * });
 * console.log((await rangePlaybookPlays(range)).map((p) => p.hosts)); // ["lab-pc-1:lab-pc-2"]
 * ```
 */
export async function rangePlaybookPlays(range: Range): Promise<AnsiblePlay[]> {
  const kinds = new Map<string, { names: string[]; tasks: GuestTask[] }>();
  for (const g of range.guests) {
    if (!g.tasks || g.tasks.length === 0) continue;
    const kind = kinds.get(g.guestId) ?? { names: [], tasks: g.tasks };
    kind.names.push(g.name);
    kinds.set(g.guestId, kind);
  }
  const plays: AnsiblePlay[] = [];
  for (const [kind, { names, tasks }] of kinds) {
    const list: Record<string, unknown>[] = [];
    for (const t of tasks) list.push(...await ansibleTasks(range.name, kind, t));
    plays.push({
      name: `${range.name}: tasks of ${kind}`,
      hosts: names.join(":"),
      become: true,
      tasks: list,
    });
  }
  return plays;
}

/**
 * The guests' tasks as an Ansible playbook (YAML), equivalent to what `range up` applies through the
 * guest agent.
 *
 * @param range a validated range
 * @returns the playbook's text (a header comment, then the plays; `[]` when no guest has tasks)
 * @throws {TypeError} when a value cannot be passed to Jinja as a literal (it contains "endraw")
 * @example
 * ```ts
 * import { parseRangeDescription } from "@deno-libvirt/deno-libvirt/range";
 * import { rangePlaybook } from "@deno-libvirt/deno-libvirt/range";
 * const range = parseRangeDescription(`
 * name: lab
 * hosts: [{ id: h, uri: "test:///default" }]
 * storage: { pool: default-pool }
 * guests: [{ id: pc, memory: 64, agent: true, tasks: [{ type: executeProgram, program: /opt/setup.sh }] }]
 * `);
 * const text = await rangePlaybook(range); // write it to site.yml: ansible-playbook -i inventory.ini site.yml
 * console.log(text.includes("creates: /var/lib/deno_libvirt/tasks/")); // true
 * ```
 */
export async function rangePlaybook(range: Range): Promise<string> {
  const plays = await rangePlaybookPlays(range);
  return `# The guest tasks of range ${range.name} (made by deno_libvirt's rangePlaybook).\n` +
    "# Run with the range's inventory: ansible-playbook -i inventory.ini this.yml\n" +
    "# It holds the tasks' passwords, as the description does: keep it as private.\n" +
    toYaml(plays);
}
