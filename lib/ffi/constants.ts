// The names the object modules have always imported, now backed by the generated enums, macros and
// callback types (lib/ffi/_generated/): one source of truth, checked against libvirt's API XML.
import { callbackDefinitions } from "./_generated/callbacks.ts";
import { UUID_STRING_BUFLEN as uuidStringLength } from "./_generated/constants.ts";
import {
  ConnectCredentialType,
  ConnectFlags,
  ConnectListAllNetworksFlags,
  ConnectListAllStoragePoolsFlags,
  DomainSnapshotCreateFlags,
  DomainSnapshotDeleteFlags,
  DomainSnapshotListFlags,
  DomainSnapshotRevertFlags,
  NetworkXMLFlags,
  StorageXMLFlags,
} from "./_generated/enums_core.ts";

/** VIR_UUID_STRING_BUFLEN: 36 characters and the NUL. */
export const UUID_STRING_BUFLEN: number = uuidStringLength;

/** `VIR_CONNECT_RO`: open read-only. */
export const CONNECT_RO: number = ConnectFlags.RO;
/** `VIR_CONNECT_NO_ALIASES`: do not expand URI aliases. */
export const CONNECT_NO_ALIASES: number = ConnectFlags.NO_ALIASES;

/** virConnectCredentialType. */
export const CredentialType = ConnectCredentialType;

/** virConnectAuthCallbackPtr: int (*)(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata) */
export const authCallbackDefinition = callbackDefinitions.virConnectAuthCallbackPtr;

/** virErrorFunc: void (*)(void *userData, virErrorPtr error) */
export const errorFuncDefinition = callbackDefinitions.virErrorFunc;

/** virConnectListAllNetworksFlags. Note: INACTIVE is 1 and ACTIVE 2, the reverse of the domain flags. */
export const ListNetworksFlag = ConnectListAllNetworksFlags;
/** VIR_NETWORK_XML_INACTIVE: the XML of the persistent definition, not of the running network. */
export const NETWORK_XML_INACTIVE: number = NetworkXMLFlags.INACTIVE;

/** virConnectListAllStoragePoolsFlags. */
export const ListStoragePoolsFlag = ConnectListAllStoragePoolsFlags;
/** VIR_STORAGE_XML_INACTIVE: the XML of the persistent definition. */
export const STORAGE_XML_INACTIVE: number = StorageXMLFlags.INACTIVE;

/** virDomainSnapshotCreateFlags. */
export const SnapshotCreateFlag = DomainSnapshotCreateFlags;
/** virDomainSnapshotListFlags. */
export const SnapshotListFlag = DomainSnapshotListFlags;
/** virDomainSnapshotRevertFlags. */
export const SnapshotRevertFlag = DomainSnapshotRevertFlags;
/** virDomainSnapshotDeleteFlags. */
export const SnapshotDeleteFlag = DomainSnapshotDeleteFlags;

// Streams and libvirt-qemu (lib/stream.ts, lib/qemu.ts), under the names those modules use.
export {
  DomainChannelFlags as DomainChannelFlag,
  DomainConsoleFlags as DomainConsoleFlag,
  DomainQemuAgentCommandTimeoutValues as QemuAgentCommandTimeout,
  DomainQemuMonitorCommandFlags as QemuMonitorCommandFlag,
  StorageVolDownloadFlags as StorageVolDownloadFlag,
  StorageVolUploadFlags as StorageVolUploadFlag,
  StreamEventType,
  StreamFlags as StreamFlag,
  StreamRecvFlagsValues as StreamRecvFlag,
} from "./_generated/enums_core.ts";
