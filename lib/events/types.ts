/**
 * The typed events of `domainEvents`, `networkEvents`, `storagePoolEvents`, `nodeDeviceEvents` and
 * `secretEvents` (lib/events.ts): one discriminated union per object family, each
 * member one libvirt event id with its callback's arguments decoded (strings copied, enums as names,
 * typed parameters as plain objects).
 *
 * Enum values a newer libvirt may add, unknown to these tables, arrive as `unknown-<n>`.
 *
 * @module
 */

/** virDomainEventDefinedDetailType. */
export type DomainDefinedDetail = "added" | "updated" | "renamed" | "from-snapshot";
/** virDomainEventUndefinedDetailType. */
export type DomainUndefinedDetail = "removed" | "renamed";
/** virDomainEventStartedDetailType. */
export type DomainStartedDetail = "booted" | "migrated" | "restored" | "from-snapshot" | "wakeup";
/** virDomainEventSuspendedDetailType. */
export type DomainSuspendedDetail =
  | "paused"
  | "migrated"
  | "ioerror"
  | "watchdog"
  | "restored"
  | "from-snapshot"
  | "api-error"
  | "postcopy"
  | "postcopy-failed";
/** virDomainEventResumedDetailType. */
export type DomainResumedDetail = "unpaused" | "migrated" | "from-snapshot" | "postcopy" | "postcopy-failed";
/** virDomainEventStoppedDetailType. */
export type DomainStoppedDetail =
  | "shutdown"
  | "destroyed"
  | "crashed"
  | "migrated"
  | "saved"
  | "failed"
  | "from-snapshot";
/** virDomainEventShutdownDetailType. */
export type DomainShutdownDetail = "finished" | "guest" | "host";
/** virDomainEventPMSuspendedDetailType. */
export type DomainPmSuspendedDetail = "memory" | "disk";
/** virDomainEventCrashedDetailType. */
export type DomainCrashedDetail = "panicked" | "crashloaded";
/** virConnectDomainEventAgentLifecycleState. */
export type AgentLifecycleState = "connected" | "disconnected";
/** virConnectDomainEventAgentLifecycleReason. */
export type AgentLifecycleReason = "unknown" | "domain-started" | "channel";
/** virDomainEventWatchdogAction. */
export type WatchdogAction = "none" | "pause" | "reset" | "poweroff" | "shutdown" | "debug" | "injectnmi";
/** virDomainEventIOErrorAction. */
export type IoErrorAction = "none" | "pause" | "report";
/** virDomainEventGraphicsPhase. */
export type GraphicsPhase = "connect" | "initialize" | "disconnect";
/** virDomainEventGraphicsAddressType. */
export type GraphicsAddressFamily = "ipv4" | "ipv6" | "unix";
/** virDomainBlockJobType. */
export type BlockJobType = "unknown" | "pull" | "copy" | "commit" | "active-commit" | "backup";
/** virConnectDomainEventBlockJobStatus. */
export type BlockJobStatus = "completed" | "failed" | "canceled" | "ready";
/** virConnectDomainEventDiskChangeReason. */
export type DiskChangeReason = "change-missing-on-start" | "drop-missing-on-start";
/** virDomainEventTrayChangeReason. */
export type TrayChangeReason = "open" | "close";
/** virDomainMetadataType. */
export type MetadataType = "description" | "title" | "element";
/** virDomainMemoryFailureRecipientType. */
export type MemoryFailureRecipient = "hypervisor" | "guest";
/** virDomainMemoryFailureActionType. */
export type MemoryFailureAction = "ignore" | "inject" | "fatal" | "reset";
/** virNetworkEventLifecycleType. */
export type NetworkLifecycleEventName = "defined" | "undefined" | "started" | "stopped";
/** virStoragePoolEventLifecycleType. */
export type StoragePoolLifecycleEventName =
  | "defined"
  | "undefined"
  | "started"
  | "stopped"
  | "created"
  | "deleted";
/** virNodeDeviceEventLifecycleType. */
export type NodeDeviceLifecycleEventName = "created" | "deleted" | "defined" | "undefined";
/** virSecretEventLifecycleType. */
export type SecretLifecycleEventName = "defined" | "undefined";
/** virSecretUsageType. */
export type SecretUsageType = "none" | "volume" | "ceph" | "iscsi" | "tls" | "vtpm";
/** virConnectCloseReason. */
export type CloseReason = "error" | "eof" | "keepalive" | "client";

/** An enum value these tables do not know (a newer libvirt): `unknown-<n>`. */
export type UnknownEnumName = `unknown-${number}`;

