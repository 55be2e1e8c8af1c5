/**
 * A range's firewall as libvirt network filters: one nwfilter per protected guest kind
 * (`<range>.fw.<guest>`), defined on every host that runs instances of it, referenced from every NIC
 * of those guests (`<filterref>` in the domain XML the range builds), listed in the range's
 * ownership record on that host (nwfilters carry no metadata) and removed by `down`.
 *
 * The rules act on traffic into the guest (nwfilter direction "in"), at libvirt's iptables layer, so
 * they are stateful:
 *
 * 1. replies (conntrack ESTABLISHED, RELATED) always pass: whatever the guest opened gets its answers;
 * 2. DHCP answers (UDP 67 to 68) always pass, so a guest filtered from its own network's gateway
 *    still gets its lease; ARP is not touched (it is not IP);
 * 3. from each rule's source, new connections to the allowed services pass;
 * 4. everything else from each rule's source is dropped;
 * 5. traffic from sources no rule names, and the guest's own outgoing traffic, is not filtered.
 *
 * IPv4 only: a range's networks are IPv4.
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * import { firewallFilters } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "qemu:///system" }],
 *   storage: { pool: "default" },
 *   networks: [{ name: "lab-net", mode: "isolated", subnet: "10.9.0.0/24" }],
 *   guests: [{ id: "web", memory: 96, nics: [{ network: "lab-net" }] }],
 *   firewall: [{ from: "lab-net", to: "web", allow: ["tcp/22", "tcp/80"] }],
 * });
 * const [filter] = firewallFilters(range, "h");
 * console.log(filter.name); // lab.fw.web
 * ```
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Domain } from "../domain.ts";
import { isNotFound } from "../errors.ts";
import { parseNics } from "../domain_nic.ts";
import { parseCidr } from "../ip/addresses.ts";
import { escapeXml } from "../xml.ts";
import type { FirewallRuleSpec, Range } from "./description.ts";

/** One network filter the range defines on a host. */
export interface FirewallFilter {
  /** The nwfilter's name, `<range>.fw.<guest>`. */
  name: string;
  /** The guest kind it protects. */
  guestId: string;
  /** Its XML definition. */
  xml: string;
}

/**
 * The name of the network filter protecting a guest kind.
 *
 * @param range the range name
 * @param guestId the guest kind
 * @returns `<range>.fw.<guest>`
 *
 * @example
 * ```ts
 * import { firewallFilterName } from "@deno-libvirt/deno-libvirt";
 * console.log(firewallFilterName("lab", "web")); // lab.fw.web
 * ```
 */
export function firewallFilterName(range: string, guestId: string): string {
  return `${range}.fw.${guestId}`;
}

function ipText(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
}

/** The source of a rule as nwfilter match attributes, one set per address or subnet. */
function sources(range: Range, from: string): string[] {
  if (from === "any") return [""];
  const [kind, name] = [from.slice(0, from.indexOf(":")), from.slice(from.indexOf(":") + 1)];
  if (kind === "network") {
    const spec = (range.description.networks ?? []).find((n) => n.name === name)!;
    const cidr = parseCidr(spec.subnet);
    return [` srcipaddr='${escapeXml(ipText(cidr.base))}' srcipmask='${cidr.bits}'`];
  }
  const addresses = range.guests.filter((g) => g.guestId === name).flatMap((g) =>
    g.nics.map((n) => n.address!)
  );
  return [...new Set(addresses)].map((a) => ` srcipaddr='${escapeXml(a)}'`);
}

/** The protocol element matching one allowed service from one source. */
function serviceElement(service: string, source: string): string {
  if (service === "all") return `<all${source}/>`;
  if (service === "icmp") return `<icmp${source}/>`;
  const [protocol, ports] = service.split("/");
  const [first, last] = ports.split("-");
  return `<${protocol}${source} dstportstart='${first}'${last ? ` dstportend='${last}'` : ""}/>`;
}

/**
 * The XML of the filter protecting one guest kind (see the module documentation for the rules).
 *
 * @param range the validated range
 * @param guestId the guest kind, the `to` of at least one rule
 * @returns the `<filter>` definition
 * @throws {RangeError} when no rule protects that guest kind
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * import { firewallFilterXml } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "qemu:///system" }],
 *   storage: { pool: "default" },
 *   networks: [{ name: "lab-net", mode: "isolated", subnet: "10.9.0.0/24" }],
 *   guests: [{ id: "web", memory: 96, nics: [{ network: "lab-net" }] }],
 *   firewall: [{ from: "lab-net", to: "web", allow: ["tcp/80"] }],
 * });
 * console.log(firewallFilterXml(range, "web").includes("dstportstart='80'")); // true
 * ```
 */
export function firewallFilterXml(range: Range, guestId: string): string {
  const rules: FirewallRuleSpec[] = (range.description.firewall ?? []).filter((r) => r.to === guestId);
  if (rules.length === 0) {
    throw new RangeError(
      `Cannot build a firewall filter for guest ${JSON.stringify(guestId)}: no rule protects it`,
    );
  }
  const lines: string[] = [
    // replies to what the guest opened, and to connections a rule let in
    "<rule action='accept' direction='in' priority='-500'><all state='ESTABLISHED,RELATED'/></rule>",
    // DHCP answers of the network's server: the guest keeps getting its lease
    "<rule action='accept' direction='in' priority='-400'><udp srcportstart='67' dstportstart='68'/></rule>",
  ];
  let accept = 100;
  let drop = 600;
  for (const rule of rules) {
    for (const source of sources(range, rule.from)) {
      for (const service of rule.allow) {
        lines.push(
          `<rule action='accept' direction='in' priority='${accept++}'>${
            serviceElement(service, source)
          }</rule>`,
        );
      }
      lines.push(`<rule action='drop' direction='in' priority='${drop++}'><all${source}/></rule>`);
    }
  }
  return `<filter name='${escapeXml(firewallFilterName(range.name, guestId))}' chain='root'>${
    lines.join("")
  }</filter>`;
}

