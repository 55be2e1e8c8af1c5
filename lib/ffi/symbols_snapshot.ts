// <libvirt/libvirt-domain-snapshot.h>: snapshots of a domain (create, list, look up, revert, delete).
import { cstr, int, out, ptr, uint } from "./_types.ts";

export const snapshotSymbols = {
  /** virDomainSnapshotPtr virDomainSnapshotCreateXML(virDomainPtr domain, const char *xmlDesc, unsigned int flags) */
  virDomainSnapshotCreateXML: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /** char *virDomainSnapshotGetXMLDesc(virDomainSnapshotPtr snapshot, unsigned int flags): caller frees */
  virDomainSnapshotGetXMLDesc: { parameters: [ptr, uint], result: ptr, io: true },
  /** int virDomainListAllSnapshots(virDomainPtr domain, virDomainSnapshotPtr **snaps, unsigned int flags) */
  virDomainListAllSnapshots: { parameters: [ptr, out, uint], result: int, io: true },
  /**
   * int virDomainSnapshotListAllChildren(virDomainSnapshotPtr snapshot, virDomainSnapshotPtr **snaps,
   *                                      unsigned int flags)
   */
  virDomainSnapshotListAllChildren: { parameters: [ptr, out, uint], result: int, io: true },
  /** virDomainSnapshotPtr virDomainSnapshotLookupByName(virDomainPtr domain, const char *name, unsigned int flags) */
  virDomainSnapshotLookupByName: { parameters: [ptr, cstr, uint], result: ptr, io: true },
  /** int virDomainHasCurrentSnapshot(virDomainPtr domain, unsigned int flags) */
  virDomainHasCurrentSnapshot: { parameters: [ptr, uint], result: int, io: true },
  /** virDomainSnapshotPtr virDomainSnapshotCurrent(virDomainPtr domain, unsigned int flags) */
  virDomainSnapshotCurrent: { parameters: [ptr, uint], result: ptr, io: true },
  /** virDomainSnapshotPtr virDomainSnapshotGetParent(virDomainSnapshotPtr snapshot, unsigned int flags) */
  virDomainSnapshotGetParent: { parameters: [ptr, uint], result: ptr, io: true },
  /** int virDomainSnapshotIsCurrent(virDomainSnapshotPtr snapshot, unsigned int flags) */
  virDomainSnapshotIsCurrent: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainSnapshotHasMetadata(virDomainSnapshotPtr snapshot, unsigned int flags) */
  virDomainSnapshotHasMetadata: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainRevertToSnapshot(virDomainSnapshotPtr snapshot, unsigned int flags) */
  virDomainRevertToSnapshot: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainSnapshotDelete(virDomainSnapshotPtr snapshot, unsigned int flags) */
  virDomainSnapshotDelete: { parameters: [ptr, uint], result: int, io: true },
  /** int virDomainSnapshotRef(virDomainSnapshotPtr snapshot) */
  virDomainSnapshotRef: { parameters: [ptr], result: int },
  /** int virDomainSnapshotFree(virDomainSnapshotPtr snapshot): drops one reference; local */
  virDomainSnapshotFree: { parameters: [ptr], result: int },
  /** const char *virDomainSnapshotGetName(virDomainSnapshotPtr snapshot): owned by the handle; local */
  virDomainSnapshotGetName: { parameters: [ptr], result: ptr },
} as const;

/** virDomainSnapshotCreateFlags (checked against libvirt 9.0 headers with a C program). */
export const SnapshotCreateFlag = {
  REDEFINE: 1,
  CURRENT: 2,
  NO_METADATA: 4,
  HALT: 8,
  DISK_ONLY: 16,
  REUSE_EXT: 32,
  QUIESCE: 64,
  ATOMIC: 128,
  LIVE: 256,
  VALIDATE: 512,
} as const;

/** virDomainSnapshotListFlags. */
export const SnapshotListFlag = {
  ROOTS: 1,
  DESCENDANTS: 1,
  METADATA: 2,
  LEAVES: 4,
  NO_LEAVES: 8,
  NO_METADATA: 16,
  INACTIVE: 32,
  ACTIVE: 64,
  DISK_ONLY: 128,
  INTERNAL: 256,
  EXTERNAL: 512,
  TOPOLOGICAL: 1024,
} as const;

/** virDomainSnapshotRevertFlags. */
export const SnapshotRevertFlag = { RUNNING: 1, PAUSED: 2, FORCE: 4, RESET_NVRAM: 8 } as const;

/** virDomainSnapshotDeleteFlags. */
export const SnapshotDeleteFlag = { CHILDREN: 1, METADATA_ONLY: 2, CHILDREN_ONLY: 4 } as const;
