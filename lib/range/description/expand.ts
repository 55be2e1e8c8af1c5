/**
 * @internal Expansion: guest kinds into concrete guests (`<range>-<guest>-<n>`), with their MACs,
 * planned addresses and hosts, under the `maxGuests` bound; collisions between instances, planned
 * addresses and reservations; generated MACs; the networks each host needs.
 *
 * @module
 */
import { type Checker, ipText, macText, macValue, pathText } from "./checker.ts";
import type { GuestPlan } from "./guests.ts";
import type { CheckedNetworks } from "./networks.ts";
import type { ExpandedGuest, ExpandedNic, HostSpec, NetworkSpec } from "./types.ts";

const QEMU_MIN_MIB = 80;

/** FNV-1a, 32 bits: a small deterministic hash for generated MACs. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * The MAC of a NIC whose description gives none: 52:54:00 followed by 24 bits of a hash of the range
 * name, guest id, instance and NIC index; probes further (`#1`, `#2`, ...) when taken.
 *
 * @param range the range name
 * @param guest the guest id
 * @param index the instance (1-based)
 * @param nic the NIC's index
 * @param taken MACs already in use
 * @returns a unicast MAC not in `taken`
 *
 * @example
 * ```ts
 * import { generatedMac } from "./expand.ts";
 * console.log(generatedMac("lab", "web", 1, 0, new Set()).startsWith("52:54:00:")); // true
 * ```
 */
