/**
 * The {@link Network} object (a `virNetworkPtr` of one connection: one-call methods, generated and
 * hand-written) and its finders: {@link lookupNetwork}, {@link listAllNetworks}, {@link defineNetwork},
 * {@link createNetwork}. Users free networks with `using` (or {@link Network.free}); the connection
 * frees whatever is still open when it closes. Starting, stopping, undefining and reading leases are
 * methods (`net.create()`, `net.destroy()`, `net.undefine()`, `net.getDhcpLeases()`); lib/network.ts
 * keeps the older free-function names as deprecated aliases.
 *
 * @module
 */
import { A_CONNECTION, checkInstance, checkOptions, checkString } from "../_args.ts";
import { Connection, kInternals } from "../connection.ts";
import { type HandleType, isUuid, kCall, kPointer } from "../_handle.ts";
import { cString, isNegative, isNull, OutSlot, takeCString, takePointerArray } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import { decodeDhcpLease } from "../ffi/structs.ts";
import { UUID_STRING_BUFLEN } from "../ffi/constants.ts";
import { ListNetworksFlag, NETWORK_XML_INACTIVE } from "../ffi/constants.ts";
import { describeXml } from "../xml.ts";
import { NetworkCalls } from "./_generated/network.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

/** Filters for {@link listAllNetworks} (`VIR_CONNECT_LIST_NETWORKS_*`); unset means no filter. */
export interface ListNetworksOptions {
  /** true: only running networks; false: only inactive ones. */
  active?: boolean;
  /** true: only defined (persistent) networks; false: only transient ones. */
  persistent?: boolean;
  /** true: only networks that start with the host; false: only those that do not. */
  autostart?: boolean;
}

/** Options for {@link Network.xmlDesc}. */
export interface NetworkXmlOptions {
  /** The persistent definition (`VIR_NETWORK_XML_INACTIVE`) rather than the running network's XML. */
  inactive?: boolean;
}

/** Options for {@link Network.getDhcpLeases}. */
export interface DhcpLeasesOptions {
  /** Only the leases of this MAC address, e.g. "52:54:00:aa:bb:cc". */
  mac?: string;
}

/** One DHCP lease of a virtual network (`virNetworkDHCPLease`). */
export interface DhcpLease {
  /** The network's bridge, e.g. "virbr0". */
  interface: string;
  /** When the lease expires; the epoch (`new Date(0)`) for a lease that never does. */
  expiryTime: Date;
  /** The address family of {@link DhcpLease.address}. */
  type: "ipv4" | "ipv6";
  /** The guest interface's MAC address. */
  mac: string;
  /** The IAID of an IPv6 lease. */
  iaid?: string;
  /** The leased address, without prefix. */
  address: string;
  /** The prefix length of the network, e.g. 24. */
  prefix: number;
  /** The host name the guest sent, if any. */
  hostname?: string;
  /** The client id (IPv4) or DUID (IPv6), if any. */
  clientId?: string;
}

/** @internal Translates {@link ListNetworksOptions} into virConnectListAllNetworks flags. */
export function listNetworksFlags(options: ListNetworksOptions = {}): number {
  let flags = 0;
  if (options.active !== undefined) {
    flags |= options.active ? ListNetworksFlag.ACTIVE : ListNetworksFlag.INACTIVE;
  }
  if (options.persistent !== undefined) {
    flags |= options.persistent ? ListNetworksFlag.PERSISTENT : ListNetworksFlag.TRANSIENT;
  }
  if (options.autostart !== undefined) {
    flags |= options.autostart ? ListNetworksFlag.AUTOSTART : ListNetworksFlag.NO_AUTOSTART;
  }
  return flags;
}

const constructing = Symbol("deno_libvirt.network.constructing");

const networkType: HandleType = {
  className: "Network",
  noun: "network",
  ref: (h) => libvirt().symbols.virNetworkRef(h),
  free: (h) => libvirt().symbols.virNetworkFree(h),
  name: (h) => libvirt().symbols.virNetworkGetName(h),
};

/**
 * A libvirt virtual network of one connection. Not constructible by users: get one from
 * {@link lookupNetwork}, {@link listAllNetworks}, {@link defineNetwork} or {@link createNetwork}.
 * Every method is one libvirt call: `create()` starts a defined network, `destroy()` stops it,
 * `undefine()` removes its definition, `getDhcpLeases()` reads dnsmasq's leases.
 *
 * @example
 * ```ts
 * import { Connection, lookupNetwork, type Network } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using net: Network = await lookupNetwork(conn, "default");
 * console.log(net); // Network { name: "default" }
 * console.log(net.uuid, await net.bridgeName(), await net.isActive(), await net.autostart()); // "dd8fe884-..." "virbr0" true false
 * ```
 */
