// Network filters (firewall rule sets guests' NICs reference) and their bindings to ports.
import type { Connection } from "../connection.ts";
import type { HandleType } from "../_handle.ts";
import { libvirtSymbol } from "../ffi/optional.ts";
import { NWFilterCalls } from "./_generated/nwfilter.js";
import { NWFilterBindingCalls } from "./_generated/nwfilter_binding.js";
import { connectionOf, registerHandleFactory } from "./_registry.ts";

const constructing = Symbol("deno_libvirt.nwfilter.constructing");

const filterType: HandleType = {
  className: "NWFilter",
  noun: "nwfilter",
  ref: (h) => libvirtSymbol("virNWFilterRef")(h),
  free: (h) => libvirtSymbol("virNWFilterFree")(h),
  name: (h) => libvirtSymbol("virNWFilterGetName")(h),
};

const bindingType: HandleType = {
  className: "NWFilterBinding",
  noun: "nwfilter binding of port",
  ref: (h) => libvirtSymbol("virNWFilterBindingRef")(h),
  free: (h) => libvirtSymbol("virNWFilterBindingFree")(h),
  name: (h) => libvirtSymbol("virNWFilterBindingGetPortDev")(h),
};

/**
 * A network filter: a named set of firewall rules that guest NICs reference with `<filterref>`.
 * Not constructible by users: get one from `conn.nwFilterLookupByName()`, `conn.listAllNwFilters()`
 * or `conn.nwFilterDefineXml()`. Every method is one libvirt call (see {@link NWFilterCalls}).
 *
 * @example
 * ```ts
 * import { Connection, type NWFilter } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * // the test driver has no nwfilter driver (NotSupportedError): qemu:///system lists "clean-traffic", ...
 * const filters: NWFilter[] = await conn.listAllNwFilters().catch(() => []);
 * for (using filter of filters) console.log(filter.name);
 * ```
 */
export class NWFilter extends NWFilterCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError("Cannot construct a NWFilter directly: use conn.nwFilterLookupByName()");
    }
    super(filterType, connection, handle);
  }
}

/**
 * The binding of a network filter to one port (a guest NIC's host device), named by that device
 * ("vnet0"). Not constructible by users: get one from `conn.nwFilterBindingLookupByPortDev()`,
 * `conn.listAllNwFilterBindings()` or `conn.nwFilterBindingCreateXml()`.
 *
 * @example
 * ```ts
 * import { Connection, type NWFilterBinding } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * // none on test:///default (no nwfilter driver): qemu:///system has one per filtered guest NIC
 * const bindings: NWFilterBinding[] = await conn.listAllNwFilterBindings().catch(() => []);
 * for (using binding of bindings) console.log(binding.name, binding.getFilterName());
 * ```
 */
export class NWFilterBinding extends NWFilterBindingCalls {
  /** @internal */
  constructor(token: symbol, connection: Connection, handle: Deno.PointerObject) {
    if (token !== constructing) {
      throw new TypeError(
        "Cannot construct a NWFilterBinding directly: use conn.nwFilterBindingLookupByPortDev()",
      );
    }
    super(bindingType, connection, handle);
  }
}

registerHandleFactory(
  "virNWFilterPtr",
  (owner, pointer) => new NWFilter(constructing, connectionOf<Connection>(owner), pointer),
);
registerHandleFactory(
  "virNWFilterBindingPtr",
  (owner, pointer) => new NWFilterBinding(constructing, connectionOf<Connection>(owner), pointer),
);

// The registry entries through which the layers below name NWFilter and NWFilterBinding
// (lib/objects/_types.ts).
declare module "./_types.ts" {
  interface ObjectClasses {
    NWFilter: NWFilter;
    NWFilterBinding: NWFilterBinding;
  }
}
