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
export {
  type AuthCallback,
  type AuthOptions,
  type CloseReport,
  Connection,
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
export { mergeSightings } from "./lib/ip/merge.ts";
export { isLocalUri } from "./lib/ip/sources/arp.ts";
export { encodedMacRule, type MacRule } from "./lib/ip/sources/plan.ts";
export { PLAN_NAMESPACE, readDomainXml } from "./lib/ip/target.ts";
export {
  type AddressSource,
  type DiscoveredAddress,
  type DiscoveryResult,
  type DiscoveryTarget,
  FAST_ORDER,
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
export { ansibleIni, ansibleYaml, inventoryJson, type RangeStatus, rangeStatus } from "./lib/range/status.ts";
export { type RangeHooks, RangeOperationError, type RangeProgress } from "./lib/range/types.ts";
export { type UpOptions, upRange } from "./lib/range/up.ts";
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