export function generatedMac(
  range: string,
  guest: string,
  index: number,
  nic: number,
  taken: Set<string>,
): string {
  for (let salt = 0;; salt++) {
    const h = fnv1a(`${range}/${guest}/${index}/${nic}${salt ? `#${salt}` : ""}`) & 0xffffff;
    const mac = `52:54:00:${
      [16, 8, 0].map((s) => ((h >> s) & 0xff).toString(16).padStart(2, "0")).join(":")
    }`;
    if (!taken.has(mac)) return mac;
  }
}

interface Expansion {
  guests: ExpandedGuest[];
  /** mac -> guest name, of MACs written in the description. */
  explicitMacs: Map<string, string>;
  /** network/mac -> guest name and the NIC's field. */
  explicitByNetwork: Map<string, { guest: string; path: (string | number)[] }>;
  planned: Map<string, string>;
  pending: { nic: ExpandedNic; guest: string; index: number; n: number }[];
  total: number;
}

function expandOne(
  c: Checker,
  name: string,
  plan: GuestPlan,
  n: number,
  hosts: Map<string, HostSpec>,
  nets: CheckedNetworks,
  x: Expansion,
): boolean {
  const p = plan.path;
  const hostId = plan.placement[(n - 1) % plan.placement.length];
  const host = hosts.get(hostId)!;
  const type = plan.type ?? (host.uri.startsWith("test") ? "test" : "kvm");
  if (n === 1 && type !== "test" && plan.memory < QEMU_MIN_MIB) {
    c.add(
      [...p, "memory"],
      `${plan.memory} MiB is below the ${QEMU_MIN_MIB} MiB a QEMU guest needs to boot (96 or more advised)`,
    );
  }
  const guestName = `${name}-${plan.id}-${n}`;
  if (guestName.length > 63) {
    c.add([...p, "id"], `domain name ${c.q(guestName)} would be longer than 63 characters`);
    return false;
  }
  const nics: ExpandedNic[] = plan.nics.map((s, j) => {
    const nic: ExpandedNic = { network: s.network, mac: "", generatedMac: s.mac === undefined };
    if (s.mac) {
      nic.mac = macText(macValue(s.mac) + BigInt(n - 1));
      const other = x.explicitMacs.get(nic.mac);
      if (other) {
        c.add([...p, "nics", j, "mac"], `MAC ${nic.mac} of ${guestName} is also the MAC of ${other}`);
      } else {
        x.explicitMacs.set(nic.mac, guestName);
        x.explicitByNetwork.set(`${s.network}/${nic.mac}`, {
          guest: guestName,
          path: [...p, "nics", j, "mac"],
        });
      }
    } else x.pending.push({ nic, guest: plan.id, index: n, n: j });
    if (s.address !== undefined) {
      nic.address = ipText(s.address + BigInt(n - 1));
      const key = `${s.network}/${nic.address}`;
      const owner = x.planned.get(key) ?? (nets.reservedAddresses.has(key) ? "a reservation" : undefined);
      if (owner) {
        c.add(
          [...p, "nics", j, "address"],
          `planned address ${nic.address} of ${guestName} is already planned for ${owner}`,
        );
      } else x.planned.set(key, guestName);
    }
    return nic;
  });
  x.guests.push({
    name: guestName,
    guestId: plan.id,
    index: n,
    hostId,
    uri: host.uri,
    type,
    memoryMiB: plan.memory,
    vcpus: plan.vcpus,
    agent: plan.agent,
    ...(plan.baseImage ? { baseImage: plan.baseImage } : {}),
    ...(plan.kernel ? { kernel: plan.kernel } : {}),
    volume: `${name}.${plan.id}-${n}.qcow2`,
    diskMiB: plan.diskMiB,
    nics,
    ...(plan.tasks ? { tasks: plan.tasks } : {}),
    ...(plan.groups ? { groups: plan.groups } : {}),
  });
  return true;
}

/**
 * Expands the guest kinds. Stops at the first kind that would pass `limits.maxGuests` (recorded at
 * its `count`), so a huge description costs no memory.
 *
 * @returns the concrete guests and the networks each host needs (meaningful only without problems)
 */
export function expand(
  c: Checker,
  name: string,
  plans: GuestPlan[],
  hosts: Map<string, HostSpec>,
  nets: CheckedNetworks,
): { guests: ExpandedGuest[]; networksByHost: Map<string, NetworkSpec[]> } {
  const x: Expansion = {
    guests: [],
    explicitMacs: new Map(),
    explicitByNetwork: new Map(),
    planned: new Map(),
    pending: [],
    total: 0,
  };
  for (const plan of plans) {
    x.total += plan.count;
    if (x.total > c.limits.maxGuests) {
      c.add(
        [...plan.path, "count"],
        `makes ${x.total} guests in total, more than the limit of ${c.limits.maxGuests}: ` +
          "lower the counts, or raise limits.maxGuests",
      );
      break;
    }
    for (let n = 1; n <= plan.count; n++) if (!expandOne(c, name, plan, n, hosts, nets, x)) break;
  }
  for (const [key, path] of nets.reservedMacs) {
    const owner = x.explicitByNetwork.get(key);
    if (owner !== undefined) {
      const mac = key.slice(key.indexOf("/") + 1);
      c.add(
        path,
        `MAC ${mac} is reserved here and is also the MAC of ${owner.guest} on this network ` +
          "(its planned address would silently lose): drop the reservation or change the guest's mac",
      );
      c.add(
        owner.path,
        `MAC ${mac} of ${owner.guest} is also reserved at ${pathText(path)}: change one of them`,
      );
    }
  }
  const networksByHost = new Map<string, NetworkSpec[]>();
  if (c.failed) return { guests: x.guests, networksByHost };
  const taken = new Set(x.explicitMacs.keys());
  for (const key of nets.reservedMacs.keys()) taken.add(key.slice(key.indexOf("/") + 1));
  for (const { nic, guest, index, n } of x.pending) {
    nic.mac = generatedMac(name, guest, index, n, taken);
    taken.add(nic.mac);
  }
  for (const g of x.guests) {
    const list = networksByHost.get(g.hostId) ?? [];
    for (const nic of g.nics) {
      const spec = nets.networks.get(nic.network)!.spec;
      if (!spec.external && !list.includes(spec)) list.push(spec);
    }
    networksByHost.set(g.hostId, list);
  }
  for (const list of networksByHost.values()) {
    list.sort((a, b) => nets.networks.get(a.name)!.index - nets.networks.get(b.name)!.index);
  }
  return { guests: x.guests, networksByHost };
}
