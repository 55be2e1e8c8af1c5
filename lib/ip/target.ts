// What discovery needs to know about a domain, read from its live XML in one call and one parse:
// the NICs (by MAC), the guest-agent channel's state, and addresses planned in the domain's metadata.
import type { Connection } from "../connection.ts";
import type { Domain } from "../domain.ts";
import { interfacesOf } from "../domain/nics.ts";
import { asArray, attribute, type ParsedXml, parseXml } from "../xml.ts";
import { normalizeMac } from "./addresses.ts";
import type { DiscoveryTarget, Nic } from "./types.ts";

/**
 * The namespace of the address plan in domain metadata:
 * `<metadata><ip:plan xmlns:ip="urn:deno-libvirt:ip-plan:1"><ip:nic mac="52:54:..." address="10.0.0.5"/></ip:plan></metadata>`.
 * Range automation writes it; discovery's plan source reads it.
 */
export const PLAN_NAMESPACE = "urn:deno-libvirt:ip-plan:1";

/** The parts of a domain's XML discovery uses. */
export interface DomainXmlFacts {
  /** The domain's NICs, in XML order. */
  nics: Nic[];
  /** The guest agent channel's state, from the live XML. */
  agent: DiscoveryTarget["agent"];
  /** Planned addresses from the {@link PLAN_NAMESPACE} metadata, by MAC. */
  plannedByMac: Map<string, string[]>;
  /** Whether the XML is a running domain's (a domain `id` other than -1). */
  active: boolean;
}

/** Reads NICs, agent channel state, planned addresses and liveness from domain XML. */
export function readDomainXml(xml: string): DomainXmlFacts {
  const root = parseXml(xml).domain as ParsedXml | undefined;
  if (!root || typeof root !== "object") {
    throw new TypeError("Cannot read the domain XML: no <domain> element");
  }
  const nics: Nic[] = [];
  for (const iface of interfacesOf(root)) {
    const mac = normalizeMac(iface.mac);
    if (!mac) continue; // libvirt always assigns one; an interface without is not addressable
    const network = iface.type === "network" ? iface.source : undefined;
    const bridge = iface.type === "bridge" ? iface.source : iface.bridge;
    nics.push({
      mac,
      type: iface.type || "unknown",
      ...(network !== undefined ? { network } : {}),
      ...(bridge !== undefined ? { bridge } : {}),
      ...(iface.target !== undefined ? { target: iface.target } : {}),
      ...(iface.model !== undefined ? { model: iface.model } : {}),
    });
  }
  let agent: DiscoveryTarget["agent"] = "absent";
  for (const channel of asArray(asArray(root.devices)[0]?.channel)) {
    const target = asArray(channel.target)[0];
    if (attribute(target, "name") !== "org.qemu.guest_agent.0") continue;
    const state = attribute(target, "state");
    agent = state === "connected" ? "connected" : state === "disconnected" ? "disconnected" : "unknown";
  }
  const plannedByMac = new Map<string, string[]>();
  for (const metadata of asArray(root.metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      if (key.startsWith("@_")) continue;
      const prefix = key.includes(":") ? key.slice(0, key.indexOf(":")) : "";
      for (const element of asArray(value)) {
        if (attribute(element, prefix ? `xmlns:${prefix}` : "xmlns") !== PLAN_NAMESPACE) continue;
        for (const [childKey, child] of Object.entries(element)) {
          if (childKey.replace(/^.*:/, "") !== "nic") continue;
          for (const nic of asArray(child)) {
            const mac = normalizeMac(attribute(nic, "mac"));
            const address = attribute(nic, "address");
            if (mac && address) plannedByMac.set(mac, [...(plannedByMac.get(mac) ?? []), address]);
          }
        }
      }
    }
  }
  const id = attribute(root, "id");
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
