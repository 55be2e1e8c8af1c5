/**
 * Live changes to a range's running networks: when a description gains a guest with a planned
 * address (or a reservation), `up` adds its DHCP host entry to the network that exists already with
 * virNetworkUpdate (section ip-dhcp-host, live and persistent), without restarting the network, so
 * guests already on it keep their links and leases.
 *
 * An entry is added when no entry of the network has its MAC, address or name; an entry of the
 * range's own network that has one of them but differs (a guest's planned address changed) is
 * replaced (deleted, then added). Entries the description no longer mentions stay: `up` never
 * removes a reservation (a guest still running may hold its lease).
 *
 * @example
 * ```ts
 * import { dhcpChanges, parseDhcpHosts } from "@deno-libvirt/deno-libvirt";
 * const live = parseDhcpHosts(
 *   "<network><ip address='10.9.0.1' netmask='255.255.255.0'><dhcp>" +
 *     "<host mac='52:54:00:00:00:01' ip='10.9.0.10' name='a'/></dhcp></ip></network>",
 * );
 * const changes = dhcpChanges([
 *   { mac: "52:54:00:00:00:01", ip: "10.9.0.10", name: "a" },
 *   { mac: "52:54:00:00:00:02", ip: "10.9.0.11", name: "b" },
 * ], live);
 * console.log(changes.add.map((h) => h.ip), changes.remove.length); // ["10.9.0.11"] 0
 * ```
 *
 * @module
 */
import { NetworkUpdateCommand, NetworkUpdateSection } from "../ffi/_generated/enums.ts";
import type { Network } from "../network.ts";
import { normalizeMac } from "../ip/addresses.ts";
import { asArray, attribute, escapeXml, parseXml } from "../xml.ts";
import type { NetworkSpec, Range } from "./description.ts";

/** One DHCP host entry of a network: a fixed address (and host name) for a MAC. */
export interface DhcpHost {
  /** The NIC's MAC, lower case. */
  mac: string;
  /** The IPv4 address dnsmasq hands out to it. */
  ip: string;
  /** The host name handed out with it. */
  name?: string;
}

/**
 * The DHCP host entries a range network carries on a host: the description's reservations, then the
 * planned address of each NIC on it of the guests on that host (first entry per MAC wins).
 *
 * @param range the validated range
 * @param spec one of its networks
 * @param hostId the host
 * @returns the entries, in the order the network XML lists them
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * import { rangeDhcpHosts } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   networks: [{ name: "lab-lan", mode: "isolated", subnet: "10.9.0.0/24", dhcp: { start: "10.9.0.100", end: "10.9.0.200" } }],
 *   guests: [{ id: "web", memory: 64, nics: [{ network: "lab-lan", address: "10.9.0.10" }] }],
 * });
 * console.log(rangeDhcpHosts(range, range.description.networks![0], "h")[0].ip); // 10.9.0.10
 * ```
 */
export function rangeDhcpHosts(range: Range, spec: NetworkSpec, hostId: string): DhcpHost[] {
  const seen = new Set<string>();
  const hosts: DhcpHost[] = [];
  const candidates: DhcpHost[] = [
    ...(spec.reservations ?? []).map((r) => ({
      mac: r.mac,
      ip: r.address,
      ...(r.name ? { name: r.name } : {}),
    })),
    ...range.guests.filter((g) => g.hostId === hostId).flatMap((g) =>
      g.nics.filter((n) => n.network === spec.name && n.address).map((n) => ({
        mac: n.mac,
        ip: n.address!,
        name: g.name,
      }))
    ),
  ];
  for (const h of candidates) {
    if (seen.has(h.mac)) continue;
    seen.add(h.mac);
    hosts.push(h);
  }
  return hosts;
}

/**
 * The `<host>` element of a DHCP host entry (values escaped), as network XML and virNetworkUpdate
 * take it.
 *
 * @param host the entry
 * @returns `<host mac='...' ip='...' name='...'/>`
 *
 * @example
 * ```ts
 * import { dhcpHostXml } from "@deno-libvirt/deno-libvirt";
 * console.log(dhcpHostXml({ mac: "52:54:00:00:00:01", ip: "10.9.0.10" }));
 * // <host mac='52:54:00:00:00:01' ip='10.9.0.10'/>
 * ```
 */
export function dhcpHostXml(host: DhcpHost): string {
  return `<host mac='${escapeXml(host.mac)}' ip='${escapeXml(host.ip)}'${
    host.name ? ` name='${escapeXml(host.name)}'` : ""
  }/>`;
}

/**
 * The DHCP host entries of a network's XML (its IPv4 `<ip>` elements'; entries without a MAC, such
 * as IPv6 id entries, are skipped).
 *
 * @param xml the network's XML description
 * @returns the entries, MACs in lower case
 *
 * @example
 * ```ts
 * import { parseDhcpHosts } from "@deno-libvirt/deno-libvirt";
 * const hosts = parseDhcpHosts(
 *   "<network><ip address='10.9.0.1'><dhcp><host mac='52:54:00:AA:00:01' name='w' ip='10.9.0.5'/></dhcp></ip></network>",
 * );
 * console.log(hosts); // [{ mac: "52:54:00:aa:00:01", ip: "10.9.0.5", name: "w" }]
 * ```
 */
