// <libvirt/libvirt-event.h> and the event parts of libvirt-domain.h, -network.h, -storage.h, -nodedev.h and
// -secret.h: the default event loop (run in a Worker, see lib/event_loop.ts), the registration calls, and
// the one table of event ids and callback signatures that both the worker (lib/_event_loop_worker.ts) and
// the decoders (lib/events/_decode.ts) read. tests/event_table_test.ts checks every id, callback signature
// and enum below against the installed libvirt-api.xml, so a hand edit cannot drift from libvirt.
//
// When the generated tables (lib/ffi/_generated/, from libvirt-api.xml) carry callback signatures too,
// lib/events/_tables.ts is the one line to point at them.
// FFI type spellings (the generated tables use the same ones).
const fn = "function" as const;
const int = "i32" as const;
const ptr = "pointer" as const;

/** The event loop and event registration calls (registration runs in the loop's worker). */
export const eventSymbols = {
  /** int virEventRegisterDefaultImpl(void): once per process, before the first virConnectOpen */
  virEventRegisterDefaultImpl: { parameters: [], result: int },
  /** int virEventRunDefaultImpl(void): one iteration; blocks in poll() */
  virEventRunDefaultImpl: { parameters: [], result: int },
  /** int virEventAddTimeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) */
  virEventAddTimeout: { parameters: [int, fn, ptr, fn], result: int },
  /** int virEventRemoveTimeout(int timer) */
  virEventRemoveTimeout: { parameters: [int], result: int },
  /** void virEventUpdateTimeout(int timer, int timeout) */
  virEventUpdateTimeout: { parameters: [int, int], result: "void" },
  /**
   * int virConnectDomainEventRegisterAny(virConnectPtr conn, virDomainPtr dom, int eventID,
   *   virConnectDomainEventGenericCallback cb, void *opaque, virFreeCallback freecb): in the loop's worker
   */
  virConnectDomainEventRegisterAny: { parameters: [ptr, ptr, int, fn, ptr, fn], result: int },
  /** int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID) */
  virConnectDomainEventDeregisterAny: { parameters: [ptr, int], result: int },
  /**
   * int virConnectNetworkEventRegisterAny(virConnectPtr conn, virNetworkPtr net, int eventID,
   *   virConnectNetworkEventGenericCallback cb, void *opaque, virFreeCallback freecb)
   */
  virConnectNetworkEventRegisterAny: { parameters: [ptr, ptr, int, fn, ptr, fn], result: int },
  /** int virConnectNetworkEventDeregisterAny(virConnectPtr conn, int callbackID) */
  virConnectNetworkEventDeregisterAny: { parameters: [ptr, int], result: int },
  /**
   * int virConnectStoragePoolEventRegisterAny(virConnectPtr conn, virStoragePoolPtr pool, int eventID,
   *   virConnectStoragePoolEventGenericCallback cb, void *opaque, virFreeCallback freecb)
   */
  virConnectStoragePoolEventRegisterAny: { parameters: [ptr, ptr, int, fn, ptr, fn], result: int },
  /** int virConnectStoragePoolEventDeregisterAny(virConnectPtr conn, int callbackID) */
  virConnectStoragePoolEventDeregisterAny: { parameters: [ptr, int], result: int },
  /**
   * int virConnectNodeDeviceEventRegisterAny(virConnectPtr conn, virNodeDevicePtr dev, int eventID,
   *   virConnectNodeDeviceEventGenericCallback cb, void *opaque, virFreeCallback freecb)
   */
  virConnectNodeDeviceEventRegisterAny: { parameters: [ptr, ptr, int, fn, ptr, fn], result: int },
  /** int virConnectNodeDeviceEventDeregisterAny(virConnectPtr conn, int callbackID) */
  virConnectNodeDeviceEventDeregisterAny: { parameters: [ptr, int], result: int },
  /**
   * int virConnectSecretEventRegisterAny(virConnectPtr conn, virSecretPtr secret, int eventID,
   *   virConnectSecretEventGenericCallback cb, void *opaque, virFreeCallback freecb)
   */
  virConnectSecretEventRegisterAny: { parameters: [ptr, ptr, int, fn, ptr, fn], result: int },
  /** int virConnectSecretEventDeregisterAny(virConnectPtr conn, int callbackID) */
  virConnectSecretEventDeregisterAny: { parameters: [ptr, int], result: int },
  /** const char *virNodeDeviceGetName(virNodeDevicePtr dev): owned by the handle; local */
  virNodeDeviceGetName: { parameters: [ptr], result: ptr },
  /** int virSecretGetUUIDString(virSecretPtr secret, char *buf): buf of VIR_UUID_STRING_BUFLEN; local */
  virSecretGetUUIDString: { parameters: [ptr, "buffer"], result: int },
  /** int virSecretGetUsageType(virSecretPtr secret): local */
  virSecretGetUsageType: { parameters: [ptr], result: int },
  /** const char *virSecretGetUsageID(virSecretPtr secret): owned by the handle; local */
  virSecretGetUsageID: { parameters: [ptr], result: ptr },
} as const;

