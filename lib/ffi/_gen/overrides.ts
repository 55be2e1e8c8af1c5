// What libvirt's API description cannot say, for the generator.

// ===================================================================================================
// Method generation (lib/ffi/_gen/generate_methods.ts): owned by the methods stage.
// ===================================================================================================

/** A typed-parameter schema: the macros that name its fields, and the functions that take it. */
export interface TypedParamsOverride {
  /** The generated interface: "BlockIoTuneParams". */
  typeName: string;
  /** Macro name prefixes whose string values are the fields: "VIR_DOMAIN_BLOCK_IOTUNE_". */
  prefixes: string[];
  /** The functions that take or return it (for the doc). */
  functions: string[];
  /** Field kinds the macro docs do not state, or fields without a macro. */
  kinds?: Record<string, "int" | "uint" | "llong" | "ullong" | "double" | "boolean" | "string">;
  /** True when libvirt adds fields of its own (per-device, per-index): the type takes any field. */
  open?: boolean;
}

const blockIoTune: TypedParamsOverride = {
  typeName: "BlockIoTuneParams",
  prefixes: ["VIR_DOMAIN_BLOCK_IOTUNE_"],
  functions: ["virDomainSetBlockIoTune", "virDomainGetBlockIoTune"],
};
const memory: TypedParamsOverride = {
  typeName: "MemoryParams",
  prefixes: [
    "VIR_DOMAIN_MEMORY_HARD_LIMIT",
    "VIR_DOMAIN_MEMORY_SOFT_LIMIT",
    "VIR_DOMAIN_MEMORY_MIN_GUARANTEE",
    "VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT",
  ],
  functions: ["virDomainSetMemoryParameters", "virDomainGetMemoryParameters"],
};
const blkio: TypedParamsOverride = {
  typeName: "BlkioParams",
  prefixes: ["VIR_DOMAIN_BLKIO_"],
  functions: ["virDomainSetBlkioParameters", "virDomainGetBlkioParameters"],
};
const numa: TypedParamsOverride = {
  typeName: "NumaParams",
  prefixes: ["VIR_DOMAIN_NUMA_"],
  functions: ["virDomainSetNumaParameters", "virDomainGetNumaParameters"],
};
const scheduler: TypedParamsOverride = {
  typeName: "SchedulerParams",
  prefixes: ["VIR_DOMAIN_SCHEDULER_"],
  functions: ["virDomainSetSchedulerParameters", "virDomainGetSchedulerParameters", "...Flags"],
};
const bandwidth: TypedParamsOverride = {
  typeName: "InterfaceParams",
  prefixes: ["VIR_DOMAIN_BANDWIDTH_"],
  functions: ["virDomainSetInterfaceParameters", "virDomainGetInterfaceParameters"],
};
const blockStats: TypedParamsOverride = {
  typeName: "BlockStatsParams",
  prefixes: ["VIR_DOMAIN_BLOCK_STATS_"],
  functions: ["virDomainBlockStatsFlags"],
};
const migrate: TypedParamsOverride = {
  typeName: "MigrateParams",
  prefixes: ["VIR_MIGRATE_PARAM_"],
  functions: ["virDomainMigrate3", "virDomainMigrateToURI3"],
  // VIR_MIGRATE_PARAM_MIGRATE_DISKS and _DISKS_DETECT_ZEROES may repeat: pass an array
  open: true,
};
const job: TypedParamsOverride = {
  typeName: "JobStats",
  prefixes: ["VIR_DOMAIN_JOB_"],
  functions: ["virDomainGetJobStats"],
  kinds: { type: "int" },
  open: true,
};
const blockCopy: TypedParamsOverride = {
  typeName: "BlockCopyParams",
  prefixes: ["VIR_DOMAIN_BLOCK_COPY_"],
  functions: ["virDomainBlockCopy"],
};
const save: TypedParamsOverride = {
  typeName: "SaveParams",
  prefixes: ["VIR_DOMAIN_SAVE_PARAM_"],
  functions: ["virDomainSaveParams", "virDomainRestoreParams"],
};
const perf: TypedParamsOverride = {
  typeName: "PerfEvents",
  prefixes: ["VIR_PERF_PARAM_"],
  functions: ["virDomainSetPerfEvents", "virDomainGetPerfEvents"],
};
const iothread: TypedParamsOverride = {
  typeName: "IoThreadParams",
  prefixes: ["VIR_DOMAIN_IOTHREAD_"],
  functions: ["virDomainSetIOThreadParams"],
};
const launchSecurity: TypedParamsOverride = {
  typeName: "LaunchSecurityParams",
  prefixes: ["VIR_DOMAIN_LAUNCH_SECURITY_"],
  functions: ["virDomainGetLaunchSecurityInfo", "virDomainSetLaunchSecurityState"],
  open: true,
};
const nodeMemory: TypedParamsOverride = {
  typeName: "NodeMemoryParams",
  prefixes: ["VIR_NODE_MEMORY_SHARED_"],
  functions: ["virNodeSetMemoryParameters", "virNodeGetMemoryParameters"],
};
const sev: TypedParamsOverride = {
  typeName: "SevInfo",
  prefixes: ["VIR_NODE_SEV_"],
  functions: ["virNodeGetSEVInfo"],
  open: true,
};
const portParams: TypedParamsOverride = {
  typeName: "NetworkPortParams",
  prefixes: ["VIR_NETWORK_PORT_BANDWIDTH_"],
  functions: ["virNetworkPortSetParameters", "virNetworkPortGetParameters"],
};
const identity: TypedParamsOverride = {
  typeName: "IdentityParams",
  prefixes: ["VIR_CONNECT_IDENTITY_"],
  functions: ["virConnectSetIdentity"],
};
const guestInfo: TypedParamsOverride = {
  typeName: "GuestInfo",
  prefixes: [],
  functions: ["virDomainGetGuestInfo"],
  open: true,
};
const guestVcpus: TypedParamsOverride = {
  typeName: "GuestVcpus",
  prefixes: [],
  functions: ["virDomainGetGuestVcpus"],
  kinds: { vcpus: "string", online: "string", offlinable: "string" },
  open: true,
};