/** A decoded virTypedParameter value: 64-bit integers stay exact as bigint. */
export type EventParamValue = number | bigint | boolean | string;

/** Fields every event has. */
export interface EventBase {
  /** The URI the event connection was opened to. */
  uri: string;
  /** When libvirt delivered it to the loop thread. */
  at: Date;
}

/**
 * A stretch in which events may have been lost: the event connection broke and was re-established
 * (`reason` from virConnectCloseReason), or a slow consumer overflowed the buffer (`overflow`). Re-read
 * the state you care about. The `undefined` fields let generic code read them on any event.
 *
 * @example
 * ```ts
 * import type { GapEvent } from "@deno-libvirt/deno-libvirt";
 * const gap: GapEvent = { kind: "gap", uri: "qemu:///system", reason: "eof", at: new Date() };
 * console.assert(gap.domain === undefined);
 * ```
 */
export interface GapEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "gap";
  /** Why the connection broke ("eof", "keepalive", "error", "client") or "overflow"; always set by the library. */
  reason?: CloseReason | "overflow" | UnknownEnumName;
  /** When the connection was found broken (absent for overflow). */
  lostAt?: Date;
  /** Absent: a gap is about no object. */
  domain?: undefined;
  /** Absent here (lifecycle-style events only). */
  event?: undefined;
  /** Absent here (lifecycle-style events only). */
  detail?: undefined;
}

/** The domain an event is about. */
export interface DomainRef {
  /** The object's name. */
  name: string;
  /** The object's UUID. */
  uuid: string;
}

/** Fields every domain event has. */
export interface DomainEventBase extends EventBase {
  /** The domain it is about. */
  domain: DomainRef;
}

/**
 * `event` and `detail` belong to lifecycle and agent-lifecycle; other members declare them `undefined`
 * so that code handling any event may read `event.event` without narrowing first.
 */
export interface WithoutEventDetail {
  /** Absent here (lifecycle-style events only). */
  event?: undefined;
  /** Absent here (lifecycle-style events only). */
  detail?: undefined;
}

/** virDomainEventType names, each with its detail names. */
export interface DomainLifecycleDetails {
  /** Details of "defined". */
  defined: DomainDefinedDetail;
  /** Details of "undefined". */
  undefined: DomainUndefinedDetail;
  /** Details of "started". */
  started: DomainStartedDetail;
  /** Details of "suspended". */
  suspended: DomainSuspendedDetail;
  /** Details of "resumed". */
  resumed: DomainResumedDetail;
  /** Details of "stopped". */
  stopped: DomainStoppedDetail;
  /** Details of "shutdown". */
  shutdown: DomainShutdownDetail;
  /** Details of "pmsuspended". */
  pmsuspended: DomainPmSuspendedDetail;
  /** Details of "crashed". */
  crashed: DomainCrashedDetail;
}

/** The name of a virDomainEventType value. */
export type DomainLifecycleEventName = keyof DomainLifecycleDetails;

/**
 * VIR_DOMAIN_EVENT_ID_LIFECYCLE: the domain was defined, started, suspended, stopped, ...; `detail`
 * narrows with `event` (`stopped` has "shutdown", "destroyed", "crashed", ...).
 */
export type DomainLifecycleEvent =
  | {
    [E in DomainLifecycleEventName]: DomainEventBase & {
      kind: "lifecycle";
      event: E;
      detail: DomainLifecycleDetails[E] | UnknownEnumName;
    };
  }[DomainLifecycleEventName]
  | DomainEventBase & { kind: "lifecycle"; event: UnknownEnumName; detail: UnknownEnumName };

/** VIR_DOMAIN_EVENT_ID_REBOOT: the guest rebooted. */
export interface DomainRebootEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "reboot";
}

/** VIR_DOMAIN_EVENT_ID_RTC_CHANGE: the guest changed its real-time clock. */
export interface DomainRtcChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "rtc-change";
  /** The new offset from UTC, in seconds. */
  utcOffset: number;
}

/** VIR_DOMAIN_EVENT_ID_WATCHDOG: the watchdog device fired. */
export interface DomainWatchdogEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "watchdog";
  /** What the hypervisor did (virDomainEventWatchdogAction). */
  action: WatchdogAction | UnknownEnumName;
}