/** The C types event callbacks take, as libvirt-api.xml spells them. */
export type EventArgType =
  | "virConnectPtr"
  | "virDomainPtr"
  | "virNetworkPtr"
  | "virStoragePoolPtr"
  | "virNodeDevicePtr"
  | "virSecretPtr"
  | "int"
  | "unsigned int"
  | "long long"
  | "unsigned long long"
  | "const char *"
  | "virTypedParameterPtr"
  | "const virDomainEventGraphicsAddress *"
  | "const virDomainEventGraphicsSubject *"
  | "void *";

/** Each C type's FFI type in a callback definition. */
export const eventArgFfiTypes: Record<EventArgType, Deno.NativeType> = {
  "virConnectPtr": "pointer",
  "virDomainPtr": "pointer",
  "virNetworkPtr": "pointer",
  "virStoragePoolPtr": "pointer",
  "virNodeDevicePtr": "pointer",
  "virSecretPtr": "pointer",
  "int": "i32",
  "unsigned int": "u32",
  "long long": "i64",
  "unsigned long long": "u64",
  "const char *": "pointer",
  "virTypedParameterPtr": "pointer",
  "const virDomainEventGraphicsAddress *": "pointer",
  "const virDomainEventGraphicsSubject *": "pointer",
  "void *": "pointer",
};

type Arg = readonly [EventArgType, string];
const conn: Arg = ["virConnectPtr", "conn"];
const dom: Arg = ["virDomainPtr", "dom"];
const opaque: Arg = ["void *", "opaque"];

