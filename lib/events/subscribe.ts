/**
 * Subscribing to the events of one object family: domains, networks, storage pools, node devices and
 * secrets, each with its own kinds and object filter. Every function returns an {@link EventStream}.
 *
 * @module
 */
import { DomainEventStream, EventStream, type EventStreamOptions } from "./event_stream.ts";
import type {
  DomainEventKind,
  NetworkEvent,
  NetworkEventKind,
  NodeDeviceEvent,
  NodeDeviceEventKind,
  SecretEvent,
  SecretEventKind,
  StoragePoolEvent,
  StoragePoolEventKind,
} from "./types.ts";

/** Options for {@link domainEvents}. */
export interface DomainEventOptions extends EventStreamOptions<DomainEventKind> {
  /** Only events of this domain (its name or UUID). */
  domain?: string;
}

/** Options for {@link networkEvents}. */
export interface NetworkEventOptions extends EventStreamOptions<NetworkEventKind> {
  /** Only events of this network (its name or UUID). */
  network?: string;
}

/** Options for {@link storagePoolEvents}. */
export interface StoragePoolEventOptions extends EventStreamOptions<StoragePoolEventKind> {
  /** Only events of this pool (its name or UUID). */
  pool?: string;
}

/** Options for {@link nodeDeviceEvents}. */
export interface NodeDeviceEventOptions extends EventStreamOptions<NodeDeviceEventKind> {
  /** Only events of this device (its name, e.g. "scsi_host3"). */
  device?: string;
}

/** Options for {@link secretEvents}. */
export interface SecretEventOptions extends EventStreamOptions<SecretEventKind> {
  /** Only events of this secret (its UUID or usage id). */
  secret?: string;
}

/**
 * Subscribes to domain events of a hypervisor: any of the 27 virDomainEventIDs of libvirt 9.0,
 * registered with virConnectDomainEventRegisterAny (and deregistered with
 * virConnectDomainEventDeregisterAny when the last stream on the URI closes).
 *
 * @param uri the hypervisor URI (a dedicated event connection is opened and shared per URI)
 * @param options kinds (default lifecycle), a domain filter, a signal that ends the stream, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 * @throws nothing itself: a bad kind, an open or a registration failure rejects `ready()` and the
 *   first `next()` (a TypeError naming the kind and the known ones; a LibvirtError)
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, setDomainMetadata } from "@deno-libvirt/deno-libvirt";
 * import { domainEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = domainEvents("test:///default", { kinds: ["metadata-change"], domain: "test" });
 * await events.ready();
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await setDomainMetadata(dom, { namespaceUri: "urn:example:notes", prefix: "notes", xml: "<note/>" }, { live: true });
 * const { value } = await events.next(); // { kind: "metadata-change", type: "element", namespace: ... }
 * console.assert(value?.kind === "metadata-change");
 * ```
 */
export function domainEvents(uri: string, options: DomainEventOptions = {}): DomainEventStream {
  const wanted = options.domain;
  return new DomainEventStream(uri, options, {
    family: "domain",
    noun: "domain",
    filter: wanted === undefined ? undefined : (e) => e.domain?.name === wanted || e.domain?.uuid === wanted,
  });
}

/**
 * Subscribes to network events (virConnectNetworkEventRegisterAny; virConnectNetworkEventDeregisterAny
 * when the last stream on the URI closes): networks defined, undefined,
 * started, stopped.
 *
 * @param uri the hypervisor URI (the event connection is shared with the URI's other streams)
 * @param options kinds (default lifecycle), a network filter (name or UUID), a signal, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 * @throws nothing itself: failures reject `ready()` and the first `next()`
 *
 * @example
 * ```ts
 * import { networkEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = networkEvents("test:///default", { network: "default" });
 * await events.ready();
 * ```
 */
export function networkEvents(uri: string, options: NetworkEventOptions = {}): EventStream<NetworkEvent> {
  const wanted = options.network;
  return new EventStream<NetworkEvent>(uri, options, {
    family: "network",
    noun: "network",
    filter: wanted === undefined
      ? undefined
      : (e) => e.kind !== "gap" && (e.network.name === wanted || e.network.uuid === wanted),
  });
}

/**
 * Subscribes to storage pool events (virConnectStoragePoolEventRegisterAny; virConnectStoragePoolEventDeregisterAny
 * when the last stream on the URI closes): lifecycle (defined,
 * started, stopped, created, deleted, undefined) and refresh.
 *
 * @param uri the hypervisor URI (the event connection is shared with the URI's other streams)
 * @param options kinds (default lifecycle), a pool filter (name or UUID), a signal, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 * @throws nothing itself: failures reject `ready()` and the first `next()`
 *
 * @example
 * ```ts
 * import { storagePoolEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = storagePoolEvents("test:///default", { kinds: ["lifecycle", "refresh"] });
 * await events.ready();
 * ```
 */
export function storagePoolEvents(
  uri: string,
  options: StoragePoolEventOptions = {},
): EventStream<StoragePoolEvent> {
  const wanted = options.pool;
  return new EventStream<StoragePoolEvent>(uri, options, {
    family: "storage-pool",
    noun: "storage pool",
    filter: wanted === undefined
      ? undefined
      : (e) => e.kind !== "gap" && (e.pool.name === wanted || e.pool.uuid === wanted),
  });
}

/**
 * Subscribes to node device events (virConnectNodeDeviceEventRegisterAny; virConnectNodeDeviceEventDeregisterAny
 * when the last stream on the URI closes): host devices created,
 * deleted, defined, undefined (lifecycle) and changed (update).
 *
 * @param uri the hypervisor URI (the event connection is shared with the URI's other streams)
 * @param options kinds (default lifecycle), a device filter (its name), a signal, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 * @throws nothing itself: failures reject `ready()` and the first `next()`
 *
 * @example
 * ```ts
 * import { nodeDeviceEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = nodeDeviceEvents("test:///default", { kinds: ["lifecycle", "update"] });
 * await events.ready();
 * ```
 */
export function nodeDeviceEvents(
  uri: string,
  options: NodeDeviceEventOptions = {},
): EventStream<NodeDeviceEvent> {
  const wanted = options.device;
  return new EventStream<NodeDeviceEvent>(uri, options, {
    family: "node-device",
    noun: "node device",
    filter: wanted === undefined ? undefined : (e) => e.kind !== "gap" && e.device.name === wanted,
  });
}

/**
 * Subscribes to secret events (virConnectSecretEventRegisterAny; virConnectSecretEventDeregisterAny
 * when the last stream on the URI closes): secrets defined, undefined
 * (lifecycle) and their value set (value-changed). The test driver has no secrets: there `ready()`
 * rejects with a NotSupportedError.
 *
 * @param uri the hypervisor URI (the event connection is shared with the URI's other streams)
 * @param options kinds (default lifecycle), a secret filter (UUID or usage id), a signal, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 * @throws nothing itself: failures reject `ready()` and the first `next()`
 *
 * @example
 * ```ts
 * import { secretEvents } from "@deno-libvirt/deno-libvirt/events";
 * await using events = secretEvents("test:///default", { kinds: ["lifecycle", "value-changed"] });
 * await events.ready().catch((e) => console.log(e.name)); // NotSupportedError on the test driver
 * ```
 */
export function secretEvents(uri: string, options: SecretEventOptions = {}): EventStream<SecretEvent> {
  const wanted = options.secret;
  return new EventStream<SecretEvent>(uri, options, {
    family: "secret",
    noun: "secret",
    filter: wanted === undefined
      ? undefined
      : (e) => e.kind !== "gap" && (e.secret.uuid === wanted || e.secret.usageId === wanted),
  });
}
