// Source "agent": qemu-guest-agent's view from inside the guest (guest-network-get-interfaces through
// virDomainInterfaceAddresses). The channel's state in the live XML is checked first, so a guest
// without a running agent costs nothing instead of libvirt's multi-second timeout.
import { normalizeMac } from "../addresses.ts";
import { type AddressSource, type DiscoveryTarget, type Sighting, SourceSkipped } from "../types.ts";

/** The guest-agent source. */
export const agentSource: AddressSource = {
  name: "agent",
  async discover(target: DiscoveryTarget): Promise<Sighting[]> {
    if (!target.active) throw new SourceSkipped("the domain is not running");
    if (target.agent === "absent") {
      throw new SourceSkipped("no guest agent channel (org.qemu.guest_agent.0) in the domain XML");
    }
    if (target.agent === "disconnected") {
      throw new SourceSkipped("the guest agent is not connected (qemu-ga not running in the guest yet?)");
    }
    if (target.connection.readOnly) {
      throw new SourceSkipped("a read-only connection cannot query the guest agent");
    }
    const interfaces = await target.domain.interfaceAddresses("agent");
    return interfaces.flatMap((iface) =>
      iface.addresses.map((a) => ({
        source: "agent" as const,
        mac: normalizeMac(iface.mac),
        interfaceName: iface.name,
        address: a.address,
        family: a.family,
        prefix: a.prefix,
      }))
    );
  },
};