/** Every event callback typedef: its arguments (C type, C name), as libvirt-api.xml has them. */
export const eventCallbackSignatures = {
  virConnectDomainEventCallback: [conn, dom, ["int", "event"], ["int", "detail"], opaque],
  virConnectDomainEventGenericCallback: [conn, dom, opaque],
  virConnectDomainEventRTCChangeCallback: [conn, dom, ["long long", "utcoffset"], opaque],
  virConnectDomainEventWatchdogCallback: [conn, dom, ["int", "action"], opaque],
  virConnectDomainEventIOErrorCallback: [
    conn,
    dom,
    ["const char *", "srcPath"],
    ["const char *", "devAlias"],
    ["int", "action"],
    opaque,
  ],
  virConnectDomainEventGraphicsCallback: [
    conn,
    dom,
    ["int", "phase"],
    ["const virDomainEventGraphicsAddress *", "local"],
    ["const virDomainEventGraphicsAddress *", "remote"],
    ["const char *", "authScheme"],
    ["const virDomainEventGraphicsSubject *", "subject"],
    opaque,
  ],
  virConnectDomainEventIOErrorReasonCallback: [
    conn,
    dom,
    ["const char *", "srcPath"],
    ["const char *", "devAlias"],
    ["int", "action"],
    ["const char *", "reason"],
    opaque,
  ],
  virConnectDomainEventBlockJobCallback: [
    conn,
    dom,
    ["const char *", "disk"],
    ["int", "type"],
    ["int", "status"],
    opaque,
  ],
  virConnectDomainEventDiskChangeCallback: [
    conn,
    dom,
    ["const char *", "oldSrcPath"],
    ["const char *", "newSrcPath"],
    ["const char *", "devAlias"],
    ["int", "reason"],
    opaque,
  ],
  virConnectDomainEventTrayChangeCallback: [
    conn,
    dom,
    ["const char *", "devAlias"],
    ["int", "reason"],
    opaque,
  ],
  virConnectDomainEventPMWakeupCallback: [conn, dom, ["int", "reason"], opaque],
  virConnectDomainEventPMSuspendCallback: [conn, dom, ["int", "reason"], opaque],
  virConnectDomainEventBalloonChangeCallback: [conn, dom, ["unsigned long long", "actual"], opaque],
  virConnectDomainEventPMSuspendDiskCallback: [conn, dom, ["int", "reason"], opaque],
  virConnectDomainEventDeviceRemovedCallback: [conn, dom, ["const char *", "devAlias"], opaque],
  virConnectDomainEventTunableCallback: [
    conn,
    dom,
    ["virTypedParameterPtr", "params"],
    ["int", "nparams"],
    opaque,
  ],
  virConnectDomainEventAgentLifecycleCallback: [conn, dom, ["int", "state"], ["int", "reason"], opaque],
  virConnectDomainEventDeviceAddedCallback: [conn, dom, ["const char *", "devAlias"], opaque],
  virConnectDomainEventMigrationIterationCallback: [conn, dom, ["int", "iteration"], opaque],
  virConnectDomainEventJobCompletedCallback: [
    conn,
    dom,
    ["virTypedParameterPtr", "params"],
    ["int", "nparams"],
    opaque,
  ],
  virConnectDomainEventDeviceRemovalFailedCallback: [conn, dom, ["const char *", "devAlias"], opaque],
  virConnectDomainEventMetadataChangeCallback: [
    conn,
    dom,
    ["int", "type"],
    ["const char *", "nsuri"],
    opaque,
  ],
  virConnectDomainEventBlockThresholdCallback: [
    conn,
    dom,
    ["const char *", "dev"],
    ["const char *", "path"],
    ["unsigned long long", "threshold"],
    ["unsigned long long", "excess"],
    opaque,
  ],
  virConnectDomainEventMemoryFailureCallback: [
    conn,
    dom,
    ["int", "recipient"],
    ["int", "action"],
    ["unsigned int", "flags"],
    opaque,
  ],
  virConnectDomainEventMemoryDeviceSizeChangeCallback: [
    conn,
    dom,
    ["const char *", "alias"],
    ["unsigned long long", "size"],
    opaque,
  ],
  virConnectNetworkEventLifecycleCallback: [
    conn,
    ["virNetworkPtr", "net"],
    ["int", "event"],
    ["int", "detail"],
    opaque,
  ],
  virConnectStoragePoolEventLifecycleCallback: [
    conn,
    ["virStoragePoolPtr", "pool"],
    ["int", "event"],
    ["int", "detail"],
    opaque,
  ],
  virConnectStoragePoolEventGenericCallback: [conn, ["virStoragePoolPtr", "pool"], opaque],
  virConnectNodeDeviceEventLifecycleCallback: [
    conn,
    ["virNodeDevicePtr", "dev"],
    ["int", "event"],
    ["int", "detail"],
    opaque,
  ],
  virConnectNodeDeviceEventGenericCallback: [conn, ["virNodeDevicePtr", "dev"], opaque],
  virConnectSecretEventLifecycleCallback: [
    conn,
    ["virSecretPtr", "secret"],
    ["int", "event"],
    ["int", "detail"],
    opaque,
  ],
  virConnectSecretEventGenericCallback: [conn, ["virSecretPtr", "secret"], opaque],
} as const satisfies Record<string, readonly Arg[]>;

/** The name of an event callback typedef. */
export type EventCallbackName = keyof typeof eventCallbackSignatures;

/** One event id: its number and the callback typedef libvirt calls for it. */
export interface EventIdEntry {
  /** The id's value (VIR_*_EVENT_ID_*). */
  readonly id: number;
  /** The callback typedef libvirt calls for it. */
  readonly callback: EventCallbackName;
}

/**
 * Every event id of libvirt 9.0, per object family, keyed by the kind name the streams use (the C
 * constant without its prefix, lower case, `_` as `-`): VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON is
 * `domain` / `io-error-reason`. The one place event ids live.
 */
