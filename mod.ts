/**
 * deno_libvirt: drive libvirt from TypeScript through Deno's FFI.
 *
 * Typed bindings to `libvirt.so`, libvirt's errors as typed exceptions attributed to the call that
 * failed, and pools of connections per hypervisor URI.
 *
 * ```ts ignore
 * import { ConnectionPool, listAllDomains } from "./mod.ts";
 *
 * await using pool = new ConnectionPool("test:///default");
 * const domains = await pool.use((conn) => listAllDomains(conn), { idempotent: true });
 * for (using domain of domains) console.log(domain.name, (await domain.info()).state);
 * ```
 *
 * Permissions: `--allow-ffi` (and `--allow-env=DENO_LIBVIRT_PATH` to override the library path;
 * `--allow-read` for the event-loop worker when imported from a local checkout).
 *
 * @module
 */
export * from "./lib/errors.ts";
export type { ErrorCodes } from "./lib/error_codes.ts";
export {
  type AuthCallback,
  type AuthOptions,
  type CloseReport,
  Connection,
  type ConnectionChild,
  type Credential,
  type CredentialKind,
  type OpenOptions,
  parseVersion,
  type Version,
} from "./lib/connection.ts";
export {
  type AffectOptions,
  createDomain,
  type CreateDomainOptions,
  defineDomain,
  destroyDomain,
  type DestroyOptions,
  Domain,
  type DomainCacheStats,
  domainCacheStats,
  type DomainInfo,
  type DomainInterface,
  domainInterfaces,
  DomainState,
  type DomainStateInfo,
  type DomainStateName,
  domainStateName,
  domainStateReason,
  type DomainXmlOptions,
  getDomainMetadata,
  type InterfaceAddresses,
  interfaceAddresses,
  type InterfaceAddressSource,
  type LifecycleOptions,
  type LifecycleResult,
  listAllDomains,
  listAllDomainsSync,
  type ListDomainsOptions,
  lookupDomain,
  type LookupDomainOptions,
  lookupDomainSync,
  managedSaveDomain,
  type ManagedSaveOptions,
  parseDomainInterfaces,
  rebootDomain,
  type RebootOptions,
  removeManagedSave,
  resetDomain,
  restoreDomain,
  resumeDomain,
  setDomainMetadata,
  shutdownDomain,
  type ShutdownOptions,
  type ShutdownResult,
  startDomain,
  type StartOptions,
  suspendDomain,
  undefineDomain,
  type UndefineOptions,
} from "./lib/domain.ts";
export {
  buildDomainXml,
  type DiskSpec,
  type DomainSpec,
  type KernelBootSpec,
  type LifecycleAction,
  type MetadataSpec,
  metadataXml,
  type NicSpec,
  parseMetadataXml,
  type SerialSpec,
  validateDomainName,
  validateMac,
} from "./lib/domain_xml.ts";
export {
  createSnapshot,
  type CreateSnapshotOptions,
  currentSnapshot,
  type DeleteSnapshotOptions,
  DomainSnapshot,
  listSnapshots,
  type ListSnapshotsOptions,
  lookupSnapshot,
  parseSnapshotXml,
  type RevertOptions,
  revertToSnapshot,
  type SnapshotDescription,
  snapshotTree,
  type SnapshotTreeNode,
  snapshotXml,
} from "./lib/snapshot.ts";
export {
  allDomainStats,
  type AllDomainStatsOptions,
  type BalloonStats,
  type BlockStats,
  domainListStats,
  type DomainStats,
  domainStats,
  type InterfaceStats,
  shapeDomainStats,
  type StatsGroup,
  type StatsOptions,
  type TypedValue,
  type VcpuStats,
} from "./lib/stats.ts";
export {
  createNetwork,
  defineNetwork,
  destroyNetwork,
  type DhcpLease,
  dhcpLeases,
  type DhcpLeasesOptions,
  listAllNetworks,
  type ListNetworksOptions,
  lookupNetwork,
  Network,
  type NetworkXmlOptions,
  startNetwork,
  undefineNetwork,
} from "./lib/network.ts";
export {
  buildStoragePool,
  createStoragePool,
  createVolume,
  defineStoragePool,
  deleteStoragePool,
  destroyStoragePool,
  listAllStoragePools,
  type ListStoragePoolsOptions,
  listVolumes,
  lookupStoragePool,
  lookupVolume,
  lookupVolumeByPath,
  type Qcow2OverlayOptions,
  qcow2OverlayXml,
  startStoragePool,
  StoragePool,
  StoragePoolBuildFlag,
  StoragePoolCreateFlag,
  type StoragePoolInfo,
  type StoragePoolStateName,
  StorageVolume,
  StorageVolumeCreateFlag,
  StorageVolumeDeleteFlag,
  type StorageVolumeInfo,
  type StorageVolumeTypeName,
  type StorageXmlOptions,
  undefineStoragePool,
} from "./lib/storage.ts";
export { escapeXml } from "./lib/xml.ts";
export {
  ConnectionPool,
  Lease,
  type LeaseOptions,
  type PoolCloseReport,
  type PoolOptions,
  PoolRegistry,
  type PoolStats,
  type ReconnectOptions,
  type UseOptions,
} from "./lib/pool.ts";
export { eventLoopEnabled, setEventLoopEnabled } from "./lib/event_loop.ts";
export {
  type DomainEvent,
  type DomainEventKind,
  type DomainEventOptions,
  domainEvents,
  DomainEventStream,
  waitForState,
  type WaitForStateOptions,
} from "./lib/events.ts";
export { formatVersion, LIBRARY_PATH_ENV, MINIMUM_LIBVIRT_VERSION } from "./lib/ffi/library.ts";
export { type Cidr, inCidr, normalizeMac, parseCidr } from "./lib/ip/addresses.ts";
export { discoverRange, type RangeEntry, type RangeHost, type RangeOptions } from "./lib/ip/batch.ts";
export { AddressCache, type AddressCacheOptions, type AddressCacheStats } from "./lib/ip/cache.ts";
export { defaultSources, discover, type DiscoverOptions } from "./lib/ip/discover.ts";
export { type Merged, type MergeOptions, mergeSightings } from "./lib/ip/merge.ts";
export { isLocalUri } from "./lib/ip/sources/arp.ts";
export { encodedMacRule, type MacRule } from "./lib/ip/sources/plan.ts";
export { type DomainXmlFacts, PLAN_NAMESPACE, readDomainXml } from "./lib/ip/target.ts";
export {
  type AddressSource,
  type DiscoveredAddress,
  type DiscoveryResult,
  type DiscoveryTarget,
  FAST_ORDER,
  type IgnoredSighting,
  type Nic,
  type NicAddresses,
  type Sighting,
  type SourceName,
  type SourceReport,
  SourceSkipped,
} from "./lib/ip/types.ts";
export {
  type AddressFound,
  AddressTimeoutError,
  waitForAddress,
  type WaitForAddressOptions,
} from "./lib/ip/wait.ts";
export { type CyrisOptions, cyrisToRange, type CyrisTranslation } from "./lib/range/cyris.ts";
export {
  type DescriptionIssue,
  type ExpandedGuest,
  type GuestSpec,
  type HostSpec,
  type NetworkSpec,
  parseRangeDescription,
  type Range,
  RANGE_NAMESPACE,
  type RangeDescription,
  RangeDescriptionError,
  validateRange,
} from "./lib/range/description.ts";
export { downRange, type DownResult } from "./lib/range/down.ts";
export { type PlanItem, planRange, type RangePlan } from "./lib/range/plan.ts";
export {
  type RangeSnapshotOptions,
  type RangeSnapshotResult,
  resetRange,
  snapshotRange,
} from "./lib/range/snapshot.ts";
export {
  ansibleIni,
  ansibleYaml,
  type GuestStatus,
  inventoryJson,
  type NicStatus,
  type RangeStatus,
  rangeStatus,
  type StatusOptions,
} from "./lib/range/status.ts";
export {
  type RangeAction,
  type RangeHooks,
  RangeOperationError,
  type RangePhase,
  type RangeProgress,
} from "./lib/range/types.ts";
export { type GuestAddress, type UpOptions, upRange, type UpResult } from "./lib/range/up.ts";
// Strict descriptions and metadata validation (issue 9).
export { validateMetadataNamespace, validateMetadataPrefix } from "./lib/domain_xml.ts";
export {
  type BaseImageSpec,
  DEFAULT_LIMITS as DEFAULT_DESCRIPTION_LIMITS,
  type DescriptionLimits,
  type ExpandedNic,
  type KernelSpec,
  type NicSpecInput,
  type ParseRangeOptions,
  type ReservationSpec,
  type ValidateOptions,
} from "./lib/range/description.ts";

