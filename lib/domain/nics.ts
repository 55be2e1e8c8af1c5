/**
 * A domain's NICs, parsed from its XML description ({@link parseDomainInterfaces}, {@link domainInterfaces}:
 * one read and a parse, an answer no single method gives). What a libvirt address source reports is the
 * method {@link Domain.interfaceAddresses}; the function `interfaceAddresses` is its deprecated alias.
 *
 * @module
 */
import type {
  Domain,
  DomainXmlOptions,
  InterfaceAddresses,
  InterfaceAddressSource,
} from "../objects/domain.ts";
import { asArray, attribute, describeXml, type ParsedXml, parseXml } from "../xml.ts";

/**
 * The addresses one libvirt source reports for a domain's interfaces (virDomainInterfaceAddresses).
 * This is the raw query; lib/ip/ merges sources, filters and explains.
 *
 * @deprecated use `domain.interfaceAddresses(source)` ({@link Domain.interfaceAddresses}): this alias is
 *   that method under a second name (same result, same errors; the API rule in docs/design.md).
 *
 * @param domain the domain to ask about
 * @param source "lease" (libvirt's DHCP), "agent" (qemu-guest-agent; needs a read-write connection),
 *   "arp" (the host's neighbour table)
 * @returns one entry per interface the source knows
 * @throws {AgentUnresponsiveError} when the agent does not answer; {@link LibvirtError} otherwise
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * for (const nic of await dom.interfaceAddresses("lease")) { // was: await interfaceAddresses(dom, "lease")
 *   console.log(nic.name, nic.mac, nic.addresses); // testnet0 aa:bb:cc:dd:ee:ff [{ family: "ipv4", address: "192.168.122.3", prefix: 24 }]
 * }
 * ```
 */
export async function interfaceAddresses(
  domain: Domain,
  source: InterfaceAddressSource,
): Promise<InterfaceAddresses[]> {
  return await domain.interfaceAddresses(source);
}

// ---------------------------------------------------------------------------------------------------
// XML-derived descriptions: NICs and metadata.

/** One NIC of a domain, from its XML. */
export interface DomainInterface {
  /** MAC address, lower case ("" when the XML has none, which libvirt never returns). */
  mac: string;
  /** The `<interface type>`: "network", "bridge", "direct", "user", "ethernet", ... */
  type: string;
  /** The source: the network's name (network), the bridge (bridge), the host device (direct). */
  source?: string;
  /** For type "network" on a running domain: the bridge libvirt attached it to. */
  bridge?: string;
  /** The host-side device (`<target dev>`), e.g. "vnet3", on a running domain. */
  target?: string;
  /** The device model (`<model type>`): "virtio", "e1000", ... */
  model?: string;
  /** The device alias (`<alias name>`), e.g. "net0", on a running domain. */
  alias?: string;
}

/**
 * Parses the NICs (`<devices><interface>`) out of a domain XML document, with a real XML parser.
 *
 * @param xml a domain XML document, as {@link Domain.xmlDesc} returns it
 * @returns one entry per `<interface>`, in document order
 * @throws {TypeError} when the document is not a `<domain>`
 *
 * @example
 * ```ts
 * import { parseDomainInterfaces } from "@deno-libvirt/deno-libvirt";
 * const nics = parseDomainInterfaces(
 *   "<domain><devices><interface type='bridge'><mac address='52:54:00:AA:00:01'/>" +
 *     "<source bridge='br0'/><model type='virtio'/></interface></devices></domain>",
 * );
 * console.log(nics); // [{ mac: "52:54:00:aa:00:01", type: "bridge", source: "br0", model: "virtio" }]
 * ```
 */
export function parseDomainInterfaces(xml: string): DomainInterface[] {
  const domain = parseXml(xml).domain;
  if (domain === undefined || typeof domain !== "object") {
    throw new TypeError(`Cannot read the NICs of ${describeXml(xml)}: the document is not a <domain>`);
  }
  return interfacesOf(domain as ParsedXml);
}

/** @internal The NICs of an already parsed `<domain>` element (see {@link parseDomainInterfaces}). */
export function interfacesOf(domain: ParsedXml): DomainInterface[] {
  const devices = asArray(domain.devices)[0];
  if (devices === undefined) return [];
  return asArray(devices.interface).map((nic) => {
    const type = attribute(nic, "type") ?? "";
    const sourceElement = asArray(nic.source)[0];
    const source = type === "network"
      ? attribute(sourceElement, "network")
      : type === "bridge"
      ? attribute(sourceElement, "bridge")
      : attribute(sourceElement, "dev") ?? attribute(sourceElement, "network") ??
        attribute(sourceElement, "bridge");
    const result: DomainInterface = {
      mac: (attribute(asArray(nic.mac)[0], "address") ?? "").toLowerCase(),
      type,
    };
    if (source !== undefined) result.source = source;
    const bridge = type === "network" ? attribute(sourceElement, "bridge") : undefined;
    if (bridge !== undefined) result.bridge = bridge;
    const target = attribute(asArray(nic.target)[0], "dev");
    if (target !== undefined) result.target = target;
    const model = attribute(asArray(nic.model)[0], "type");
    if (model !== undefined) result.model = model;
    const alias = attribute(asArray(nic.alias)[0], "name");
    if (alias !== undefined) result.alias = alias;
    return result;
  });
}

/**
 * The domain's NICs, parsed from its XML description.
 *
 * @param domain the domain
 * @param options `inactive` for the persistent definition rather than the running domain's
 * @returns one entry per `<interface>`, MACs in lower case
 * @throws {LibvirtError} when libvirt cannot describe the domain
 *
 * @example
 * ```ts
 * import { Connection, domainInterfaces, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * console.log(await domainInterfaces(dom, { inactive: true })); // [{ mac: "aa:bb:cc:dd:ee:ff", type: "network", source: "default", ... }]
 * ```
 */
export async function domainInterfaces(
  domain: Domain,
  options: Pick<DomainXmlOptions, "inactive"> = {},
): Promise<DomainInterface[]> {
  return parseDomainInterfaces(await domain.xmlDesc({ inactive: options.inactive ?? false }));
}
