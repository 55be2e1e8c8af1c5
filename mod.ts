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
export * from "./lib/errors.ts";
export type { ErrorCodes } from "./lib/error_codes.ts";

// ---------------------------------------------------------------------------------------------------
// The binding (also `./ffi`): loading libvirt, versions, the generated enums, typed parameters.
export * from "./lib/ffi/mod.ts";

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
  checkConsoleLogOptions,
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
export * from "./lib/events.ts";

// ---------------------------------------------------------------------------------------------------
// IP discovery (also `./ip`): several sources per NIC merged with a confidence, cached, with waits
// that explain themselves.
export * from "./lib/ip/mod.ts";

// ---------------------------------------------------------------------------------------------------
// Ranges (also `./range`): descriptions (ours and CyRIS's), plan/up/status/snapshot/reset/down
// touching only what the range made, inventories.
export * from "./lib/range/mod.ts";