// ---------------------------------------------------------------------------------------------------
// One-call methods: every libvirt function as a typed method of its object (generated from libvirt's
// API description by lib/ffi/_gen/generate_methods.ts), the object classes added with them, and the
// flags options and typed-parameter types the methods take.
export type { ObjectHandle } from "./lib/_handle.ts";
export { ConnectionCalls } from "./lib/objects/_generated/connection.ts";
export { DomainCalls } from "./lib/objects/_generated/domain.ts";
export { DomainCheckpointCalls } from "./lib/objects/_generated/domain_checkpoint.ts";
export { DomainSnapshotCalls } from "./lib/objects/_generated/domain_snapshot.ts";
export { InterfaceCalls } from "./lib/objects/_generated/interface.ts";
export { NetworkCalls } from "./lib/objects/_generated/network.ts";
export { NetworkPortCalls } from "./lib/objects/_generated/network_port.ts";
export { NodeDeviceCalls } from "./lib/objects/_generated/node_device.ts";
export { NWFilterCalls } from "./lib/objects/_generated/nwfilter.ts";
export { NWFilterBindingCalls } from "./lib/objects/_generated/nwfilter_binding.ts";
export { SecretCalls } from "./lib/objects/_generated/secret.ts";
export { StoragePoolCalls } from "./lib/objects/_generated/storage_pool.ts";
export { StorageVolumeCalls } from "./lib/objects/_generated/storage_volume.ts";
export * from "./lib/objects/_generated/options.ts";
export { DomainCheckpoint } from "./lib/objects/domain_checkpoint.ts";
export { Interface } from "./lib/objects/interface.ts";
export { NetworkPort } from "./lib/objects/network_port.ts";
export { NodeDevice } from "./lib/objects/node_device.ts";
export { NWFilter, NWFilterBinding } from "./lib/objects/nwfilter.ts";
export { Secret } from "./lib/objects/secret.ts";
export type { TypedParams } from "./lib/ffi/marshal.ts";
export type { TypedParamKind, TypedParamSchema } from "./lib/ffi/typed_params.ts";
export {
  type AffectFlagsOptions,
  type DomainFsInfo,
  DomainHandCalls,
  type DomainIoThreadInfo,
  type MemoryPeekOptions,
} from "./lib/objects/domain_hand.ts";
export { ConnectionHandCalls, type NodeCpuMap, type RawStatsRecord } from "./lib/objects/connection_hand.ts";
// Events of every family and every event id (lib/events.ts, lib/events/types.ts).
export {
  type AgentLifecycleReason,
  type AgentLifecycleState,
  type AnyEvent,
  type BlockJobStatus,
  type BlockJobType,
  type CloseReason,
  type DiskChangeReason,
  type DomainAgentLifecycleEvent,
  type DomainBalloonChangeEvent,
  type DomainBlockJobEvent,
  type DomainBlockThresholdEvent,
  type DomainControlErrorEvent,
  type DomainCrashedDetail,
  type DomainDefinedDetail,
  type DomainDeviceEvent,
  type DomainDiskChangeEvent,
  type DomainEventBase,
  type DomainGraphicsEvent,
  type DomainIoErrorEvent,
  type DomainLifecycleDetails,
  type DomainLifecycleEvent,
  type DomainLifecycleEventName,
  type DomainMemoryDeviceSizeChangeEvent,
  type DomainMemoryFailureEvent,
  type DomainMetadataChangeEvent,
  type DomainMigrationIterationEvent,
  type DomainParamsEvent,
  type DomainPmEvent,
  type DomainPmSuspendedDetail,
  type DomainRebootEvent,
  type DomainRef,
  type DomainResumedDetail,
  type DomainRtcChangeEvent,
  type DomainShutdownDetail,
  type DomainStartedDetail,
  type DomainStoppedDetail,
  type DomainSuspendedDetail,
  type DomainTrayChangeEvent,
  type DomainUndefinedDetail,
  type DomainWatchdogEvent,
  type EventBase,
  type EventParamValue,
  EventStream,
  type EventStreamOptions,
  type GapEvent,
  type GraphicsAddress,
  type GraphicsAddressFamily,
  type GraphicsPhase,
  type IoErrorAction,
  type MemoryFailureAction,
  type MemoryFailureRecipient,
  type MetadataType,
  type NamedRef,
  type NetworkEvent,
  type NetworkEventKind,
  type NetworkEventOptions,
  networkEvents,
  type NetworkLifecycleEvent,
  type NetworkLifecycleEventName,
  type NodeDeviceEvent,
  type NodeDeviceEventKind,
  type NodeDeviceEventOptions,
  nodeDeviceEvents,
  type NodeDeviceLifecycleEvent,
  type NodeDeviceLifecycleEventName,
  type NodeDeviceUpdateEvent,
  type SecretEvent,
  type SecretEventKind,
  type SecretEventOptions,
  secretEvents,
  type SecretLifecycleEvent,
  type SecretLifecycleEventName,
  type SecretRef,
  type SecretUsageType,
  type SecretValueChangedEvent,
  type StoragePoolEvent,
  type StoragePoolEventKind,
  type StoragePoolEventOptions,
  storagePoolEvents,
  type StoragePoolLifecycleEvent,
  type StoragePoolLifecycleEventName,
  type StoragePoolRefreshEvent,
  type TrayChangeReason,
  type UnknownEnumName,
  type WatchdogAction,
  type WithoutEventDetail,
} from "./lib/events.ts";
// The enums the generated methods take and return, as named constants and types (lib/ffi/_generated/;
// `DomainState` is exported above by lib/domain.ts with the same values).
export {
  DomainCoreDumpFormat,
  DomainJobType,
  DomainLifecycle,
  DomainLifecycleAction,
  DomainMetadataType,
  DomainProcessSignal,
  ErrorNumber, // virErrorNumber as generated (VIR_ERR_* keep their ERR_ prefix); ErrorCode drops it
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NodeSuspendTarget,
  StorageVolWipeAlgorithm,
} from "./lib/ffi/_generated/enums.ts";
// Streams: consoles, channels, volume transfers, screenshots (lib/stream.ts)
export {
  downloadVolume,
  newStream,
  type NewStreamOptions,
  type OpenChannelOptions,
  type OpenConsoleOptions,
  type RecvFlagsOptions,
  Stream,
  STREAM_CHUNK_BYTES,
  StreamEventType,
  StreamStatus,
  type TransferOptions,
  type TransferProgress,
  type TransferResult,
  type TransferVolume,
  uploadVolume,
  type VolumeStreamOptions,
} from "./lib/stream.ts";
// libvirt-qemu: guest agent and monitor commands (lib/qemu.ts; libvirt-qemu.so.0 loads on first use)
export {
  qemuAgentCommand,
  type QemuAgentCommandOptions,
  QemuAgentCommandTimeout,
  type QemuAgentRequest,
  qemuAttach,
  qemuMonitorCommand,
  type QemuMonitorCommandOptions,
  qemuMonitorCommandWithFiles,
  type QemuMonitorEvent,
  type QemuMonitorEventOptions,
  qemuMonitorEvents,
  QemuMonitorEventStream,
  type QemuMonitorReply,
} from "./lib/qemu.ts";
