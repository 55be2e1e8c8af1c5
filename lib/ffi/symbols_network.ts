// <libvirt/libvirt-network.h>: virtual networks: lookup, listing, lifecycle, DHCP leases.
// C parameter names are in the comments; `io: true` entries also get a nonblocking `...Async` twin.
import { cstr, int, out, ptr, uint, voidT } from "./_types.ts";

export const networkSymbols = {
  /** int virConnectListAllNetworks(virConnectPtr conn, virNetworkPtr **nets, unsigned int flags) */
  virConnectListAllNetworks: { parameters: [ptr, out, uint], result: int, io: true },
  /** virNetworkPtr virNetworkLookupByName(virConnectPtr conn, const char *name) */
  virNetworkLookupByName: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virNetworkPtr virNetworkLookupByUUIDString(virConnectPtr conn, const char *uuid) */
  virNetworkLookupByUUIDString: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virNetworkPtr virNetworkCreateXML(virConnectPtr conn, const char *xmlDesc): transient, started */
  virNetworkCreateXML: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virNetworkPtr virNetworkDefineXML(virConnectPtr conn, const char *xmlDesc): persistent, inactive */
  virNetworkDefineXML: { parameters: [ptr, cstr], result: ptr, io: true },
  /** int virNetworkUndefine(virNetworkPtr network) */
  virNetworkUndefine: { parameters: [ptr], result: int, io: true },
  /** int virNetworkCreate(virNetworkPtr network): starts a defined network */
  virNetworkCreate: { parameters: [ptr], result: int, io: true },
  /** int virNetworkDestroy(virNetworkPtr network) */
  virNetworkDestroy: { parameters: [ptr], result: int, io: true },
  /** int virNetworkRef(virNetworkPtr network): adds one reference; local */
  virNetworkRef: { parameters: [ptr], result: int },
  /** int virNetworkFree(virNetworkPtr network): drops one reference; local */
  virNetworkFree: { parameters: [ptr], result: int },
  /** const char *virNetworkGetName(virNetworkPtr network): owned by the handle; local */
  virNetworkGetName: { parameters: [ptr], result: ptr },
  /** int virNetworkGetUUIDString(virNetworkPtr network, char *buf): buf of VIR_UUID_STRING_BUFLEN; local */
  virNetworkGetUUIDString: { parameters: [ptr, out], result: int },
  /** char *virNetworkGetXMLDesc(virNetworkPtr network, unsigned int flags): caller frees */
  virNetworkGetXMLDesc: { parameters: [ptr, uint], result: ptr, io: true },
  /** char *virNetworkGetBridgeName(virNetworkPtr network): caller frees */
  virNetworkGetBridgeName: { parameters: [ptr], result: ptr, io: true },
  /** int virNetworkGetAutostart(virNetworkPtr network, int *autostart) */
  virNetworkGetAutostart: { parameters: [ptr, out], result: int, io: true },
  /** int virNetworkSetAutostart(virNetworkPtr network, int autostart) */
  virNetworkSetAutostart: { parameters: [ptr, int], result: int, io: true },
  /** int virNetworkIsActive(virNetworkPtr net): 1, 0, or -1 on error */
  virNetworkIsActive: { parameters: [ptr], result: int, io: true },
  /** int virNetworkIsPersistent(virNetworkPtr net): 1, 0, or -1 on error */
  virNetworkIsPersistent: { parameters: [ptr], result: int, io: true },
  /**
   * int virNetworkGetDHCPLeases(virNetworkPtr network, const char *mac,
   *                             virNetworkDHCPLeasePtr **leases, unsigned int flags)
   */
  virNetworkGetDHCPLeases: { parameters: [ptr, cstr, out, uint], result: int, io: true },
  /** void virNetworkDHCPLeaseFree(virNetworkDHCPLeasePtr lease): local */
  virNetworkDHCPLeaseFree: { parameters: [ptr], result: voidT },
} as const;

/** virConnectListAllNetworksFlags. Note: INACTIVE is 1 and ACTIVE 2, the reverse of the domain flags. */
export const ListNetworksFlag = {
  INACTIVE: 1 << 0,
  ACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  AUTOSTART: 1 << 4,
  NO_AUTOSTART: 1 << 5,
} as const;

/** VIR_NETWORK_XML_INACTIVE: the XML of the persistent definition, not of the running network. */
export const NETWORK_XML_INACTIVE = 1 << 0;
