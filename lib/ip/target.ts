// What discovery needs to know about a domain, read from its live XML in one call: the NICs (by MAC),
// the guest-agent channel's state, and addresses planned in the domain's metadata.
import { XMLParser } from "../_deps.ts";
import type { Connection } from "../connection.ts";
import type { Domain } from "../domain.ts";
import { normalizeMac } from "./addresses.ts";
import type { DiscoveryTarget, Nic } from "./types.ts";

/**
 * The namespace of the address plan in domain metadata:
 * `<metadata><ip:plan xmlns:ip="urn:deno-libvirt:ip-plan:1"><ip:nic mac="52:54:..." address="10.0.0.5"/></ip:plan></metadata>`.
 * Range automation writes it; discovery's plan source reads it.
 */
export const PLAN_NAMESPACE = "urn:deno-libvirt:ip-plan:1";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name, _path, _leaf, isAttribute) =>
    !isAttribute && ["interface", "channel", "nic"].includes(name.replace(/^.*:/, "")),
});

type XmlNode = Record<string, unknown>;
const asArray = (value: unknown): XmlNode[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value as XmlNode];
const attr = (node: unknown, name: string): string | undefined => {
  const value = (node as XmlNode | undefined)?.[name];
  return typeof value === "string" ? value : undefined;
};

/** The parts of a domain's XML discovery uses. */
export interface DomainXmlFacts {
  nics: Nic[];
  agent: DiscoveryTarget["agent"];
  plannedByMac: Map<string, string[]>;
  active: boolean;
}

/** Reads NICs, agent channel state, planned addresses and liveness from domain XML. */
export function readDomainXml(xml: string): DomainXmlFacts {
  const root = (parser.parse(xml) as XmlNode).domain as XmlNode | undefined;
  if (!root) throw new TypeError("Cannot read the domain XML: no <domain> element");
  const devices = (root.devices ?? {}) as XmlNode;
  const nics: Nic[] = [];
  for (const iface of asArray(devices.interface)) {
    const mac = normalizeMac(attr(iface.mac, "address"));
    if (!mac) continue; // libvirt always assigns one; an interface without is not addressable
    const source = iface.source as XmlNode | undefined;
    nics.push({
      mac,
      type: attr(iface, "type") ?? "unknown",
      ...(attr(source, "network") ? { network: attr(source, "network") } : {}),
      ...(attr(source, "bridge") ? { bridge: attr(source, "bridge") } : {}),
      ...(attr(iface.target, "dev") ? { target: attr(iface.target, "dev") } : {}),
      ...(attr(iface.model, "type") ? { model: attr(iface.model, "type") } : {}),
    });
  }
  let agent: DiscoveryTarget["agent"] = "absent";
  for (const channel of asArray(devices.channel)) {
    const target = channel.target as XmlNode | undefined;
    if (attr(target, "name") !== "org.qemu.guest_agent.0") continue;
    const state = attr(target, "state");
    agent = state === "connected" ? "connected" : state === "disconnected" ? "disconnected" : "unknown";
  }
  const plannedByMac = new Map<string, string[]>();
  const metadata = root.metadata as XmlNode | undefined;
  for (const [key, value] of Object.entries(metadata ?? {})) {
    const element = value as XmlNode;
    const prefix = key.includes(":") ? key.slice(0, key.indexOf(":")) : "";
    const ns = attr(element, prefix ? `xmlns:${prefix}` : "xmlns");
    if (ns !== PLAN_NAMESPACE) continue;
    for (const [childKey, child] of Object.entries(element)) {
      if (childKey.replace(/^.*:/, "") !== "nic") continue;
      for (const nic of asArray(child)) {
        const mac = normalizeMac(attr(nic, "mac"));
        const address = attr(nic, "address");
        if (!mac || !address) continue;
        plannedByMac.set(mac, [...(plannedByMac.get(mac) ?? []), address]);
      }
    }
  }
  const id = attr(root, "id");
  return { nics, agent, plannedByMac, active: id !== undefined && id !== "-1" };
}

/** Builds the discovery target of a domain: one XML read on its connection. */
export async function readTarget(
  domain: Domain,
  connection: Connection = domain.connection,
): Promise<DiscoveryTarget> {
  const facts = readDomainXml(await domain.xmlDesc());
  return { domain, connection, name: domain.name, uuid: domain.uuid, uri: connection.uri, ...facts };
}
