// A network interface of the host, managed by libvirt's interface driver (netcf/udev).
import type { Connection } from "../connection.ts";
import type { HandleType } from "../_handle.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { InterfaceCalls } from "./_generated/interface.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.interface.constructing");

const handleType: HandleType = {
  className: "Interface",
  noun: "interface",
  ref: (h) => libvirtSymbol("virInterfaceRef")(h),
  free: (h) => libvirtSymbol("virInterfaceFree")(h),
  name: (h) => libvirtSymbol("virInterfaceGetName")(h),
};

/**
 * A network interface of the host, managed by libvirt's interface driver (netcf/udev). Not constructible by users: get one from
 * `conn.interfaceLookupByName()`, `conn.interfaceLookupByMacString()` or `conn.listAllInterfaces()`. Every method is one libvirt call (see {@link InterfaceCalls}); free the handle with `using`
 * or {@link Interface.free} (the connection frees what is left when it closes).
 *
 * @example
 * ```ts
 * import { Connection, type Interface } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * const ifaces: Interface[] = await conn.listAllInterfaces();
 * for (using iface of ifaces) console.log(iface.name, iface.getMacString()); // eth1 aa:bb:cc:dd:ee:ff
 * ```
 */
export class Interface extends InterfaceCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a Interface directly: use conn.interfaceLookupByName(), conn.interfaceLookupByMacString() or conn.listAllInterfaces()",
      );
    }
    super(handleType, connection, handle);
  }
}

registerHandleFactory(
  "virInterfacePtr",
  (owner, pointer) => new Interface(constructing, connectionOf<Connection>(owner), pointer),
);

// The registry entry through which the layers below name Interface (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    Interface: Interface;
  }
}
