// <libvirt/libvirt-domain.h>: domain lookup, listing, state, addresses, lifecycle.
import { cstr, int, out, ptr, uint } from "./_types.ts";

export const domainSymbols = {
  /** int virConnectListAllDomains(virConnectPtr conn, virDomainPtr **domains, unsigned int flags) */
  virConnectListAllDomains: { parameters: [ptr, out, uint], result: int, io: true },
  /** virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name) */
  virDomainLookupByName: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virDomainPtr virDomainLookupByUUIDString(virConnectPtr conn, const char *uuidstr) */
  virDomainLookupByUUIDString: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virDomainPtr virDomainLookupByID(virConnectPtr conn, int id) */
  virDomainLookupByID: { parameters: [ptr, int], result: ptr, io: true },
  /** int virDomainFree(virDomainPtr domain): drops one reference; local */
  virDomainFree: { parameters: [ptr], result: int },
  /** int virDomainRef(virDomainPtr domain) */
  virDomainRef: { parameters: [ptr], result: int },
  /** const char *virDomainGetName(virDomainPtr domain): owned by the handle; local */
  virDomainGetName: { parameters: [ptr], result: ptr },
  /** int virDomainGetUUIDString(virDomainPtr domain, char *buf): buf of VIR_UUID_STRING_BUFLEN; local */
  virDomainGetUUIDString: { parameters: [ptr, out], result: int },
  /** unsigned int virDomainGetID(virDomainPtr domain): local, (unsigned)-1 when inactive */
  virDomainGetID: { parameters: [ptr], result: uint },
  /** int virDomainGetInfo(virDomainPtr domain, virDomainInfoPtr info) */
  virDomainGetInfo: { parameters: [ptr, out], result: int, io: true },
  /** int virDomainGetState(virDomainPtr domain, int *state, int *reason, unsigned int flags) */
  virDomainGetState: { parameters: [ptr, out, out, uint], result: int, io: true },
  /** char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags): caller frees */
  virDomainGetXMLDesc: { parameters: [ptr, uint], result: ptr, io: true },
  /** virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml) */
  virDomainDefineXML: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virDomainPtr virDomainCreateXML(virConnectPtr conn, const char *xmlDesc, unsigned int flags) */
  virDomainCreateXML: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /** int virDomainUndefineFlags(virDomainPtr domain, unsigned int flags) */
  virDomainUndefineFlags: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainCreateWithFlags(virDomainPtr domain, unsigned int flags) */
  virDomainCreateWithFlags: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainDestroyFlags(virDomainPtr domain, unsigned int flags) */
  virDomainDestroyFlags: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainSuspend(virDomainPtr domain) */
  virDomainSuspend: { parameters: [ptr], result: int, io: true },
  /** int virDomainResume(virDomainPtr domain) */
  virDomainResume: { parameters: [ptr], result: int, io: true },
  /**
   * int virDomainInterfaceAddresses(virDomainPtr dom, virDomainInterfacePtr **ifaces,
   *                                 unsigned int source, unsigned int flags)
   */
  virDomainInterfaceAddresses: { parameters: [ptr, out, uint, uint], result: int, io: true },
  /** void virDomainInterfaceFree(virDomainInterfacePtr iface) */
  virDomainInterfaceFree: { parameters: [ptr], result: "void" },
  /** int virDomainShutdownFlags(virDomainPtr domain, unsigned int flags) */
  virDomainShutdownFlags: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainReboot(virDomainPtr domain, unsigned int flags) */
  virDomainReboot: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainReset(virDomainPtr domain, unsigned int flags) */
  virDomainReset: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainManagedSave(virDomainPtr dom, unsigned int flags) */
  virDomainManagedSave: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainHasManagedSaveImage(virDomainPtr dom, unsigned int flags) */
  virDomainHasManagedSaveImage: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainManagedSaveRemove(virDomainPtr dom, unsigned int flags) */
  virDomainManagedSaveRemove: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainGetAutostart(virDomainPtr domain, int *autostart) */
  virDomainGetAutostart: { parameters: [ptr, out], result: int, io: true },
  /** int virDomainSetAutostart(virDomainPtr domain, int autostart) */
  virDomainSetAutostart: { parameters: [ptr, int], result: int, io: true },
  /** int virDomainIsActive(virDomainPtr dom) */
  virDomainIsActive: { parameters: [ptr], result: int, io: true },
  /** int virDomainIsPersistent(virDomainPtr dom) */
  virDomainIsPersistent: { parameters: [ptr], result: int, io: true },
  /** char *virDomainGetMetadata(virDomainPtr domain, int type, const char *uri, unsigned int flags): caller frees */
  virDomainGetMetadata: { parameters: [ptr, int, cstr, uint], result: ptr, io: true },
  /**
   * int virDomainSetMetadata(virDomainPtr domain, int type, const char *metadata, const char *key,
   *                          const char *uri, unsigned int flags)
   */
  virDomainSetMetadata: { parameters: [ptr, int, cstr, cstr, cstr, uint], result: int, io: true },
  /**
   * int virConnectGetAllDomainStats(virConnectPtr conn, unsigned int stats,
   *                                 virDomainStatsRecordPtr **retStats, unsigned int flags)
   */
  virConnectGetAllDomainStats: { parameters: [ptr, uint, out, uint], result: int, io: true },
  /**
   * int virDomainListGetStats(virDomainPtr *doms, unsigned int stats,
   *                           virDomainStatsRecordPtr **retStats, unsigned int flags): doms NULL-terminated
   */
  virDomainListGetStats: { parameters: [out, uint, out, uint], result: int, io: true },
  /** void virDomainStatsRecordListFree(virDomainStatsRecordPtr *stats): frees records, params and domains */
  virDomainStatsRecordListFree: { parameters: [ptr], result: "void" },
} as const;

/** VIR_UUID_STRING_BUFLEN: 36 characters and the NUL. */
export const UUID_STRING_BUFLEN = 37;