export function parseDhcpHosts(xml: string): DhcpHost[] {
  const network = asArray(parseXml(xml).network)[0];
  const hosts: DhcpHost[] = [];
  for (const ip of asArray(network?.ip)) {
    if ((attribute(ip, "family") ?? "ipv4") !== "ipv4") continue;
    for (const dhcp of asArray(ip.dhcp)) {
      for (const host of asArray(dhcp.host)) {
        const mac = normalizeMac(attribute(host, "mac"));
        const address = attribute(host, "ip");
        if (mac === undefined || address === undefined) continue;
        const name = attribute(host, "name");
        hosts.push({ mac, ip: address, ...(name !== undefined ? { name } : {}) });
      }
    }
  }
  return hosts;
}

/** What {@link dhcpChanges} found to do. */
export interface DhcpChanges {
  /** Entries to add (missing, or replacing one in `remove`). */
  add: DhcpHost[];
  /** Entries of the network that clash with a wanted one (same MAC, address or name, but not equal). */
  remove: DhcpHost[];
}

const same = (a: DhcpHost, b: DhcpHost) =>
  a.mac === b.mac && a.ip === b.ip && (a.name ?? "") === (b.name ?? "");

/**
 * What to change so that every wanted entry is in the network: wanted entries missing from it are
 * added; a network entry that shares a MAC, address or name with a wanted one without being equal
 * to it is removed first. Network entries no wanted one clashes with are left alone.
 *
 * @param wanted the entries the range plans ({@link rangeDhcpHosts})
 * @param live the network's entries ({@link parseDhcpHosts})
 * @returns the entries to remove and to add
 *
 * @example
 * ```ts
 * import { dhcpChanges } from "@deno-libvirt/deno-libvirt";
 * const { add, remove } = dhcpChanges(
 *   [{ mac: "52:54:00:00:00:01", ip: "10.9.0.20" }],
 *   [{ mac: "52:54:00:00:00:01", ip: "10.9.0.10" }],
 * );
 * console.log(remove[0].ip, "->", add[0].ip); // 10.9.0.10 -> 10.9.0.20
 * ```
 */
export function dhcpChanges(wanted: readonly DhcpHost[], live: readonly DhcpHost[]): DhcpChanges {
  const add: DhcpHost[] = [];
  const remove: DhcpHost[] = [];
  for (const w of wanted) {
    if (live.some((l) => same(l, w))) continue;
    for (const l of live) {
      const clash = l.mac === w.mac || l.ip === w.ip || (w.name !== undefined && l.name === w.name);
      if (clash && !remove.includes(l) && !wanted.some((x) => same(x, l))) remove.push(l);
    }
    add.push(w);
  }
  return { add, remove };
}

/** What {@link syncDhcpHosts} changed. */
export interface DhcpSyncResult {
  /** Entries added. */
  added: DhcpHost[];
  /** Entries removed (each replaced by an added one). */
  removed: DhcpHost[];
}

/**
 * Brings a network's DHCP host entries in line with `wanted` ({@link dhcpChanges}) by
 * virNetworkUpdate calls, one per entry: on a running network live and persistent (dnsmasq is told,
 * the network is not restarted), on an inactive one persistent only.
 *
 * @param network the network (the range's own)
 * @param wanted the entries the range plans on it
 * @returns what was removed and added
 * @throws {LibvirtError} when libvirt refuses an update (entries added before stay; those the refused
 *   one was to replace are put back)
 *
 * @example
 * ```ts
 * import { Connection } from "@deno-libvirt/deno-libvirt";
 * import { lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * import { syncDhcpHosts } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using net = await lookupNetwork(conn, "default");
 * const r = await syncDhcpHosts(net, [{ mac: "52:54:00:00:00:42", ip: "192.168.122.42", name: "new" }]);
 * console.log(r.added.length); // 1
 * ```
 */
export async function syncDhcpHosts(network: Network, wanted: readonly DhcpHost[]): Promise<DhcpSyncResult> {
  const active = await network.isActive();
  const xml = await network.xmlDesc(); // of an inactive network: its persistent definition
  const { add, remove } = dhcpChanges(wanted, parseDhcpHosts(xml));
  const flags = active ? { live: true, config: true } : { config: true };
  const persistent = await network.isPersistent();
  const options = persistent ? flags : { live: true };
  const update = (command: NetworkUpdateCommand, h: DhcpHost) =>
    network.update(command, NetworkUpdateSection.IP_DHCP_HOST, -1, dhcpHostXml(h), options);
  const removed: DhcpHost[] = [];
  const added: DhcpHost[] = [];
  // each wanted entry after the entries it replaces: when libvirt refuses the add, those are put
  // back, so a failure loses no entry
  for (const w of add) {
    const clashing = remove.filter((l) =>
      !removed.includes(l) &&
      (l.mac === w.mac || l.ip === w.ip || (w.name !== undefined && l.name === w.name))
    );
    const gone: DhcpHost[] = [];
    try {
      for (const l of clashing) {
        await update(NetworkUpdateCommand.DELETE, l);
        gone.push(l);
      }
      await update(NetworkUpdateCommand.ADD_LAST, w);
    } catch (error) {
      for (const l of gone) await update(NetworkUpdateCommand.ADD_LAST, l).catch(() => {});
      throw error;
    }
    removed.push(...gone);
    added.push(w);
  }
  return { added, removed };
}
