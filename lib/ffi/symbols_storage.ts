// <libvirt/libvirt-storage.h>: storage pools and volumes: lookup, listing, lifecycle, info.
// C parameter names are in the comments; `io: true` entries also get a nonblocking `...Async` twin.
import { cstr, int, out, ptr, uint } from "./_types.ts";

export const storageSymbols = {
  /** int virConnectListAllStoragePools(virConnectPtr conn, virStoragePoolPtr **pools, unsigned int flags) */
  virConnectListAllStoragePools: { parameters: [ptr, out, uint], result: int, io: true },
  /** virStoragePoolPtr virStoragePoolLookupByName(virConnectPtr conn, const char *name) */
  virStoragePoolLookupByName: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virStoragePoolPtr virStoragePoolLookupByUUIDString(virConnectPtr conn, const char *uuid) */
  virStoragePoolLookupByUUIDString: { parameters: [ptr, cstr], result: ptr, io: true },
  /**
   * virStoragePoolPtr virStoragePoolCreateXML(virConnectPtr conn, const char *xmlDesc,
   *                                           unsigned int flags): transient, started
   */
  virStoragePoolCreateXML: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /**
   * virStoragePoolPtr virStoragePoolDefineXML(virConnectPtr conn, const char *xmlDesc,
   *                                           unsigned int flags): persistent, inactive
   */
  virStoragePoolDefineXML: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /** int virStoragePoolBuild(virStoragePoolPtr pool, unsigned int flags) */
  virStoragePoolBuild: { parameters: [ptr, uint], result: int, io: true },
  /** int virStoragePoolUndefine(virStoragePoolPtr pool) */
  virStoragePoolUndefine: { parameters: [ptr], result: int, io: true },
  /** int virStoragePoolCreate(virStoragePoolPtr pool, unsigned int flags): starts a defined pool */
  virStoragePoolCreate: { parameters: [ptr, uint], result: int, io: true },
  /** int virStoragePoolDelete(virStoragePoolPtr pool, unsigned int flags): removes what build made */
  virStoragePoolDelete: { parameters: [ptr, uint], result: int, io: true },
  /** int virStoragePoolDestroy(virStoragePoolPtr pool) */
  virStoragePoolDestroy: { parameters: [ptr], result: int, io: true },
  /** int virStoragePoolRefresh(virStoragePoolPtr pool, unsigned int flags) */
  virStoragePoolRefresh: { parameters: [ptr, uint], result: int, io: true },
  /** int virStoragePoolRef(virStoragePoolPtr pool): adds one reference; local */
  virStoragePoolRef: { parameters: [ptr], result: int },
  /** int virStoragePoolFree(virStoragePoolPtr pool): drops one reference; local */
  virStoragePoolFree: { parameters: [ptr], result: int },
  /** const char *virStoragePoolGetName(virStoragePoolPtr pool): owned by the handle; local */
  virStoragePoolGetName: { parameters: [ptr], result: ptr },
  /** int virStoragePoolGetUUIDString(virStoragePoolPtr pool, char *buf): VIR_UUID_STRING_BUFLEN; local */
  virStoragePoolGetUUIDString: { parameters: [ptr, out], result: int },
  /** int virStoragePoolGetInfo(virStoragePoolPtr vol, virStoragePoolInfoPtr info) */
  virStoragePoolGetInfo: { parameters: [ptr, out], result: int, io: true },
  /** char *virStoragePoolGetXMLDesc(virStoragePoolPtr pool, unsigned int flags): caller frees */
  virStoragePoolGetXMLDesc: { parameters: [ptr, uint], result: ptr, io: true },
  /** int virStoragePoolGetAutostart(virStoragePoolPtr pool, int *autostart) */
  virStoragePoolGetAutostart: { parameters: [ptr, out], result: int, io: true },
  /** int virStoragePoolSetAutostart(virStoragePoolPtr pool, int autostart) */
  virStoragePoolSetAutostart: { parameters: [ptr, int], result: int, io: true },
  /** int virStoragePoolIsActive(virStoragePoolPtr pool): 1, 0, or -1 on error */
  virStoragePoolIsActive: { parameters: [ptr], result: int, io: true },
  /** int virStoragePoolIsPersistent(virStoragePoolPtr pool): 1, 0, or -1 on error */
  virStoragePoolIsPersistent: { parameters: [ptr], result: int, io: true },
  /**
   * int virStoragePoolListAllVolumes(virStoragePoolPtr pool, virStorageVolPtr **vols,
   *                                  unsigned int flags): flags unused, pass 0
   */
  virStoragePoolListAllVolumes: { parameters: [ptr, out, uint], result: int, io: true },
  /** virStorageVolPtr virStorageVolLookupByName(virStoragePoolPtr pool, const char *name) */
  virStorageVolLookupByName: { parameters: [ptr, cstr], result: ptr, io: true },
  /** virStorageVolPtr virStorageVolLookupByPath(virConnectPtr conn, const char *path) */
  virStorageVolLookupByPath: { parameters: [ptr, cstr], result: ptr, io: true },
  /** const char *virStorageVolGetName(virStorageVolPtr vol): owned by the handle; local */
  virStorageVolGetName: { parameters: [ptr], result: ptr },
  /** const char *virStorageVolGetKey(virStorageVolPtr vol): owned by the handle; local */
  virStorageVolGetKey: { parameters: [ptr], result: ptr },
  /**
   * virStorageVolPtr virStorageVolCreateXML(virStoragePoolPtr pool, const char *xmldesc,
   *                                         unsigned int flags)
   */
  virStorageVolCreateXML: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /** int virStorageVolDelete(virStorageVolPtr vol, unsigned int flags) */
  virStorageVolDelete: { parameters: [ptr, uint], result: int, io: true },
  /** int virStorageVolRef(virStorageVolPtr vol): adds one reference; local */
  virStorageVolRef: { parameters: [ptr], result: int },
  /** int virStorageVolFree(virStorageVolPtr vol): drops one reference; local */
  virStorageVolFree: { parameters: [ptr], result: int },
  /** int virStorageVolGetInfo(virStorageVolPtr vol, virStorageVolInfoPtr info) */
  virStorageVolGetInfo: { parameters: [ptr, out], result: int, io: true },
  /** char *virStorageVolGetXMLDesc(virStorageVolPtr pool, unsigned int flags): caller frees */
  virStorageVolGetXMLDesc: { parameters: [ptr, uint], result: ptr, io: true },
  /** char *virStorageVolGetPath(virStorageVolPtr vol): caller frees; an RPC on remote URIs */
  virStorageVolGetPath: { parameters: [ptr], result: ptr, io: true },
} as const;

/** virConnectListAllStoragePoolsFlags (the state groups; pool-type bits from 1 << 6 on are not used). */
export const ListStoragePoolsFlag = {
  INACTIVE: 1 << 0,
  ACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  AUTOSTART: 1 << 4,
  NO_AUTOSTART: 1 << 5,
} as const;

/** VIR_STORAGE_XML_INACTIVE: the XML of the persistent definition. */
export const STORAGE_XML_INACTIVE = 1 << 0;
