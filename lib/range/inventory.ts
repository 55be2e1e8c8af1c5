/**
 * The range's Ansible inventory, one model in three formats that Ansible reads alike: the
 * dynamic-inventory JSON (`_meta.hostvars`, groups with `hosts` and `children`, what an inventory
 * script prints for `--list`), the INI format and the YAML format. Every format has the same groups
 * and the same host variables, each host's variables written once.
 *
 * Groups: `all` has one child, the range's group (its name, e.g. `demo`), whose children are a group
 * per guest kind (`web`), per extra group a guest kind names (`groups:`; a CyRIS import names one per
 * guest across instances, `desktop`, and one per instance, `instance_1`), per network (`net_<name>`)
 * and per libvirt host (`host_<id>`). Group names are made of letters, digits and `_`.
 *
 * Host variables: `ansible_host` (only when the best address is plausible: confidence >= 0.5, by
 * default), the range's name, the guest kind and copy, the host, URI and state, the best address
 * with its confidence, sources, flags (e.g. `outside-subnet`) and explanation, and per NIC its
 * network, MAC, planned and discovered address.
 *
 * @example
 * ```ts
 * import { ansibleIni, rangeInventory, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * const status: RangeStatus = {
 *   range: "demo", generatedAt: "2026-01-01T00:00:00.000Z", tookMs: 1,
 *   counts: { running: 1, present: 1, described: 1, withAddress: 1 },
 *   guests: [{
 *     name: "demo-web-1", guest: "web", index: 1, host: "local", uri: "test:///default", state: "running",
 *     address: "10.66.1.5", confidence: 0.9,
 *     nics: [{ network: "demo-lan", mac: "52:54:00:00:00:01", addresses: [
 *       { address: "10.66.1.5", confidence: 0.9, sources: ["agent"], flags: [], explanation: "agent 0.9" },
 *     ] }],
 *   }],
 * };
 * console.log(rangeInventory(status).groups.map((g) => g.name)); // ["demo", "web", "net_demo_lan", "host_local"]
 * console.log(ansibleIni(status).includes("demo-web-1 ansible_host=10.66.1.5")); // true
 * ```
 *
 * @module
 */
import { toYaml } from "./_yaml.ts";
import type { GuestStatus, RangeStatus } from "./status.ts";

/** A host variable's value: what all three formats carry alike. */
export type InventoryValue = string | number | boolean | InventoryValue[] | { [key: string]: InventoryValue };

/** One Ansible group: its hosts and its child groups. */
export interface InventoryGroup {
  /** The group's name: letters, digits and "_", never starting with a digit. */
  name: string;
  /** The inventory host names (the guests' domain names) directly in the group. */
  hosts: string[];
  /** The groups inside this one. */
  children: string[];
}

/** The inventory of a range, before it is written in a format. */
export interface RangeInventory {
  /** The range's name. */
  range: string;
  /** The range's group name (the child of `all`). */
  rangeGroup: string;
  /** Every group but `all`, the range's group first. */
  groups: InventoryGroup[];
  /** Each host's variables, by host name. */
  hostvars: Record<string, Record<string, InventoryValue>>;
}

/** Options of {@link rangeInventory} and the format functions. */
export interface InventoryOptions {
  /**
   * The least confidence at which the best address becomes `ansible_host`. Default 0.5 (discovery's
   * and `up`'s threshold): an address flagged implausible is listed, but Ansible is not sent to it.
   */
  minConfidence?: number;
  /** Extra groups per guest kind id (a CyRIS import's `desktop`, `instance_1`); merged with `groups` of the status. */
  groups?: Record<string, string[]>;
}

// `_meta` is the dynamic-inventory JSON's key of the host variables: a group of that name would replace them
const RESERVED = new Set(["all", "ungrouped", "_meta"]);

/**
 * @internal An Ansible group name for `text`: every character but letters, digits and "_" becomes "_", and a
 * leading digit gets a "_" before it (Ansible warns about both).
 *
 * @param text a guest kind, network, host id or range name
 * @returns the group name
 * @example
 * ```ts
 * import { groupName } from "./inventory.ts";
 * console.log(groupName("demo-lan"), groupName("1st")); // "demo_lan" "_1st"
 * ```
 */
export function groupName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(name) || name === "" ? `_${name}` : name;
}

