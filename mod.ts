/**
 * deno_libvirt: drive libvirt from TypeScript through Deno's FFI.
 *
 * Typed bindings to `libvirt.so`, libvirt's errors as typed exceptions attributed to the call that
 * failed, and pools of connections per hypervisor URI.
 *
 * ```ts
 * import { ConnectionPool, listAllDomains } from "@deno-libvirt/deno-libvirt";
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

// ---------------------------------------------------------------------------------------------------
// Errors: every libvirt failure as a typed exception, attributed to the call that failed (lib/errors.ts).
export {
  AgentUnresponsiveError,
  AuthFailedError,
  ConnectionLostError,
  ErrorCode,
  ErrorDomain,
  ErrorLevel,
  HostKeyVerificationError,
  isAgentUnresponsive,
  isAuthFailed,
  isConnectionLost,
  isLibvirtError,
  isNotFound,
  isNotSupported,
  isOperationInvalid,
  isTimeout,
  LibvirtError,
  type LibvirtErrorDetails,
  libvirtErrorFrom,
  LibvirtLoadError,
  NotFoundError,
  NotSupportedError,
  OperationInvalidError,
  OperationTimeoutError,
} from "./lib/errors.ts";
export type { ErrorCodes } from "./lib/error_codes.ts";

// ---------------------------------------------------------------------------------------------------
// The binding (also `./ffi`): loading libvirt, versions, the generated enums, typed parameters.
export {
  DomainCoreDumpFormat,
  DomainJobType,
  DomainLifecycle,
  DomainLifecycleAction,
  DomainMetadataType,
  DomainProcessSignal,
  ErrorNumber,
  formatVersion,
  LIBRARY_PATH_ENV,
  MINIMUM_LIBVIRT_VERSION,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NodeSuspendTarget,
  StorageVolWipeAlgorithm,
  type TypedParamKind,
  type TypedParams,
  type TypedParamSchema,
} from "./lib/ffi/mod.ts";

// ---------------------------------------------------------------------------------------------------
// Connections and pools: one call at a time per connection (exact error attribution), pools per URI
// with leases, bounds, health checks, keepalive and reconnection, and libvirt's event loop.
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

// ---------------------------------------------------------------------------------------------------
// Objects: one method per libvirt call, generated from libvirt's API description
// (lib/ffi/_gen/generate_methods.ts), the object classes, their flag options and hand-written calls.
export type { ObjectHandle } from "./lib/_handle.ts";
export type { ObjectClasses } from "./lib/objects/_types.ts";
export { ConnectionCalls } from "./lib/objects/_generated/connection.js";
export { DomainCalls } from "./lib/objects/_generated/domain.js";
export { DomainCheckpointCalls } from "./lib/objects/_generated/domain_checkpoint.js";
export { DomainSnapshotCalls } from "./lib/objects/_generated/domain_snapshot.js";
export { InterfaceCalls } from "./lib/objects/_generated/interface.js";
export { NetworkCalls } from "./lib/objects/_generated/network.js";
export { NetworkPortCalls } from "./lib/objects/_generated/network_port.js";
export { NodeDeviceCalls } from "./lib/objects/_generated/node_device.js";
export { NWFilterCalls } from "./lib/objects/_generated/nwfilter.js";
export { NWFilterBindingCalls } from "./lib/objects/_generated/nwfilter_binding.js";
export { SecretCalls } from "./lib/objects/_generated/secret.js";
export { StoragePoolCalls } from "./lib/objects/_generated/storage_pool.js";
export { StorageVolumeCalls } from "./lib/objects/_generated/storage_volume.js";
// The flags of every generated method as a typed options object (`DomainXmlOptions`-style types and
// their `...Bits` tables): the one `export *` left, because the generator owns this list and every name
// in it is part of a public method's signature (nothing internal lives in _generated/options.ts).
export * from "./lib/objects/_generated/options.js";
export { DomainCheckpoint } from "./lib/objects/domain_checkpoint.ts";
export { Interface } from "./lib/objects/interface.ts";
export { NetworkPort } from "./lib/objects/network_port.ts";
export { NodeDevice } from "./lib/objects/node_device.ts";
export { NWFilter, NWFilterBinding } from "./lib/objects/nwfilter.ts";
export { Secret } from "./lib/objects/secret.ts";
export {
  type AffectFlagsOptions,
  type DomainFsInfo,
  DomainHandCalls,
  type DomainIoThreadInfo,
  type MemoryPeekOptions,
} from "./lib/objects/domain_hand.ts";
export { ConnectionHandCalls, type NodeCpuMap, type RawStatsRecord } from "./lib/objects/connection_hand.ts";

// ---------------------------------------------------------------------------------------------------
// Orchestration above the objects: finding and creating objects from a connection, lifecycle with
// results and waits, domain XML, snapshots, statistics, networks, storage, streams, QEMU agent/monitor.
export {
  type AffectOptions,
  createDomain,
  type CreateDomainOptions,
  defineDomain,
  destroyDomain,
  type DestroyOptions,
  Domain,
  type DomainInfo,
  type DomainInterface,
  domainInterfaces,
  type DomainMetadataElement,
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
export { validateMetadataNamespace, validateMetadataPrefix } from "./lib/domain_xml.ts";
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
  downloadVolume,
  newStream,
  type NewStreamOptions,
  type OpenChannelOptions,
  type OpenConsoleOptions,
  type RecvFlagsOptions,
  sendAll,
  type SendAllOptions,
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
// Consoles: capture into bounded, rotated logs with a tail to wait on; attach a terminal (lib/console.ts)
export {
  attachConsole,
  type AttachConsoleOptions,
  type AttachResult,
  captureConsole,
  type CaptureConsoleOptions,
  captureStream,
  type CaptureStreamOptions,
  cleanConsoleText,
  ConsoleCapture,
  type ConsoleEndpoint,
  type ConsoleLogOptions,
  type ConsoleTailOptions,
  type ConsoleWaitOptions,
  isConsoleBusy,
} from "./lib/console.ts";
// guest agent helpers: programs and files inside a guest, no network (lib/qemu.ts)
export {
  guestExec,
  type GuestExecOptions,
  type GuestExecResult,
  guestFileRead,
  type GuestFileReadOptions,
  guestFileWrite,
  type GuestFileWriteOptions,
} from "./lib/qemu.ts";

// ---------------------------------------------------------------------------------------------------
// Live migration with job progress and abort (lib/migrate.ts): orchestration over migrateToUri3,
// getJobStats and abortJob, the job watched through a second connection.
export {
  migrateDomain,
  type MigrateOptions,
  type MigrateResult,
  MigrationError,
  type MigrationProgress,
  migrationProgress,
} from "./lib/migrate.ts";

// Exercise actions on guests' NICs (lib/domain_nic.ts): cable pulls, hot-plug and unplug.
export {
  type AttachedNic,
  attachNic,
  type AttachNicOptions,
  type AttachNicSpec,
  type DetachedNic,
  detachNic,
  type DetachNicOptions,
  type DomainNic,
  findNic,
  type NicActionOptions,
  type NicLinkResult,
  nicXml,
  parseNics,
  setNicLink,
  withLinkState,
} from "./lib/domain_nic.ts";
// Block job types (getBlockJobInfo's `info.type`).
export { DomainBlockJobType } from "./lib/ffi/_generated/enums.ts";

// ---------------------------------------------------------------------------------------------------
// Events (also `./events`): every domain event id and the network, storage pool, node device and
// secret families, as typed async iterables; waits on lifecycle state.
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
  type DomainEvent,
  type DomainEventBase,
  type DomainEventKind,
  type DomainEventOptions,
  domainEvents,
  DomainEventStream,
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
  waitForState,
  type WaitForStateOptions,
  type WatchdogAction,
  type WithoutEventDetail,
} from "./lib/events.ts";

// ---------------------------------------------------------------------------------------------------
// IP discovery (also `./ip`): several sources per NIC merged with a confidence, cached, with waits
// that explain themselves.
export {
  AddressCache,
  type AddressCacheOptions,
  type AddressCacheStats,
  type AddressFound,
  type AddressSource,
  AddressTimeoutError,
  type Cidr,
  defaultSources,
  discover,
  type DiscoveredAddress,
  discoverMany,
  type DiscoverManyOptions,
  type DiscoverOptions,
  type DiscoveryEntry,
  type DiscoveryHost,
  type DiscoveryResult,
  type DiscoveryTarget,
  encodedMacRule,
  type IgnoredSighting,
  inCidr,
  type MacRule,
  type Nic,
  type NicAddresses,
  normalizeMac,
  parseCidr,
  PLAN_NAMESPACE,
  type Sighting,
  type SourceName,
  type SourceReport,
  SourceSkipped,
  waitForAddress,
  type WaitForAddressOptions,
} from "./lib/ip/mod.ts";

// ---------------------------------------------------------------------------------------------------
// Ranges (also `./range`): descriptions (ours and CyRIS's), plan/up/status/snapshot/reset/down
// touching only what the range made, inventories.
export {
  type AddAccountTask,
  ansibleIni,
  type AnsiblePlay,
  ansibleYaml,
  type BaseImageOptions,
  type BaseImageOutcome,
  type BaseImageProgress,
  type BaseImageSpec,
  type CopyContentTask,
  type CyrisOptions,
  cyrisToRange,
  type CyrisTranslation,
  DEFAULT_DESCRIPTION_LIMITS,
  type DescriptionIssue,
  type DescriptionLimits,
  type DhcpChanges,
  dhcpChanges,
  type DhcpHost,
  dhcpHostXml,
  type DhcpSyncResult,
  downRange,
  type DownResult,
  type ExecuteProgramTask,
  type ExpandedGuest,
  type ExpandedNic,
  type FirewallFilter,
  firewallFilterName,
  firewallFilters,
  firewallFilterXml,
  type FirewallRuleSpec,
  graphDot,
  type GraphEdge,
  graphMermaid,
  type GraphNode,
  type GuestAddress,
  type GuestConsole,
  type GuestLocation,
  type GuestSpec,
  type GuestStatus,
  type GuestTask,
  GuestTaskError,
  type GuestTaskOptions,
  type GuestTaskReport,
  type HostSpec,
  type InstallPackageTask,
  type InventoryGroup,
  inventoryHost,
  inventoryJson,
  type InventoryOptions,
  type InventoryValue,
  type KernelSpec,
  locateGuest,
  type LocateOptions,
  type MigrateGuestOptions,
  type MigrateGuestResult,
  migrateRangeGuest,
  type ModifyAccountTask,
  type NetworkSpec,
  type NicSpecInput,
  type NicStatus,
  type PackageManager,
  parseDhcpHosts,
  parseRangeDescription,
  type ParseRangeOptions,
  type PlanItem,
  type PlanOptions,
  planRange,
  type Range,
  RANGE_NAMESPACE,
  type RangeAction,
  type RangeConsoleOptions,
  RangeConsoles,
  type RangeDescription,
  RangeDescriptionError,
  rangeDhcpHosts,
  type RangeGraph,
  rangeGraph,
  type RangeHooks,
  type RangeInventory,
  rangeInventory,
  RangeOperationError,
  type RangePhase,
  type RangePlan,
  rangePlaybook,
  rangePlaybookPlays,
  type RangeProgress,
  type RangeSnapshotOptions,
  type RangeSnapshotResult,
  type RangeStatus,
  rangeStatus,
  renderSvg,
  type RenderSvgOptions,
  type ReservationSpec,
  resetRange,
  runGuestTasks,
  snapshotRange,
  type StatusOptions,
  syncDhcpHosts,
  type UpOptions,
  upRange,
  type UpResult,
  type ValidateOptions,
  validateRange,
  withFirewall,
} from "./lib/range/mod.ts";