/** VIR_DOMAIN_EVENT_ID_IO_ERROR and VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON: a disk I/O error. */
export interface DomainIoErrorEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "io-error" | "io-error-reason";
  /** The host path of the disk's source. */
  srcPath: string | null;
  /** The device alias (e.g. "virtio-disk0"). */
  device: string | null;
  /** What the hypervisor did (virDomainEventIOErrorAction). */
  action: IoErrorAction | UnknownEnumName;
  /** io-error-reason only: the cause, e.g. "enospc" (libvirt's free-form string). */
  reason?: string;
}

/** One end of a graphics connection (virDomainEventGraphicsAddress). */
export interface GraphicsAddress {
  /** The address family. */
  family: GraphicsAddressFamily | UnknownEnumName;
  /** The host address (or socket path). */
  node: string | null;
  /** The port (or null). */
  service: string | null;
}

/** VIR_DOMAIN_EVENT_ID_GRAPHICS: a VNC/SPICE client connected, authenticated or disconnected. */
export interface DomainGraphicsEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "graphics";
  /** Which step of the client connection. */
  phase: GraphicsPhase | UnknownEnumName;
  /** The server's end. */
  local: GraphicsAddress | null;
  /** The client's end. */
  remote: GraphicsAddress | null;
  /** The authentication scheme, e.g. "vnc", "sasl", "none". */
  authScheme: string | null;
  /** The client's identities (virDomainEventGraphicsSubject), e.g. `{ type: "x509dname", name }`. */
  subject: { type: string | null; name: string | null }[];
}

/** VIR_DOMAIN_EVENT_ID_CONTROL_ERROR: libvirt lost control of the domain's monitor. */
export interface DomainControlErrorEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "control-error";
}

/**
 * VIR_DOMAIN_EVENT_ID_BLOCK_JOB (disk is the source path) and VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 (disk is the
 * target, e.g. "vda"): a block job finished, failed, was canceled or is ready to pivot.
 */
export interface DomainBlockJobEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "block-job" | "block-job-2";
  /** The disk: its source path (block-job) or its target, e.g. "vda" (block-job-2). */
  disk: string | null;
  /** The kind of block job. */
  jobType: BlockJobType | UnknownEnumName;
  /** How it ended, or "ready" to pivot. */
  status: BlockJobStatus | UnknownEnumName;
}

/** VIR_DOMAIN_EVENT_ID_DISK_CHANGE: a disk's source changed (a missing source dropped at start). */
export interface DomainDiskChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "disk-change";
  /** The source before the change. */
  oldSrcPath: string | null;
  /** The source after it (null when dropped). */
  newSrcPath: string | null;
  /** The device alias. */
  device: string | null;
  /** Why the source changed. */
  reason: DiskChangeReason | UnknownEnumName;
}

/** VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: a removable drive's tray opened or closed. */
export interface DomainTrayChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "tray-change";
  /** The device alias. */
  device: string | null;
  /** Whether the tray opened or closed. */
  reason: TrayChangeReason | UnknownEnumName;
}

/** VIR_DOMAIN_EVENT_ID_PMWAKEUP, _PMSUSPEND, _PMSUSPEND_DISK: the guest woke up or suspended. */
export interface DomainPmEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "pmwakeup" | "pmsuspend" | "pmsuspend-disk";
  /** Unused by libvirt 9.0 (always 0). */
  reason: number;
}

/** VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: the balloon's actual size changed. */
export interface DomainBalloonChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "balloon-change";
  /** The balloon's new actual size, KiB. */
  actualKiB: number;
}

/** VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, _DEVICE_REMOVED, _DEVICE_REMOVAL_FAILED: hot-plug outcomes. */
export interface DomainDeviceEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "device-added" | "device-removed" | "device-removal-failed";
  /** The device alias (e.g. "net1"). */
  device: string;
}

/**
 * VIR_DOMAIN_EVENT_ID_TUNABLE (changed tunables, e.g. "cputune.shares") and VIR_DOMAIN_EVENT_ID_JOB_COMPLETED
 * (the finished job's statistics, e.g. "time_elapsed"): typed parameters as a plain object.
 */
export interface DomainParamsEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "tunable" | "job-completed";
  /** The parameters by libvirt name, e.g. { "cputune.shares": 1024n }. */
  params: Record<string, EventParamValue>;
}

/** VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: the guest agent connected or disconnected. */
export interface DomainAgentLifecycleEvent extends DomainEventBase {
  /** The discriminant: which event this is. */
  kind: "agent-lifecycle";
  /** The agent's state. */
  event: AgentLifecycleState | UnknownEnumName;
  /** Why: "domain-started", "channel" or "unknown". */
  detail: AgentLifecycleReason | UnknownEnumName;
}

/** VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION: a pre-copy migration pass began. */
export interface DomainMigrationIterationEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "migration-iteration";
  /** The pass number, from 1. */
  iteration: number;
}

/** VIR_DOMAIN_EVENT_ID_METADATA_CHANGE: the description, title or a metadata element changed. */
export interface DomainMetadataChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "metadata-change";
  /** Which metadata changed. */
  type: MetadataType | UnknownEnumName;
  /** element: the element's namespace URI. */
  namespace?: string;
}

/** VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD: a disk's write threshold (virDomainSetBlockThreshold) was crossed. */
export interface DomainBlockThresholdEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "block-threshold";
  /** The device alias. */
  device: string | null;
  /** The disk's host path. */
  path: string | null;
  /** The threshold in bytes. */
  threshold: bigint;
  /** How far the write went past it, in bytes. */
  excess: bigint;
}

/** VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE: a hardware memory error hit the hypervisor or guest. */
export interface DomainMemoryFailureEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "memory-failure";
  /** Whom the failure hit. */
  recipient: MemoryFailureRecipient | UnknownEnumName;
  /** What the hypervisor did about it. */
  action: MemoryFailureAction | UnknownEnumName;
  /** virDomainMemoryFailureFlags. */
  flags: { actionRequired: boolean; recursive: boolean };
}

/** VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE: a virtio-mem device's size changed. */
export interface DomainMemoryDeviceSizeChangeEvent extends DomainEventBase, WithoutEventDetail {
  /** The discriminant: which event this is. */
  kind: "memory-device-size-change";
  /** The device alias. */
  device: string | null;
  /** The device's new size, KiB. */
  sizeKiB: number;
}

/**
 * One domain event: switch on `kind` to get its fields. `gap` marks a stretch in which events may
 * have been lost.
 *
 * @example
 * ```ts
 * import type { DomainEvent } from "@deno-libvirt/deno-libvirt";
 * function describe(event: DomainEvent): string {
 *   switch (event.kind) {
 *     case "lifecycle":
 *       return `${event.domain.name} ${event.event}/${event.detail}`;
 *     case "device-added":
 *       return `${event.domain.name} gained ${event.device}`;
 *     case "tunable":
 *       return `${event.domain.name} tuned ${Object.keys(event.params).join(", ")}`;
 *     case "gap":
 *       return `events lost (${event.reason})`;
 *     default:
 *       return `${event.domain.name} ${event.kind}`;
 *   }
 * }
 * console.assert(describe({ kind: "gap", uri: "test:///default", reason: "eof", at: new Date() }) !== "");
 * ```
 */
export type DomainEvent =
  | DomainLifecycleEvent
  | DomainRebootEvent
  | DomainRtcChangeEvent
  | DomainWatchdogEvent
  | DomainIoErrorEvent
  | DomainGraphicsEvent
  | DomainControlErrorEvent
  | DomainBlockJobEvent
  | DomainDiskChangeEvent
  | DomainTrayChangeEvent
  | DomainPmEvent
  | DomainBalloonChangeEvent
  | DomainDeviceEvent
  | DomainParamsEvent
  | DomainAgentLifecycleEvent
  | DomainMigrationIterationEvent
  | DomainMetadataChangeEvent
  | DomainBlockThresholdEvent
  | DomainMemoryFailureEvent
  | DomainMemoryDeviceSizeChangeEvent
  | GapEvent;

/** The kinds of domain event a stream can ask for: one per virDomainEventID. */
export type DomainEventKind = Exclude<DomainEvent["kind"], "gap">;

/** A network, storage pool: name and UUID. */
export interface NamedRef {
  /** The object's name. */
  name: string;
  /** The object's UUID. */
  uuid: string;
}

/** VIR_NETWORK_EVENT_ID_LIFECYCLE: a network was defined, undefined, started or stopped. */
export interface NetworkLifecycleEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "lifecycle";
  /** The network it is about. */
  network: NamedRef;
  /** What happened. */
  event: NetworkLifecycleEventName | UnknownEnumName;
  /** Unused by libvirt 9.0 (0). */
  detail: number;
}

/**
 * One network event.
 *
 * @example
 * ```ts
 * import type { NetworkEvent } from "@deno-libvirt/deno-libvirt";
 * const started = (e: NetworkEvent) => e.kind === "lifecycle" && e.event === "started";
 * console.assert(!started({ kind: "gap", uri: "test:///default", reason: "eof", at: new Date() }));
 * ```
 */