function hostVars(
  status: RangeStatus,
  g: GuestStatus,
  minConfidence: number,
): Record<string, InventoryValue> {
  const vars: Record<string, InventoryValue> = {};
  const best = g.nics.flatMap((n) => n.addresses).find((a) => a.address === g.address);
  if (g.address && (g.confidence ?? 0) >= minConfidence) vars.ansible_host = g.address;
  vars.range_name = status.range;
  vars.range_guest = g.guest;
  vars.range_index = g.index;
  vars.range_host = g.host;
  vars.libvirt_uri = g.uri;
  vars.libvirt_domain = g.name;
  vars.state = g.state;
  if (g.address) {
    vars.address = g.address;
    vars.address_confidence = g.confidence ?? 0;
    if (best) {
      vars.address_sources = [...best.sources];
      vars.address_flags = [...(best.flags ?? [])];
      if (best.explanation) vars.address_explanation = best.explanation;
    }
    if ((g.confidence ?? 0) < minConfidence) {
      vars.address_warning = `no plausible address: the best, ${g.address}, has confidence ${
        g.confidence ?? 0
      } < ${minConfidence}${best?.flags?.length ? ` (${best.flags.join(", ")})` : ""}`;
    }
  }
  if (g.error) vars.status_error = g.error;
  g.nics.forEach((n, i) => {
    vars[`nic${i}_network`] = n.network;
    vars[`nic${i}_mac`] = n.mac;
    const first = n.addresses[0];
    if (first) {
      vars[`nic${i}_address`] = first.address;
      vars[`nic${i}_confidence`] = first.confidence;
      if (first.flags?.length) vars[`nic${i}_flags`] = [...first.flags];
    }
    if (n.planned) vars[`nic${i}_planned`] = n.planned;
  });
  return vars;
}

/**
 * Builds the inventory model of a status: groups and host variables (see the module doc).
 *
 * @param status from `rangeStatus`
 * @param options the `ansible_host` threshold, extra groups per guest kind
 * @returns the groups (range group first) and each host's variables
 * @throws nothing: every status makes an inventory
 * @example
 * ```ts
 * import { rangeInventory, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * export function ansibleHosts(status: RangeStatus): string[] {
 *   const inventory = rangeInventory(status);
 *   return Object.entries(inventory.hostvars).filter(([, vars]) => vars.ansible_host).map(([host]) => host);
 * }
 * ```
 */
export function rangeInventory(status: RangeStatus, options: InventoryOptions = {}): RangeInventory {
  const minConfidence = options.minConfidence ?? 0.5;
  const taken = new Set(RESERVED);
  const groups = new Map<string, InventoryGroup>();
  // the range's group is named first so that a guest kind of the same name cannot take it
  let rangeGroup = groupName(status.range);
  if (taken.has(rangeGroup)) rangeGroup = `range_${rangeGroup}`;
  taken.add(rangeGroup);
  groups.set(rangeGroup, { name: rangeGroup, hosts: [], children: [] });
  const member = (raw: string, host: string) => {
    let name = groupName(raw);
    if (name === rangeGroup || RESERVED.has(name)) name = `${name}_`;
    let group = groups.get(name);
    if (!group) {
      group = { name, hosts: [], children: [] };
      groups.set(name, group);
      groups.get(rangeGroup)!.children.push(name);
    }
    if (!group.hosts.includes(host)) group.hosts.push(host);
  };
  const hostvars: Record<string, Record<string, InventoryValue>> = {};
  // groups in a stable order: guest kinds, extra groups, networks, hosts
  for (const g of status.guests) member(g.guest, g.name);
  for (const g of status.guests) {
    for (const extra of [...(g.groups ?? []), ...(options.groups?.[g.guest] ?? [])]) member(extra, g.name);
  }
  for (const g of status.guests) for (const n of g.nics) member(`net_${n.network}`, g.name);
  for (const g of status.guests) member(`host_${g.host}`, g.name);
  for (const g of status.guests) hostvars[g.name] = hostVars(status, g, minConfidence);
  return { range: status.range, rangeGroup, groups: [...groups.values()], hostvars };
}

/**
 * The inventory in Ansible's dynamic-inventory JSON shape, what an inventory script prints for
 * `--list`: `_meta.hostvars`, `all` with the range's group as its child, and every group with its
 * `hosts` and `children`.
 *
 * @param status from `rangeStatus`
 * @param options the `ansible_host` threshold, extra groups per guest kind
 * @returns a plain value for JSON.stringify
 * @example
 * ```ts
 * import { inventoryJson, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * export function printList(status: RangeStatus): void {
 *   console.log(JSON.stringify(inventoryJson(status))); // what `ansible-inventory` runs `--list` for
 * }
 * ```
 */
export function inventoryJson(status: RangeStatus, options: InventoryOptions = {}): Record<string, unknown> {
  const inventory = rangeInventory(status, options);
  const result: Record<string, unknown> = {
    _meta: { hostvars: inventory.hostvars },
    all: { children: [inventory.rangeGroup] },
  };
  for (const g of inventory.groups) {
    result[g.name] = {
      ...(g.hosts.length ? { hosts: g.hosts } : {}),
      ...(g.children.length ? { children: g.children } : {}),
    };
  }
  return result;
}