/**
 * The filters a range defines on one host: one per protected guest kind with instances there.
 *
 * @param range the validated range
 * @param hostId the host
 * @returns the filters, in the order of the rules
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * import { firewallFilters } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{ id: "web", memory: 64 }],
 * });
 * console.log(firewallFilters(range, "h")); // []
 * ```
 */
export function firewallFilters(range: Range, hostId: string): FirewallFilter[] {
  const protectedKinds = [...new Set((range.description.firewall ?? []).map((r) => r.to))];
  return protectedKinds
    .filter((id) => range.guests.some((g) => g.guestId === id && g.hostId === hostId))
    .map((id) => ({
      name: firewallFilterName(range.name, id),
      guestId: id,
      xml: firewallFilterXml(range, id),
    }));
}

/**
 * The XML that redefines a filter already on a host: libvirt refuses a definition of an existing
 * filter's name without that filter's UUID ("already exists with uuid ..."), so the definition gets
 * the UUID of the filter of that name there; unchanged when there is none (removed meanwhile).
 *
 * @param conn a connection to the host
 * @param filter the filter to define again ({@link firewallFilters})
 * @returns its XML, with `<uuid>` when a filter of its name exists
 * @throws {LibvirtError} when the host cannot be asked
 *
 * @example
 * ```ts ignore
 * const xml = await firewallRedefinitionXml(conn, filter);
 * (await conn.nwFilterDefineXml(xml)).free(); // the rules change in place, guests keep the filter
 * ```
 */
export async function firewallRedefinitionXml(conn: Connection, filter: FirewallFilter): Promise<string> {
  let uuid: string;
  try {
    using existing = await conn.nwFilterLookupByName(filter.name);
    uuid = existing.getUuidString();
  } catch (error) {
    if (isNotFound(error)) return filter.xml;
    throw error;
  }
  return filter.xml.replace(/^<filter\b[^>]*>/, (open) => `${open}<uuid>${escapeXml(uuid)}</uuid>`);
}

/**
 * A guest's domain XML with the filter of its kind referenced from every NIC; unchanged when no rule
 * protects the kind.
 *
 * @param range the validated range
 * @param guestId the guest's kind
 * @param domainXml the domain XML the range built
 * @returns the XML with `<filterref filter='...'/>` in every `<interface>`
 *
 * @example
 * ```ts
 * import { validateRange } from "@deno-libvirt/deno-libvirt";
 * import { withFirewall } from "@deno-libvirt/deno-libvirt";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{ id: "web", memory: 64 }],
 * });
 * console.log(withFirewall(range, "web", "<domain/>")); // <domain/>
 * ```
 */
export function withFirewall(range: Range, guestId: string, domainXml: string): string {
  if (!(range.description.firewall ?? []).some((r) => r.to === guestId)) return domainXml;
  const ref = `<filterref filter='${escapeXml(firewallFilterName(range.name, guestId))}'/>`;
  return domainXml.replace(/<\/interface>/g, () => `${ref}</interface>`); // a function: no `$` patterns
}

/**
 * Gives the NICs of an existing guest of a protected kind the filter reference they lack (a guest
 * defined before its kind had a rule): the NIC's own `<interface>` is updated with a `<filterref>`
 * (virDomainUpdateDeviceFlags), live when the guest runs and in its persistent definition, and
 * libvirt applies the filter at once. A NIC that references another filter is left alone.
 *
 * @param range the validated range
 * @param guestId the guest's kind
 * @param domain the guest's domain
 * @returns the MACs of the NICs that got the reference (empty when none lacked it, or no rule
 *   protects the kind)
 * @throws {LibvirtError} when libvirt refuses the update
 *
 * @example
 * ```ts ignore
 * const fixed = await ensureFilterRefs(range, "web", dom);
 * console.log(`${fixed.length} NIC(s) now filtered`);
 * ```
 */
export async function ensureFilterRefs(range: Range, guestId: string, domain: Domain): Promise<string[]> {
  if (!(range.description.firewall ?? []).some((r) => r.to === guestId)) return [];
  const name = firewallFilterName(range.name, guestId);
  const ref = `<filterref filter='${escapeXml(name)}'/>`;
  const lacking = (xml: string) => parseNics(xml).filter((n) => !/<filterref\b/.test(n.xml));
  const add = (element: string) => element.replace(/<\/interface>\s*$/, () => `${ref}</interface>`);
  const fixed: string[] = [];
  const running = await domain.isActive();
  if (running) {
    for (const nic of lacking(await domain.xmlDesc())) {
      await domain.updateDeviceFlags(add(nic.xml), { live: true });
      fixed.push(nic.mac);
    }
  }
  if (await domain.isPersistent()) {
    for (const nic of lacking(await domain.xmlDesc({ inactive: true }))) {
      await domain.updateDeviceFlags(add(nic.xml), { config: true });
      if (!fixed.includes(nic.mac)) fixed.push(nic.mac);
    }
  }
  return fixed;
}