export type NetworkEvent = NetworkLifecycleEvent | GapEvent;
/** The kinds of network event: one per virNetworkEventID. */
export type NetworkEventKind = Exclude<NetworkEvent["kind"], "gap">;

/** VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE: a pool was defined, started, stopped, built, deleted, ... */
export interface StoragePoolLifecycleEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "lifecycle";
  /** The pool it is about. */
  pool: NamedRef;
  /** What happened. */
  event: StoragePoolLifecycleEventName | UnknownEnumName;
  /** Unused by libvirt 9.0 (0). */
  detail: number;
}

/** VIR_STORAGE_POOL_EVENT_ID_REFRESH: a pool was refreshed (virStoragePoolRefresh). */
export interface StoragePoolRefreshEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "refresh";
  /** The pool it is about. */
  pool: NamedRef;
}

/**
 * One storage pool event.
 *
 * @example
 * ```ts
 * import type { StoragePoolEvent } from "@deno-libvirt/deno-libvirt";
 * const poolOf = (e: StoragePoolEvent) => e.kind === "gap" ? undefined : e.pool.name;
 * console.assert(poolOf({ kind: "gap", uri: "test:///default", reason: "eof", at: new Date() }) === undefined);
 * ```
 */
export type StoragePoolEvent = StoragePoolLifecycleEvent | StoragePoolRefreshEvent | GapEvent;
/** The kinds of storage pool event: one per virStoragePoolEventID. */
export type StoragePoolEventKind = Exclude<StoragePoolEvent["kind"], "gap">;

/** VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE: a host device appeared, went away, was defined or undefined. */
export interface NodeDeviceLifecycleEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "lifecycle";
  /** The host device it is about (node devices have names, no UUIDs). */
  device: { name: string };
  /** What happened. */
  event: NodeDeviceLifecycleEventName | UnknownEnumName;
  /** Unused by libvirt 9.0 (0). */
  detail: number;
}

/** VIR_NODE_DEVICE_EVENT_ID_UPDATE: a host device's properties changed. */
export interface NodeDeviceUpdateEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "update";
  /** The host device it is about (node devices have names, no UUIDs). */
  device: { name: string };
}

/**
 * One node device event.
 *
 * @example
 * ```ts
 * import type { NodeDeviceEvent } from "@deno-libvirt/deno-libvirt";
 * const gone = (e: NodeDeviceEvent) => e.kind === "lifecycle" && e.event === "deleted";
 * console.assert(!gone({ kind: "gap", uri: "test:///default", reason: "eof", at: new Date() }));
 * ```
 */
export type NodeDeviceEvent = NodeDeviceLifecycleEvent | NodeDeviceUpdateEvent | GapEvent;
/** The kinds of node device event: one per virNodeDeviceEventID. */
export type NodeDeviceEventKind = Exclude<NodeDeviceEvent["kind"], "gap">;

/** The secret an event is about: its UUID and usage (virSecretGetUsageType / GetUsageID). */
export interface SecretRef {
  /** The object's UUID. */
  uuid: string;
  /** What the secret is for. */
  usageType: SecretUsageType | UnknownEnumName;
  /** The usage's id (a volume path, a ceph/iscsi/tls name), null for usage "none". */
  usageId: string | null;
}

/** VIR_SECRET_EVENT_ID_LIFECYCLE: a secret was defined or undefined. */
export interface SecretLifecycleEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "lifecycle";
  /** The secret it is about. */
  secret: SecretRef;
  /** What happened. */
  event: SecretLifecycleEventName | UnknownEnumName;
  /** Unused by libvirt 9.0 (0). */
  detail: number;
}

/** VIR_SECRET_EVENT_ID_VALUE_CHANGED: a secret's value was set. */
export interface SecretValueChangedEvent extends EventBase {
  /** The discriminant: which event this is. */
  kind: "value-changed";
  /** The secret it is about. */
  secret: SecretRef;
}

/**
 * One secret event.
 *
 * @example
 * ```ts
 * import type { SecretEvent } from "@deno-libvirt/deno-libvirt";
 * const changed = (e: SecretEvent) => e.kind === "value-changed" ? e.secret.uuid : null;
 * console.assert(changed({ kind: "gap", uri: "qemu:///system", reason: "eof", at: new Date() }) === null);
 * ```
 */
export type SecretEvent = SecretLifecycleEvent | SecretValueChangedEvent | GapEvent;
/** The kinds of secret event: one per virSecretEventID. */
export type SecretEventKind = Exclude<SecretEvent["kind"], "gap">;