export class Network extends NetworkCalls {
  #uuid: string | undefined;

  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError("Cannot construct a Network directly: use lookupNetwork() or listAllNetworks()");
    }
    super(networkType, connection, handle);
  }

  /** The network's UUID, e.g. "dd8fe884-6c02-601e-7551-cca97df1c5df" (local). */
  get uuid(): string {
    if (this.#uuid === undefined) {
      const buffer = new Uint8Array(UUID_STRING_BUFLEN);
      libvirt().symbols.virNetworkGetUUIDString(this[kPointer]("read the UUID of"), buffer);
      this.#uuid = new TextDecoder().decode(buffer.subarray(0, 36));
    }
    return this.#uuid;
  }

  /**
   * The network's XML description (virNetworkGetXMLDesc).
   *
   * @param options `inactive`: the persistent definition instead of the running network's XML
   * @returns the XML document
   * @throws {LibvirtError} when libvirt cannot describe the network
   */
  async xmlDesc(options: NetworkXmlOptions = {}): Promise<string> {
    const flags = options.inactive ? NETWORK_XML_INACTIVE : 0;
    const pointer = await this[kCall](
      "get the XML of",
      (h) => libvirt().symbols.virNetworkGetXMLDescAsync(h, flags),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** True while the network runs (virNetworkIsActive). */
  async isActive(): Promise<boolean> {
    const result = await this[kCall](
      "check whether {} is active",
      (h) => libvirt().symbols.virNetworkIsActiveAsync(h),
      isNegative,
    );
    return result === 1;
  }

  /** True when the network is defined, false when it is transient (virNetworkIsPersistent). */
  async isPersistent(): Promise<boolean> {
    const result = await this[kCall](
      "check whether {} is persistent",
      (h) => libvirt().symbols.virNetworkIsPersistentAsync(h),
      isNegative,
    );
    return result === 1;
  }

  /**
   * The name of the host bridge the network uses, e.g. "virbr0" (virNetworkGetBridgeName).
   *
   * @throws {LibvirtError} for networks without a bridge (e.g. `<forward mode='hostdev'>`)
   */
  async bridgeName(): Promise<string> {
    const pointer = await this[kCall](
      "get the bridge name of",
      (h) => libvirt().symbols.virNetworkGetBridgeNameAsync(h),
      isNull,
    );
    return takeCString(pointer) ?? "";
  }

  /** True when the network starts with the host (virNetworkGetAutostart). */
  async autostart(): Promise<boolean> {
    const slot = new OutSlot();
    await this[kCall](
      "get the autostart flag of",
      (h) => libvirt().symbols.virNetworkGetAutostartAsync(h, slot.buffer),
      isNegative,
    );
    return slot.int32 !== 0;
  }

  /**
   * Makes a persistent network start with the host, or not (virNetworkSetAutostart).
   *
   * @throws {LibvirtError} for a transient network
   */
  async setAutostart(enabled: boolean): Promise<void> {
    await this[kCall](
      enabled ? "enable autostart of" : "disable autostart of",
      (h) => libvirt().symbols.virNetworkSetAutostartAsync(h, enabled ? 1 : 0),
      isNegative,
    );
  }

  /**
   * The DHCP leases libvirt's dnsmasq handed out on the network (virNetworkGetDHCPLeases). Expired
   * leases are not reported.
   *
   * @param options `mac`: only the leases of this MAC address
   * @returns the leases, in libvirt's order
   * @throws {NotSupportedError} on drivers without DHCP (the test driver)
   * @throws {OperationInvalidError} when the network is not running
   */
  async getDhcpLeases(options: DhcpLeasesOptions = {}): Promise<DhcpLease[]> {
    const mac = options.mac === undefined ? null : cString(options.mac, "MAC address");
    const slot = new OutSlot();
    return await this[kCall](
      "read DHCP leases of",
      (h) => libvirt().symbols.virNetworkGetDHCPLeasesAsync(h, mac, slot.buffer, 0),
      isNegative,
      (count) => takeLeases(slot.pointer, count),
    );
  }
}

function adoptNetwork(connection: Connection) {
  return (handle: Deno.PointerValue) => new Network(constructing, connection, handle!);
}

/**
 * Looks a network up by name or UUID string.
 *
 * @param connection the connection to ask
 * @param key a name ("default") or a UUID ("dd8fe884-6c02-601e-7551-cca97df1c5df")
 * @returns a handle to free with `using` or {@link Network.free}
 * @throws {NotFoundError} when no such network exists
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, lookupNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using net = await lookupNetwork(conn, "default");
 * console.log((await net.xmlDesc()).includes("<bridge name='virbr0'")); // true
 * ```
 */
export async function lookupNetwork(connection: Connection, key: string): Promise<Network> {
  checkInstance(connection, Connection, "look up a network", "connection", A_CONNECTION);
  const lib = libvirt().symbols;
  const text = cString(checkString(key, "look up a network", "key"), "network name");
  return await connection[kInternals].call(
    () => `look up network ${JSON.stringify(key)}`,
    (h) =>
      isUuid(key) ? lib.virNetworkLookupByUUIDStringAsync(h, text) : lib.virNetworkLookupByNameAsync(h, text),
    isNull,
    adoptNetwork(connection),
  );
}

/**
 * Lists the networks of a connection in one call (virConnectListAllNetworks).
 *
 * @param connection the connection to ask
 * @param options filters; none lists every network
 * @returns handles the caller frees (`for (using n of ...)` or free each)
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, listAllNetworks } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * for (using net of await listAllNetworks(conn, { active: true })) console.log(net.name); // "default"
 * ```
 */
export async function listAllNetworks(
  connection: Connection,
  options: ListNetworksOptions = {},
): Promise<Network[]> {
  checkInstance(connection, Connection, "list networks", "connection", A_CONNECTION);
  checkOptions(options, "list networks", { active: "boolean", persistent: "boolean", autostart: "boolean" });
  const slot = new OutSlot();
  return await connection[kInternals].call(
    () => `list the networks of ${JSON.stringify(connection.uri)}`,
    (h) => libvirt().symbols.virConnectListAllNetworksAsync(h, slot.buffer, listNetworksFlags(options)),
    isNegative,
    (count) => takePointerArray(slot.pointer, count).map(adoptNetwork(connection)),
  );
}

/**
 * Defines a persistent network from XML (virNetworkDefineXML); it stays inactive until started.
 *
 * @param connection the connection to define it on
 * @param xml the network XML (`<network><name>...</name>...</network>`)
 * @returns a handle to the new network
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid or the name is taken
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, defineNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<network><name>docs-net</name><bridge name='docsbr0'/></network>"; // the test driver makes no bridge
 * using net = await defineNetwork(conn, xml);
 * console.log(await net.isActive(), await net.isPersistent()); // false true
 * await net.undefine();
 * ```
 */
export async function defineNetwork(connection: Connection, xml: string): Promise<Network> {
  checkInstance(connection, Connection, "define a network", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "define a network", "xml"), "network XML");
  return await connection[kInternals].call(
    () => `define network ${describeXml(xml)}`,
    (h) => libvirt().symbols.virNetworkDefineXMLAsync(h, text),
    isNull,
    adoptNetwork(connection),
  );
}

