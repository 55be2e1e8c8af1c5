// Copied callback arguments (lib/ffi/event_args.ts, run in the loop's worker) -> typed events
// (./types.ts). One decoder per event id, keyed like lib/ffi/symbols_event.ts's `eventIds`; the argument
// order is the callback's, without the connection and the opaque pointer.
import type { CopiedArg } from "../ffi/event_args.ts";
import { eventEnums, type EventFamily, type eventIds, memoryFailureFlags } from "./_tables.ts";
import type {
  DomainEvent,
  DomainRef,
  EventParamValue,
  NamedRef,
  NetworkEvent,
  NodeDeviceEvent,
  SecretEvent,
  SecretRef,
  StoragePoolEvent,
  UnknownEnumName,
} from "./types.ts";

type Enum = keyof typeof eventEnums;

/** The name of value `value` of C enum `type`, `unknown-<n>` for a value the table lacks. */
export function enumName<E extends Enum>(
  type: E,
  value: CopiedArg,
): (typeof eventEnums)[E][number] | UnknownEnumName {
  const names = eventEnums[type] as readonly string[];
  const n = Number(value);
  return (names[n] ?? `unknown-${n}`) as (typeof eventEnums)[E][number] | UnknownEnumName;
}

const num = (v: CopiedArg) => Number(v);
const str = (v: CopiedArg) => (v === null ? null : String(v));
const big = (v: CopiedArg) => BigInt(v as bigint);
const params = (v: CopiedArg): Record<string, EventParamValue> =>
  Object.fromEntries(v as [string, EventParamValue][]);
const named = (v: CopiedArg): NamedRef => {
  const ref = v as { name: string | null; uuid?: string };
  return { name: ref.name ?? "", uuid: ref.uuid ?? "" };
};

type Decoded<E> = E extends unknown ? Omit<E, "kind" | "uri" | "at" | "domain"> : never;
type DomainBody = Decoded<Exclude<DomainEvent, { kind: "gap" }>>;

/** Each virDomainEventType's detail enum. */
const lifecycleDetailEnums = {
  defined: "virDomainEventDefinedDetailType",
  undefined: "virDomainEventUndefinedDetailType",
  started: "virDomainEventStartedDetailType",
  suspended: "virDomainEventSuspendedDetailType",
  resumed: "virDomainEventResumedDetailType",
  stopped: "virDomainEventStoppedDetailType",
  shutdown: "virDomainEventShutdownDetailType",
  pmsuspended: "virDomainEventPMSuspendedDetailType",
  crashed: "virDomainEventCrashedDetailType",
} as const satisfies Record<(typeof eventEnums)["virDomainEventType"][number], Enum>;

const domainDecoders: Record<keyof typeof eventIds.domain, (a: CopiedArg[]) => DomainBody> = {
  "lifecycle": ([event, detail]) => {
    const name = enumName("virDomainEventType", event);
    const details = lifecycleDetailEnums[name as keyof typeof lifecycleDetailEnums];
    return {
      event: name,
      detail: details ? enumName(details, detail) : `unknown-${Number(detail)}`,
    } as DomainBody;
  },
  "reboot": () => ({}),
  "rtc-change": ([offset]) => ({ utcOffset: num(offset) }),
  "watchdog": ([action]) => ({ action: enumName("virDomainEventWatchdogAction", action) }),
  "io-error": ([srcPath, device, action]) => ({
    srcPath: str(srcPath),
    device: str(device),
    action: enumName("virDomainEventIOErrorAction", action),
  }),
  "graphics": ([phase, local, remote, authScheme, subject]) => {
    const address = (v: CopiedArg) => {
      if (v === null) return null;
      const a = v as { family: number; node: string | null; service: string | null };
      return {
        family: enumName("virDomainEventGraphicsAddressType", a.family),
        node: a.node,
        service: a.service,
      };
    };
    return {
      phase: enumName("virDomainEventGraphicsPhase", phase),
      local: address(local),
      remote: address(remote),
      authScheme: str(authScheme),
      subject: subject as { type: string | null; name: string | null }[],
    };
  },
  "io-error-reason": ([srcPath, device, action, reason]) => ({
    srcPath: str(srcPath),
    device: str(device),
    action: enumName("virDomainEventIOErrorAction", action),
    reason: str(reason) ?? "",
  }),
  "control-error": () => ({}),
  "block-job": ([disk, type, status]) => ({
    disk: str(disk),
    jobType: enumName("virDomainBlockJobType", type),
    status: enumName("virConnectDomainEventBlockJobStatus", status),
  }),
  "disk-change": ([oldSrcPath, newSrcPath, device, reason]) => ({
    oldSrcPath: str(oldSrcPath),
    newSrcPath: str(newSrcPath),
    device: str(device),
    reason: enumName("virConnectDomainEventDiskChangeReason", reason),
  }),
  "tray-change": ([device, reason]) => ({
    device: str(device),
    reason: enumName("virDomainEventTrayChangeReason", reason),
  }),
  "pmwakeup": ([reason]) => ({ reason: num(reason) }),
  "pmsuspend": ([reason]) => ({ reason: num(reason) }),
  "balloon-change": ([actual]) => ({ actualKiB: num(actual) }),
  "pmsuspend-disk": ([reason]) => ({ reason: num(reason) }),
  "device-removed": ([device]) => ({ device: str(device) ?? "" }),
  "block-job-2": (a) => domainDecoders["block-job"](a),
  "tunable": ([p]) => ({ params: params(p) }),
  "agent-lifecycle": ([state, reason]) =>
    ({
      event: enumName("virConnectDomainEventAgentLifecycleState", state),
      detail: enumName("virConnectDomainEventAgentLifecycleReason", reason),
    }) as DomainBody,
  "device-added": ([device]) => ({ device: str(device) ?? "" }),
  "migration-iteration": ([iteration]) => ({ iteration: num(iteration) }),
  "job-completed": ([p]) => ({ params: params(p) }),
  "device-removal-failed": ([device]) => ({ device: str(device) ?? "" }),
  "metadata-change": ([type, namespace]) => {
    const body: { type: ReturnType<typeof enumName<"virDomainMetadataType">>; namespace?: string } = {
      type: enumName("virDomainMetadataType", type),
    };
    if (namespace !== null && namespace !== "") body.namespace = String(namespace);
    return body;
  },
  "block-threshold": ([device, path, threshold, excess]) => ({
    device: str(device),
    path: str(path),
    threshold: big(threshold),
    excess: big(excess),
  }),
  "memory-failure": ([recipient, action, flags]) => ({
    recipient: enumName("virDomainMemoryFailureRecipientType", recipient),
    action: enumName("virDomainMemoryFailureActionType", action),
    flags: {
      actionRequired: (num(flags) & memoryFailureFlags.actionRequired) !== 0,
      recursive: (num(flags) & memoryFailureFlags.recursive) !== 0,
    },
  }),
  "memory-device-size-change": ([device, size]) => ({ device: str(device), sizeKiB: num(size) }),
};

