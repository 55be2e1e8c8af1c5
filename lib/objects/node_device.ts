// A device of the host (PCI, USB, SCSI, network, mediated device, ...).
import type { Connection } from "../connection.ts";
import type { HandleType } from "../_handle.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { NodeDeviceCalls } from "./_generated/node_device.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.node_device.constructing");

const handleType: HandleType = {
  className: "NodeDevice",
  noun: "node device",
  ref: (h) => libvirtSymbol("virNodeDeviceRef")(h),
  free: (h) => libvirtSymbol("virNodeDeviceFree")(h),
  name: (h) => libvirtSymbol("virNodeDeviceGetName")(h),
};

/**
 * A device of the host (PCI, USB, SCSI, network, mediated device, ...). Not constructible by users: get one from
 * `conn.nodeDeviceLookupByName()`, `conn.listAllNodeDevices()` or `conn.nodeDeviceCreateXml()`. Every method is one libvirt call (see {@link NodeDeviceCalls}); free the handle with `using`
 * or {@link NodeDevice.free} (the connection frees what is left when it closes).
 *
 * @example
 * ```ts
 * import { Connection, type NodeDevice } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const devices: NodeDevice[] = await conn.listAllNodeDevices();
 * for (using dev of devices) console.log(dev.name); // scsi_host2, scsi_host1, computer, scsi_host11
 * ```
 */
export class NodeDevice extends NodeDeviceCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a NodeDevice directly: use conn.nodeDeviceLookupByName(), conn.listAllNodeDevices() or conn.nodeDeviceCreateXml()",
      );
    }
    super(handleType, connection, handle);
  }
}

registerHandleFactory(
  "virNodeDevicePtr",
  (owner, pointer) => new NodeDevice(constructing, connectionOf<Connection>(owner), pointer),
);

// The registry entry through which the layers below name NodeDevice (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    NodeDevice: NodeDevice;
  }
}
