/**
 * @internal The `guests` section, one guest kind at a time: fields, kernel, placement and NICs (with
 * the checks that need `count`: a MAC or address range that runs off its end).
 *
 * @module
 */
import {
  broadcast,
  type Checker,
  contains,
  ipText,
  isMulticast,
  MAC_MAX,
  macText,
  macValue,
  type Path,
} from "./checker.ts";
import type { CheckedNetwork } from "./networks.ts";
import { checkTasks } from "./tasks.ts";
import type { BaseImageSpec, GuestTask, HostSpec, KernelSpec } from "./types.ts";

/** A guest kind that passed its checks, ready to expand into `count` guests. */
export interface GuestPlan {
  id: string;
  path: Path;
  memory: number;
  vcpus: number;
  count: number;
  type?: "kvm" | "qemu" | "test";
  placement: string[];
  agent: boolean;
  diskMiB: number;
  baseImage?: BaseImageSpec;
  kernel?: KernelSpec;
  nics: { network: string; address?: bigint; mac?: string }[];
  tasks?: GuestTask[];
  groups?: string[];
}

/** The sections a guest refers to. */
export interface GuestContext {
  hosts: Map<string, HostSpec>;
  networks: Map<string, CheckedNetwork>;
  images: Map<string, BaseImageSpec>;
}

const FIELDS = [
  "id",
  "baseImage",
  "kernel",
  "memory",
  "vcpus",
  "count",
  "type",
  "host",
  "hosts",
  "agent",
  "diskMiB",
  "nics",
  "tasks",
  "groups",
];

/** An Ansible group name (what `groups` lists). */
const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function checkGroups(c: Checker, value: unknown, p: Path): string[] | undefined {
  if (value === undefined) return [];
  const list = c.list(value, [...p, "groups"], false);
  const groups: string[] = [];
  let bad = !Array.isArray(value);
  list.forEach((entry, j) => {
    const text = c.string(entry, [...p, "groups", j]);
    if (text === undefined) {
      if (entry === undefined || entry === null) c.add([...p, "groups", j], "is empty: name a group");
      bad = true;
    } else if (!GROUP_NAME.test(text) || ["all", "ungrouped"].includes(text)) {
      c.add(
        [...p, "groups", j],
        `${
          c.q(text)
        } is not an Ansible group name: use 1-63 letters, digits and "_", not starting with a digit (and not "all" or "ungrouped")`,
      );
      bad = true;
    } else if (!groups.includes(text)) groups.push(text);
  });
  return bad ? undefined : groups;
}

function checkKernel(c: Checker, value: unknown, p: Path): KernelSpec | undefined {
  const k = c.object(value, [...p, "kernel"], ["kernel", "initrd", "cmdline"], ["kernel"]);
  if (!k) return undefined;
  const kernel = c.absolutePath(k.kernel, [...p, "kernel", "kernel"]);
  const initrd = c.absolutePath(k.initrd, [...p, "kernel", "initrd"]);
  const cmdline = c.string(k.cmdline, [...p, "kernel", "cmdline"], true);
  if (
    kernel === undefined || (k.initrd !== undefined && initrd === undefined) ||
    (k.cmdline !== undefined && cmdline === undefined)
  ) return undefined;
  return { kernel, ...(initrd ? { initrd } : {}), ...(cmdline ? { cmdline } : {}) };
}

function checkPlacement(
  c: Checker,
  o: Record<string, unknown>,
  p: Path,
  hosts: Map<string, HostSpec>,
): string[] {
  if (o.host !== undefined && o.hosts !== undefined) {
    c.add([...p, "hosts"], "give host or hosts, not both");
    return [];
  }
  const one = (value: unknown, at: Path): string | undefined => {
    const h = c.string(value, at);
    if (h === undefined) return undefined;
    if (!hosts.has(h)) {
      c.add(at, `unknown host ${c.q(h)} (known: ${c.known(hosts.keys())})`);
      return undefined;
    }
    return h;
  };
  if (o.host !== undefined) {
    const h = one(o.host, [...p, "host"]);
    return h === undefined ? [] : [h];
  }
  if (o.hosts !== undefined) {
    const list = c.list(o.hosts, [...p, "hosts"], false, "host id (or use host)");
    const placement = list.map((h, j) => one(h, [...p, "hosts", j]));
    return placement.includes(undefined) ? [] : placement as string[];
  }
  return hosts.size > 0 ? [[...hosts.keys()][0]] : [];
}

