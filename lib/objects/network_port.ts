// A port of a virtual network (a guest NIC's attachment), named by its UUID.
import type { Connection } from "../connection.ts";
import type { HandleType } from "../_handle.ts";
import * as m from "../ffi/marshal.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { NetworkPortCalls } from "./_generated/network_port.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.network_port.constructing");

const handleType: HandleType = {
  className: "NetworkPort",
  noun: "network port",
  ref: (h) => libvirtSymbol("virNetworkPortRef")(h),
  free: (h) => libvirtSymbol("virNetworkPortFree")(h),
  name: (h) => {
    const buffer = m.uuidBuffer();
    libvirtSymbol("virNetworkPortGetUUIDString")(h, buffer);
    return m.uuidString(buffer);
  },
};

/**
 * A port of a virtual network (a guest NIC's attachment), named by its UUID. Not constructible by users: get one from
 * `network.portLookupByUuidString()`, `network.listAllPorts()` or `network.portCreateXml()`. Every method is one libvirt call (see {@link NetworkPortCalls}); free the handle with `using`
 * or {@link NetworkPort.free} (the connection frees what is left when it closes).
 *
 * @example
 * ```ts
 * import { Connection, lookupNetwork, type NetworkPort } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using net = await lookupNetwork(conn, "default");
 * // the test driver lists no ports (NotSupportedError): qemu:///system has one per guest NIC on the network
 * const ports: NetworkPort[] = await net.listAllPorts().catch(() => []);
 * for (using port of ports) console.log(port.name);
 * ```
 */
export class NetworkPort extends NetworkPortCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a NetworkPort directly: use network.portLookupByUuidString(), network.listAllPorts() or network.portCreateXml()",
      );
    }
    super(handleType, connection, handle);
  }
}

registerHandleFactory(
  "virNetworkPortPtr",
  (owner, pointer) => new NetworkPort(constructing, connectionOf<Connection>(owner), pointer),
);

// The registry entry through which the layers below name NetworkPort (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    NetworkPort: NetworkPort;
  }
}