/** The methods stage's overrides. */
export const methodOverrides = {
  /** Function -> the schema of its typed parameters. */
  typedParams: {
    virDomainSetBlockIoTune: blockIoTune,
    virDomainGetBlockIoTune: blockIoTune,
    virDomainSetMemoryParameters: memory,
    virDomainGetMemoryParameters: memory,
    virDomainSetBlkioParameters: blkio,
    virDomainGetBlkioParameters: blkio,
    virDomainSetNumaParameters: numa,
    virDomainGetNumaParameters: numa,
    virDomainSetSchedulerParameters: scheduler,
    virDomainSetSchedulerParametersFlags: scheduler,
    virDomainGetSchedulerParameters: scheduler,
    virDomainGetSchedulerParametersFlags: scheduler,
    virDomainSetInterfaceParameters: bandwidth,
    virDomainGetInterfaceParameters: bandwidth,
    virDomainBlockStatsFlags: blockStats,
    virDomainMigrate3: migrate,
    virDomainMigrateToURI3: migrate,
    virDomainGetJobStats: job,
    virDomainBlockCopy: blockCopy,
    virDomainSaveParams: save,
    virDomainRestoreParams: save,
    virDomainSetPerfEvents: perf,
    virDomainGetPerfEvents: perf,
    virDomainSetIOThreadParams: iothread,
    virDomainGetLaunchSecurityInfo: launchSecurity,
    virDomainSetLaunchSecurityState: launchSecurity,
    virNodeSetMemoryParameters: nodeMemory,
    virNodeGetMemoryParameters: nodeMemory,
    virNodeGetSEVInfo: sev,
    virNetworkPortSetParameters: portParams,
    virNetworkPortGetParameters: portParams,
    virConnectSetIdentity: identity,
    virDomainGetGuestInfo: guestInfo,
    virDomainGetGuestVcpus: guestVcpus,
  } as Record<string, TypedParamsOverride>,

  /** Functions whose flags info names no enum (or the wrong one): the enum types to use. */
  flagsEnums: {
    virDomainGetXMLDesc: ["virDomainXMLFlags"],
    virInterfaceGetXMLDesc: ["virInterfaceXMLFlags"],
    virConnectListAllDomains: ["virConnectListAllDomainsFlags"],
  } as Record<string, string[]>,

  /** Functions that also get a `...Sync` method (in-process drivers; the hand-written code had these). */
  syncTwins: [
    "virDomainGetState",
    "virDomainGetInfo",
    "virConnectListAllDomains",
    "virDomainLookupByName",
    "virDomainLookupByUUIDString",
    "virDomainLookupByID",
  ],

  /** Names other than the mechanical one (keep this empty unless the rule gives a reserved word). */
  rename: {} as Record<string, string>,

  /** Functions that get no generated method, with the reason (written by hand, elsewhere, or legacy). */
  skip: {
    ...Object.fromEntries(
      [
        "Connect",
        "Domain",
        "Network",
        "NetworkPort",
        "StoragePool",
        "StorageVol",
        "DomainSnapshot",
        "DomainCheckpoint",
        "NWFilter",
        "NWFilterBinding",
        "Secret",
        "NodeDevice",
        "Interface",
      ].map((o) => [`vir${o}Ref`, "plumbing: each handle holds its own reference (ObjectHandle)"]),
    ),
    ...Object.fromEntries(
      [
        "virConnectDomainEventDeregisterAny",
        "virConnectDomainQemuMonitorEventDeregister",
        "virConnectNetworkEventDeregisterAny",
        "virConnectNodeDeviceEventDeregisterAny",
        "virConnectSecretEventDeregisterAny",
        "virConnectStoragePoolEventDeregisterAny",
      ].map((fn) => [fn, "events: subscriptions in lib/events.ts pair register and deregister"]),
    ),
    // plumbing the handle base does
    virConnectRef: "plumbing: connections are not reference-counted by users",
    virConnectClose: "hand-written: Connection.close()",
    virDomainGetConnect: "plumbing: the `connection` getter",
    virNetworkGetConnect: "plumbing: the `connection` getter",
    virStoragePoolGetConnect: "plumbing: the `connection` getter",
    virStorageVolGetConnect: "plumbing: the `connection` getter",
    virInterfaceGetConnect: "plumbing: the `connection` getter",
    virSecretGetConnect: "plumbing: the `connection` getter",
    virNodeDeviceGetConnect: "plumbing: the `connection` getter",
    virNWFilterGetConnect: "plumbing: the `connection` getter",
    virDomainSnapshotGetConnect: "plumbing: the `connection` getter",
    virDomainCheckpointGetConnect: "plumbing: the `connection` getter",
    // legacy, superseded by ListAll* (names and counts race with changes between two calls)
    virConnectListDomains: "legacy: listAllDomains",
    virConnectNumOfDomains: "legacy: listAllDomains",
    virConnectListDefinedDomains: "legacy: listAllDomains",
    virConnectNumOfDefinedDomains: "legacy: listAllDomains",
    virConnectListNetworks: "legacy: listAllNetworks",
    virConnectNumOfNetworks: "legacy: listAllNetworks",
    virConnectListDefinedNetworks: "legacy: listAllNetworks",
    virConnectNumOfDefinedNetworks: "legacy: listAllNetworks",
    virConnectListStoragePools: "legacy: listAllStoragePools",
    virConnectNumOfStoragePools: "legacy: listAllStoragePools",
    virConnectListDefinedStoragePools: "legacy: listAllStoragePools",
    virConnectNumOfDefinedStoragePools: "legacy: listAllStoragePools",
    virConnectListInterfaces: "legacy: listAllInterfaces",
    virConnectNumOfInterfaces: "legacy: listAllInterfaces",
    virConnectListDefinedInterfaces: "legacy: listAllInterfaces",
    virConnectNumOfDefinedInterfaces: "legacy: listAllInterfaces",
    virConnectListNWFilters: "legacy: listAllNWFilters",
    virConnectNumOfNWFilters: "legacy: listAllNWFilters",
    virConnectListSecrets: "legacy: listAllSecrets",
    virConnectNumOfSecrets: "legacy: listAllSecrets",
    virNodeListDevices: "legacy: listAllNodeDevices",
    virNodeNumOfDevices: "legacy: listAllNodeDevices",
    virStoragePoolListVolumes: "legacy: listAllVolumes",
    virStoragePoolNumOfVolumes: "legacy: listAllVolumes",
    virDomainSnapshotListNames: "legacy: listAllSnapshots",
    virDomainSnapshotNum: "legacy: listAllSnapshots",
    virDomainSnapshotListChildrenNames: "legacy: listAllChildren",
    virDomainSnapshotNumChildren: "legacy: listAllChildren",
  } as Record<string, string>,
};