function checkNic(
  c: Checker,
  n: unknown,
  np: Path,
  count: number,
  networks: Map<string, CheckedNetwork>,
): GuestPlan["nics"][number] | undefined {
  const no = c.object(n, np, ["network", "address", "mac"], ["network"]);
  if (!no) return undefined;
  const net = c.string(no.network, [...np, "network"]);
  let mac = no.mac === undefined ? undefined : c.mac(no.mac, [...np, "mac"]);
  const address = no.address === undefined ? undefined : c.ipv4(no.address, [...np, "address"]);
  if (mac !== undefined && count > 1) {
    const last = macValue(mac) + BigInt(count - 1);
    if (last > MAC_MAX || isMulticast(last)) {
      c.add(
        [...np, "mac"],
        `${mac} plus ${count - 1} (count ${count}) runs to ${
          last > MAC_MAX ? "past ff:ff:ff:ff:ff:ff" : `the multicast MAC ${macText(last)}`
        }: start lower, e.g. "52:54:00:12:34:00"`,
      );
      mac = undefined;
    }
  }
  if (net === undefined) return undefined;
  const network = networks.get(net);
  if (!network) {
    c.add([...np, "network"], `unknown network ${c.q(net)} (known: ${c.known(networks.keys())})`);
    return undefined;
  }
  if (address !== undefined) {
    const last = address + BigInt(count - 1);
    if (!contains(network.cidr, address) || !contains(network.cidr, last)) {
      c.add(
        [...np, "address"],
        `${ipText(address)}${
          count > 1 ? `..${ipText(last)} (one address per instance, count ${count})` : ""
        } is outside the subnet ${network.cidr.text} of network ${net}`,
      );
      return undefined;
    }
    if (address <= network.cidr.base + 1n || last >= broadcast(network.cidr)) {
      c.add(
        [...np, "address"],
        `${ipText(address)}${
          count > 1 ? `..${ipText(last)} (one address per instance, count ${count})` : ""
        } collides with the network address, the gateway or the broadcast address`,
      );
      return undefined;
    }
  }
  if ((no.mac !== undefined && mac === undefined) || (no.address !== undefined && address === undefined)) {
    return undefined;
  }
  return { network: net, ...(address !== undefined ? { address } : {}), ...(mac ? { mac } : {}) };
}

/**
 * Checks one guest kind.
 *
 * @returns the plan, or undefined (problems recorded) when it cannot be expanded
 */
export function checkGuest(
  c: Checker,
  g: unknown,
  i: number,
  ctx: GuestContext,
  ids: Set<string>,
): GuestPlan | undefined {
  const p: Path = ["guests", i];
  const o = c.object(g, p, FIELDS, ["id", "memory"]);
  if (!o) return undefined;
  const id = c.name(o.id, [...p, "id"], "guest id");
  if (id !== undefined) {
    if (ids.has(id)) c.add([...p, "id"], `duplicate guest id ${c.q(id)}`);
    ids.add(id);
  }
  const memory = c.integer(o.memory, [...p, "memory"], 1, 16 * 1024 * 1024);
  const vcpus = c.integer(o.vcpus, [...p, "vcpus"], 1, 4096);
  let count: number | undefined = 1;
  if (o.count === 0) {
    c.add([...p, "count"], "is 0: a guest needs count >= 1 (remove the guest instead)");
    count = undefined;
  } else if (o.count !== undefined && o.count !== null) {
    count = c.integer(o.count, [...p, "count"], 1, 100_000);
  }
  const diskMiB = c.integer(o.diskMiB, [...p, "diskMiB"], 1, 64 * 1024 * 1024);
  const agent = c.boolean(o.agent, [...p, "agent"]);
  const type = c.oneOf(o.type, [...p, "type"], ["kvm", "qemu", "test"] as const);
  let baseImage: BaseImageSpec | undefined;
  const b = c.string(o.baseImage, [...p, "baseImage"]);
  if (b !== undefined) {
    baseImage = ctx.images.get(b);
    if (!baseImage) {
      c.add([...p, "baseImage"], `unknown base image ${c.q(b)} (known: ${c.known(ctx.images.keys())})`);
    }
  }
  const kernel = o.kernel === undefined ? undefined : checkKernel(c, o.kernel, p);
  const placement = checkPlacement(c, o, p, ctx.hosts);
  const groups = checkGroups(c, o.groups, p);
  const nics = c.list(o.nics, [...p, "nics"], false).map((n, j) =>
    checkNic(c, n, [...p, "nics", j], count ?? 1, ctx.networks)
  );
  const tasks = o.tasks === undefined ? [] : checkTasks(c, o.tasks, [...p, "tasks"]);
  if (tasks !== undefined && tasks.length > 0 && agent !== true) {
    c.add(
      [...p, "tasks"],
      "tasks run through the QEMU guest agent: set agent: true (and run qemu-guest-agent in the image)",
    );
  }
  const problems = Object.keys(o).some((k) => o[k] === null) || nics.includes(undefined) ||
    tasks === undefined ||
    (o.kernel !== undefined && kernel === undefined) ||
    (o.baseImage !== undefined && baseImage === undefined) ||
    (o.vcpus !== undefined && vcpus === undefined) || (o.diskMiB !== undefined && diskMiB === undefined) ||
    (o.agent !== undefined && agent === undefined) || (o.type !== undefined && type === undefined) ||
    groups === undefined;
  if (id === undefined || memory === undefined || count === undefined || placement.length === 0 || problems) {
    return undefined;
  }
  return {
    id,
    path: p,
    memory,
    vcpus: vcpus ?? 1,
    count,
    ...(type ? { type } : {}),
    placement,
    agent: agent === true,
    diskMiB: diskMiB ?? 64,
    ...(baseImage ? { baseImage } : {}),
    ...(kernel ? { kernel } : {}),
    nics: nics as GuestPlan["nics"],
    ...(tasks && tasks.length > 0 ? { tasks } : {}),
    ...(groups.length > 0 ? { groups: groups as string[] } : {}),
  };
}