/**
 * Creates and starts a transient network from XML (virNetworkCreateXML); it disappears when destroyed.
 *
 * @param connection the connection to create it on
 * @param xml the network XML
 * @returns a handle to the running network
 * @throws {LibvirtError} with libvirt's reason when the XML is invalid, the name is taken or the
 *   network cannot start (bridge or addresses in use)
 * @throws {TypeError} for an argument of the wrong type (or a string with a NUL), naming it
 * @throws {RangeError} for an argument out of range (an empty name, an id beyond a C int), naming it
 *
 * @example
 * ```ts
 * import { Connection, createNetwork } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const xml = "<network><name>docs-net</name><bridge name='docsbr0'/></network>"; // the test driver makes no bridge
 * using net = await createNetwork(conn, xml);
 * console.log(await net.isActive(), await net.isPersistent()); // true false
 * await net.destroy(); // a transient network disappears
 * ```
 */
export async function createNetwork(connection: Connection, xml: string): Promise<Network> {
  checkInstance(connection, Connection, "create a network", "connection", A_CONNECTION);
  const text = cString(checkString(xml, "create a network", "xml"), "network XML");
  return await connection[kInternals].call(
    () => `create network ${describeXml(xml)}`,
    (h) => libvirt().symbols.virNetworkCreateXMLAsync(h, text),
    isNull,
    adoptNetwork(connection),
  );
}

/** Decodes and frees the lease array virNetworkGetDHCPLeases returned. */
function takeLeases(array: Deno.PointerValue, count: number): DhcpLease[] {
  const pointers = takePointerArray(array, count); // frees the array itself
  try {
    return pointers.map((pointer) => {
      const raw = decodeDhcpLease(pointer);
      return {
        interface: raw.iface,
        expiryTime: new Date(Number(raw.expiryTime) * 1000),
        type: raw.type === 1 ? "ipv6" : "ipv4",
        mac: raw.mac ?? "",
        ...(raw.iaid !== null ? { iaid: raw.iaid } : {}),
        address: raw.ipaddr,
        prefix: raw.prefix,
        ...(raw.hostname !== null ? { hostname: raw.hostname } : {}),
        ...(raw.clientId !== null ? { clientId: raw.clientId } : {}),
      };
    });
  } finally {
    for (const pointer of pointers) libvirt().symbols.virNetworkDHCPLeaseFree(pointer);
  }
}

/**
 * @internal For tests only (not exported from mod.ts): decodes and frees a lease array built in
 * malloc'd memory, since the test driver cannot produce leases.
 */
export const _takeLeasesForTesting: (array: Deno.PointerValue, count: number) => DhcpLease[] = takeLeases;

registerHandleFactory(
  "virNetworkPtr",
  (owner, pointer) => adoptNetwork(connectionOf<Connection>(owner))(pointer),
);

// The registry entry through which the layers below name Network (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    Network: Network;
  }
}
