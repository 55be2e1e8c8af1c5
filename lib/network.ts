/**
 * Virtual networks: the {@link Network} object and its finders (lookup, listing, define, create).
 *
 * A {@link Network} (lib/objects/network.ts) wraps a `virNetworkPtr` of one connection, like a
 * `Domain`: users get them from {@link lookupNetwork}, {@link listAllNetworks}, {@link defineNetwork}
 * or {@link createNetwork}, and free them with `using` (or {@link Network.free}); the connection frees
 * whatever is still open when it closes. Everything else is a method, one libvirt call each:
 * `net.create()` (start), `net.destroy()`, `net.undefine()`, `net.getDhcpLeases()`, `net.bridgeName()`,
 * `net.setAutostart()`. The functions `startNetwork`, `destroyNetwork`, `undefineNetwork` and
 * `dhcpLeases` are deprecated aliases of those methods (the API rule in docs/design.md).
 *
 * @example
 * ```ts
 * import { Connection, dhcpLeases, isNotSupported, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 *
 * await using conn = await Connection.open("test:///default");
 * using net = await lookupNetwork(conn, "default");
 * console.log(net.name, await net.bridgeName(), await net.isActive());
 * try {
 *   for (const lease of await dhcpLeases(net)) console.log(lease.mac, lease.address);
 * } catch (error) {
 *   if (!isNotSupported(error)) throw error; // the test driver keeps no leases
 * }
 * ```
 *
 * @module
 */
import { asOperation } from "./_handle.ts";
import type { DhcpLease, DhcpLeasesOptions, Network } from "./objects/network.ts";

export {
  _takeLeasesForTesting,
  createNetwork,
  defineNetwork,
  type DhcpLease,
  type DhcpLeasesOptions,
  listAllNetworks,
  listNetworksFlags,
  type ListNetworksOptions,
  lookupNetwork,
  Network,
  type NetworkXmlOptions,
} from "./objects/network.ts";

/**
 * Starts a defined network (virNetworkCreate).
 *
 * @deprecated use `network.create()` ({@link Network.create}): the same call, one name for it (the API
 *   rule in docs/design.md). This alias stays for existing code and keeps its message
 *   (`Cannot start network "x": ...`).
 *
 * @param network the network
 * @throws {OperationInvalidError} when it is already running
 *
 * @example
 * ```ts
 * import { Connection, defineNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<network><name>docs-net</name><bridge name='docsbr0'/></network>"; // the test driver makes no bridge
 * using net = await defineNetwork(conn, xml);
 * await net.create(); // was: await startNetwork(net)
 * console.log(await net.isActive()); // true
 * await net.destroy();
 * await net.undefine();
 * ```
 */
export async function startNetwork(network: Network): Promise<void> {
  await asOperation(network, "start", () => network.create());
}

/**
 * Stops a network (virNetworkDestroy); a transient network disappears. Guests attached to it lose
 * their link.
 *
 * @deprecated use `network.destroy()` ({@link Network.destroy}): the same call, one name for it. This
 *   alias stays for existing code and keeps its message (`Cannot destroy network "x": ...`).
 *
 * @param network the network
 * @throws {OperationInvalidError} when it is not running
 *
 * @example
 * ```ts
 * import { Connection, createNetwork, isNotFound, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<network><name>docs-net</name><bridge name='docsbr0'/></network>"; // the test driver makes no bridge
 * using net = await createNetwork(conn, xml);
 * await net.destroy(); // was: await destroyNetwork(net)
 * console.log(await lookupNetwork(conn, "docs-net").catch(isNotFound)); // true: it is gone
 * ```
 */
export async function destroyNetwork(network: Network): Promise<void> {
  await asOperation(network, "destroy", () => network.destroy());
}

/**
 * Removes a network's persistent definition (virNetworkUndefine); a running network becomes transient.
 *
 * @deprecated use `network.undefine()` ({@link Network.undefine}): the same call, one name for it. This
 *   alias stays for existing code and keeps its message (`Cannot undefine network "x": ...`).
 *
 * @param network the network
 * @throws {OperationInvalidError} when the network is transient
 *
 * @example
 * ```ts
 * import { Connection, defineNetwork, isNotFound, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<network><name>docs-net</name><bridge name='docsbr0'/></network>"; // the test driver makes no bridge
 * using net = await defineNetwork(conn, xml);
 * await net.undefine(); // was: await undefineNetwork(net)
 * console.log(await lookupNetwork(conn, "docs-net").catch(isNotFound)); // true: the definition is gone
 * ```
 */
export async function undefineNetwork(network: Network): Promise<void> {
  await asOperation(network, "undefine", () => network.undefine());
}

/**
 * The DHCP leases libvirt's dnsmasq handed out on a network (virNetworkGetDHCPLeases). Expired leases
 * are not reported.
 *
 * @deprecated use `network.getDhcpLeases(options)` ({@link Network.getDhcpLeases}): this alias is
 *   that method under a second name (same result, same errors).
 *
 * @param network the network
 * @param options `mac`: only the leases of this MAC address
 * @returns the leases, in libvirt's order
 * @throws {NotSupportedError} on drivers without DHCP (the test driver)
 * @throws {OperationInvalidError} when the network is not running
 *
 * @example
 * ```ts
 * import { Connection, isNotSupported, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using net = await lookupNetwork(conn, "default"); // qemu:///system: dnsmasq hands out the leases
 * // was: await dhcpLeases(net, { mac })
 * const leases = await net.getDhcpLeases({ mac: "52:54:00:00:00:01" }).catch((error) => {
 *   if (isNotSupported(error)) return []; // the test driver keeps no leases
 *   throw error;
 * });
 * for (const lease of leases) console.log(lease.mac, lease.address, lease.prefix, lease.expiryTime, lease.hostname);
 * ```
 */
export async function dhcpLeases(network: Network, options: DhcpLeasesOptions = {}): Promise<DhcpLease[]> {
  return await network.getDhcpLeases(options);
}