export const eventIds = {
  domain: {
    "lifecycle": { id: 0, callback: "virConnectDomainEventCallback" },
    "reboot": { id: 1, callback: "virConnectDomainEventGenericCallback" },
    "rtc-change": { id: 2, callback: "virConnectDomainEventRTCChangeCallback" },
    "watchdog": { id: 3, callback: "virConnectDomainEventWatchdogCallback" },
    "io-error": { id: 4, callback: "virConnectDomainEventIOErrorCallback" },
    "graphics": { id: 5, callback: "virConnectDomainEventGraphicsCallback" },
    "io-error-reason": { id: 6, callback: "virConnectDomainEventIOErrorReasonCallback" },
    "control-error": { id: 7, callback: "virConnectDomainEventGenericCallback" },
    "block-job": { id: 8, callback: "virConnectDomainEventBlockJobCallback" },
    "disk-change": { id: 9, callback: "virConnectDomainEventDiskChangeCallback" },
    "tray-change": { id: 10, callback: "virConnectDomainEventTrayChangeCallback" },
    "pmwakeup": { id: 11, callback: "virConnectDomainEventPMWakeupCallback" },
    "pmsuspend": { id: 12, callback: "virConnectDomainEventPMSuspendCallback" },
    "balloon-change": { id: 13, callback: "virConnectDomainEventBalloonChangeCallback" },
    "pmsuspend-disk": { id: 14, callback: "virConnectDomainEventPMSuspendDiskCallback" },
    "device-removed": { id: 15, callback: "virConnectDomainEventDeviceRemovedCallback" },
    "block-job-2": { id: 16, callback: "virConnectDomainEventBlockJobCallback" },
    "tunable": { id: 17, callback: "virConnectDomainEventTunableCallback" },
    "agent-lifecycle": { id: 18, callback: "virConnectDomainEventAgentLifecycleCallback" },
    "device-added": { id: 19, callback: "virConnectDomainEventDeviceAddedCallback" },
    "migration-iteration": { id: 20, callback: "virConnectDomainEventMigrationIterationCallback" },
    "job-completed": { id: 21, callback: "virConnectDomainEventJobCompletedCallback" },
    "device-removal-failed": { id: 22, callback: "virConnectDomainEventDeviceRemovalFailedCallback" },
    "metadata-change": { id: 23, callback: "virConnectDomainEventMetadataChangeCallback" },
    "block-threshold": { id: 24, callback: "virConnectDomainEventBlockThresholdCallback" },
    "memory-failure": { id: 25, callback: "virConnectDomainEventMemoryFailureCallback" },
    "memory-device-size-change": {
      id: 26,
      callback: "virConnectDomainEventMemoryDeviceSizeChangeCallback",
    },
  },
  network: {
    "lifecycle": { id: 0, callback: "virConnectNetworkEventLifecycleCallback" },
  },
  "storage-pool": {
    "lifecycle": { id: 0, callback: "virConnectStoragePoolEventLifecycleCallback" },
    "refresh": { id: 1, callback: "virConnectStoragePoolEventGenericCallback" },
  },
  "node-device": {
    "lifecycle": { id: 0, callback: "virConnectNodeDeviceEventLifecycleCallback" },
    "update": { id: 1, callback: "virConnectNodeDeviceEventGenericCallback" },
  },
  secret: {
    "lifecycle": { id: 0, callback: "virConnectSecretEventLifecycleCallback" },
    "value-changed": { id: 1, callback: "virConnectSecretEventGenericCallback" },
  },
} as const satisfies Record<string, Record<string, EventIdEntry>>;

/** The object families that have events. */
export type EventFamily = keyof typeof eventIds;

/** Each family's registration calls and the C enum its ids come from. */
export const eventFamilies = {
  domain: {
    register: "virConnectDomainEventRegisterAny",
    deregister: "virConnectDomainEventDeregisterAny",
    idEnum: "virDomainEventID",
  },
  network: {
    register: "virConnectNetworkEventRegisterAny",
    deregister: "virConnectNetworkEventDeregisterAny",
    idEnum: "virNetworkEventID",
  },
  "storage-pool": {
    register: "virConnectStoragePoolEventRegisterAny",
    deregister: "virConnectStoragePoolEventDeregisterAny",
    idEnum: "virStoragePoolEventID",
  },
  "node-device": {
    register: "virConnectNodeDeviceEventRegisterAny",
    deregister: "virConnectNodeDeviceEventDeregisterAny",
    idEnum: "virNodeDeviceEventID",
  },
  secret: {
    register: "virConnectSecretEventRegisterAny",
    deregister: "virConnectSecretEventDeregisterAny",
    idEnum: "virSecretEventID",
  },
} as const satisfies Record<
  EventFamily,
  { register: keyof typeof eventSymbols; deregister: string; idEnum: string }
>;