/** A value as a Python literal (what Ansible's INI parser evaluates). */
function pythonLiteral(value: InventoryValue): string {
  if (typeof value === "string") {
    // Python splits an INI file's lines at U+0085, U+2028 and U+2029 too: escaped, like JSON's controls
    return JSON.stringify(value).replace(
      /[\u0085\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  }
  if (typeof value === "boolean") return value ? "True" : "False";
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(", ")}}`;
}

/**
 * A host variable as Ansible's INI parser reads it back unchanged: it splits a host line like a shell
 * (shlex) and evaluates each value as a Python literal, so "1" would become a number and "True" a
 * boolean. Plain text is written bare when that cannot happen, else as a quoted literal.
 */
function iniValue(value: InventoryValue): string {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (
    typeof value === "string" &&
    // a letter or "/" first, an IPv4 address, or hex with ":" (a MAC, IPv6): no Python literal
    /^(?:[A-Za-z/][\w.:/@+-]*|\d+(?:\.\d+){3}|(?=[0-9a-fA-F]*:)[0-9a-fA-F:]+)$/.test(value) &&
    !["True", "False", "None"].includes(value)
  ) return value;
  return `'${pythonLiteral(value).replace(/'/g, `'"'"'`)}'`;
}

/**
 * The inventory in Ansible's INI format: each group's section lists its hosts, a host's variables on
 * its first line only (in its guest kind's section), and `[<group>:children]` sections nest the groups
 * under the range's.
 *
 * @param status from `rangeStatus`
 * @param options the `ansible_host` threshold, extra groups per guest kind
 * @returns the INI text
 * @example
 * ```ts
 * import { ansibleIni, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * export async function save(status: RangeStatus): Promise<void> {
 *   await Deno.writeTextFile("inventory.ini", ansibleIni(status)); // ansible -i inventory.ini all -m ping
 * }
 * ```
 */
export function ansibleIni(status: RangeStatus, options: InventoryOptions = {}): string {
  const inventory = rangeInventory(status, options);
  const lines = [`# range ${status.range}, ${status.generatedAt}`];
  const written = new Set<string>();
  for (const g of inventory.groups) {
    if (g.hosts.length === 0) continue;
    lines.push("", `[${g.name}]`);
    for (const host of g.hosts) {
      if (written.has(host)) {
        lines.push(host);
        continue;
      }
      written.add(host);
      const vars = Object.entries(inventory.hostvars[host] ?? {}).map(([k, v]) => `${k}=${iniValue(v)}`);
      lines.push([host, ...vars].join(" "));
    }
  }
  for (const g of inventory.groups) {
    if (g.children.length) lines.push("", `[${g.name}:children]`, ...g.children);
  }
  return lines.join("\n") + "\n";
}

/**
 * The inventory in Ansible's YAML format: `all: children: <range>: children: ...`, a host's variables
 * under its first listing only (its guest kind's group), later listings empty.
 *
 * @param status from `rangeStatus`
 * @param options the `ansible_host` threshold, extra groups per guest kind
 * @returns the YAML text
 * @example
 * ```ts
 * import { ansibleYaml, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * export async function save(status: RangeStatus): Promise<void> {
 *   await Deno.writeTextFile("inventory.yaml", ansibleYaml(status));
 * }
 * ```
 */
export function ansibleYaml(status: RangeStatus, options: InventoryOptions = {}): string {
  const inventory = rangeInventory(status, options);
  const byName = new Map(inventory.groups.map((g) => [g.name, g]));
  const written = new Set<string>();
  const render = (g: InventoryGroup): Record<string, unknown> => {
    const node: Record<string, unknown> = {};
    if (g.hosts.length) {
      node.hosts = Object.fromEntries(g.hosts.map((h) => {
        if (written.has(h)) return [h, null];
        written.add(h);
        return [h, inventory.hostvars[h]];
      }));
    }
    if (g.children.length) {
      node.children = Object.fromEntries(g.children.map((c) => [c, render(byName.get(c)!)]));
    }
    return node;
  };
  const header = `# range ${status.range}, ${status.generatedAt}\n`;
  return header +
    toYaml({ all: { children: { [inventory.rangeGroup]: render(byName.get(inventory.rangeGroup)!) } } });
}

/**
 * One host's variables, what an inventory script prints for `--host NAME`.
 *
 * @param status from `rangeStatus`
 * @param host the inventory host name (a guest's domain name)
 * @param options the `ansible_host` threshold, extra groups per guest kind
 * @returns the variables, or an empty object for a host the range does not have (as Ansible expects)
 * @example
 * ```ts
 * import { inventoryHost, type RangeStatus } from "@deno-libvirt/deno-libvirt/range";
 * export function printHost(status: RangeStatus, name: string): void {
 *   console.log(JSON.stringify(inventoryHost(status, name))); // `--host NAME`
 * }
 * ```
 */
export function inventoryHost(
  status: RangeStatus,
  host: string,
  options: InventoryOptions = {},
): Record<string, InventoryValue> {
  return rangeInventory(status, options).hostvars[host] ?? {};
}