/** A decoded event of any family. */
export type AnyEvent = DomainEvent | NetworkEvent | StoragePoolEvent | NodeDeviceEvent | SecretEvent;

const secretRef = (v: CopiedArg): SecretRef => {
  const ref = v as { uuid?: string; usageType?: number; usageId?: string | null };
  return {
    uuid: ref.uuid ?? "",
    usageType: enumName("virSecretUsageType", ref.usageType ?? 0),
    usageId: ref.usageId ?? null,
  };
};

/**
 * Decodes one event: `family`/`kind` as in `eventIds`, `args` as copyEventArgs returned them.
 *
 * @throws {TypeError} for a family or kind the tables do not have (a bug: registrations come from them)
 */
export function decodeEvent(
  family: EventFamily,
  kind: string,
  args: CopiedArg[],
  uri: string,
  at: Date,
): AnyEvent {
  switch (family) {
    case "domain": {
      const decoder = domainDecoders[kind as keyof typeof domainDecoders];
      if (!decoder) break;
      const [dom, ...rest] = args;
      const ref = dom as { name: string | null; uuid?: string };
      const domain: DomainRef = { name: ref.name ?? "", uuid: ref.uuid ?? "" };
      return { kind, uri, domain, ...decoder(rest), at } as DomainEvent;
    }
    case "network":
      if (kind !== "lifecycle") break;
      return {
        kind,
        uri,
        network: named(args[0]),
        event: enumName("virNetworkEventLifecycleType", args[1]),
        detail: num(args[2]),
        at,
      };
    case "storage-pool":
      if (kind === "lifecycle") {
        return {
          kind,
          uri,
          pool: named(args[0]),
          event: enumName("virStoragePoolEventLifecycleType", args[1]),
          detail: num(args[2]),
          at,
        };
      }
      if (kind === "refresh") return { kind, uri, pool: named(args[0]), at };
      break;
    case "node-device": {
      const device = { name: (args[0] as { name: string | null }).name ?? "" };
      if (kind === "lifecycle") {
        return {
          kind,
          uri,
          device,
          event: enumName("virNodeDeviceEventLifecycleType", args[1]),
          detail: num(args[2]),
          at,
        };
      }
      if (kind === "update") return { kind, uri, device, at };
      break;
    }
    case "secret":
      if (kind === "lifecycle") {
        return {
          kind,
          uri,
          secret: secretRef(args[0]),
          event: enumName("virSecretEventLifecycleType", args[1]),
          detail: num(args[2]),
          at,
        };
      }
      if (kind === "value-changed") return { kind, uri, secret: secretRef(args[0]), at };
      break;
  }
  throw new TypeError(`Cannot decode a ${family} event of kind ${JSON.stringify(kind)}: no decoder for it`);
}