/**
 * The enums event callbacks pass, as names indexed by value (each C constant without the enum's common
 * prefix, lower case, `_` as `-`). Keyed by the C enum type.
 */
export const eventEnums = {
  virDomainEventType: [
    "defined",
    "undefined",
    "started",
    "suspended",
    "resumed",
    "stopped",
    "shutdown",
    "pmsuspended",
    "crashed",
  ],
  virDomainEventDefinedDetailType: ["added", "updated", "renamed", "from-snapshot"],
  virDomainEventUndefinedDetailType: ["removed", "renamed"],
  virDomainEventStartedDetailType: ["booted", "migrated", "restored", "from-snapshot", "wakeup"],
  virDomainEventSuspendedDetailType: [
    "paused",
    "migrated",
    "ioerror",
    "watchdog",
    "restored",
    "from-snapshot",
    "api-error",
    "postcopy",
    "postcopy-failed",
  ],
  virDomainEventResumedDetailType: ["unpaused", "migrated", "from-snapshot", "postcopy", "postcopy-failed"],
  virDomainEventStoppedDetailType: [
    "shutdown",
    "destroyed",
    "crashed",
    "migrated",
    "saved",
    "failed",
    "from-snapshot",
  ],
  virDomainEventShutdownDetailType: ["finished", "guest", "host"],
  virDomainEventPMSuspendedDetailType: ["memory", "disk"],
  virDomainEventCrashedDetailType: ["panicked", "crashloaded"],
  // value 0 is not in the enum; libvirt never sends it
  virConnectDomainEventAgentLifecycleState: ["unknown", "connected", "disconnected"],
  virConnectDomainEventAgentLifecycleReason: ["unknown", "domain-started", "channel"],
  virDomainEventWatchdogAction: ["none", "pause", "reset", "poweroff", "shutdown", "debug", "injectnmi"],
  virDomainEventIOErrorAction: ["none", "pause", "report"],
  virDomainEventGraphicsPhase: ["connect", "initialize", "disconnect"],
  virDomainEventGraphicsAddressType: ["ipv4", "ipv6", "unix"],
  virDomainBlockJobType: ["unknown", "pull", "copy", "commit", "active-commit", "backup"],
  virConnectDomainEventBlockJobStatus: ["completed", "failed", "canceled", "ready"],
  virConnectDomainEventDiskChangeReason: ["change-missing-on-start", "drop-missing-on-start"],
  virDomainEventTrayChangeReason: ["open", "close"],
  virDomainMetadataType: ["description", "title", "element"],
  virDomainMemoryFailureRecipientType: ["hypervisor", "guest"],
  virDomainMemoryFailureActionType: ["ignore", "inject", "fatal", "reset"],
  virNetworkEventLifecycleType: ["defined", "undefined", "started", "stopped"],
  virStoragePoolEventLifecycleType: ["defined", "undefined", "started", "stopped", "created", "deleted"],
  virNodeDeviceEventLifecycleType: ["created", "deleted", "defined", "undefined"],
  virSecretEventLifecycleType: ["defined", "undefined"],
  virSecretUsageType: ["none", "volume", "ceph", "iscsi", "tls", "vtpm"],
  virConnectCloseReason: ["error", "eof", "keepalive", "client"],
} as const;

/** virDomainMemoryFailureFlags: bit values. */
export const memoryFailureFlags = { actionRequired: 1, recursive: 2 } as const;

/**
 * Struct layouts the callbacks pass pointers to (x86_64 / aarch64 LP64), checked with offsetof against
 * libvirt 9.0's headers (gcc, see the commit adding them):
 *
 *   virDomainEventGraphicsAddress size=24 family@0 node@8 service@16
 *   virDomainEventGraphicsSubject size=16 nidentity@0 identities@8
 *   virDomainEventGraphicsSubjectIdentity size=16 type@0 name@8
 *   virTypedParameter size=96 field@0 (80 bytes) type@80 value@88 (the layout of lib/ffi/typed_params.ts)
 */
export const eventStructLayouts = {
  graphicsAddress: { family: 0, node: 8, service: 16 },
  graphicsSubject: { count: 0, identities: 8 },
  graphicsIdentity: { size: 16, type: 0, name: 8 },
  typedParameter: { size: 96, fieldLength: 80, type: 80, value: 88 },
  uuidStringLength: 36,
} as const;

/** The layouts as the worker's copier takes them. */
export type EventStructLayouts = typeof eventStructLayouts;
