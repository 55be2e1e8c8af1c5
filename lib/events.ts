/**
 * Live events of domains, networks, storage pools, node devices and secrets: every event id libvirt
 * 9.0 has, each a typed member of its family's union (lib/events/types.ts).
 *
 * Events come from libvirt's event loop, which runs in a worker thread (lib/event_loop.ts). Each
 * hypervisor URI gets one dedicated event connection, shared by every stream on it (of any family) and
 * closed when the last stream closes. When that connection breaks (daemon restarted, network gone), it
 * is reopened with backoff and the subscriptions re-registered; streams then receive a `gap` event:
 * events in between may have been missed, so re-read the state you care about.
 *
 * An open stream keeps the process alive; a closed one (`break` out of `for await`, `close()`, the
 * signal aborting) lets it exit.
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, setDomainMetadata } from "../mod.ts";
 * import { domainEvents } from "./events.ts";
 * await using events = domainEvents("test:///default", {
 *   kinds: ["lifecycle", "metadata-change"],
 *   signal: AbortSignal.timeout(10_000),
 * });
 * await events.ready();
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await setDomainMetadata(dom, "urn:example:notes", "notes", "<note/>", { live: true });
 * for await (const event of events) {
 *   if (event.kind === "metadata-change") console.log(event.domain.name, event.type, event.namespace);
 *   break;
 * }
 * ```
 *
 * @module
 */
import { Connection, kInternals, type OpenOptions } from "./connection.ts";
import type { Domain, DomainStateName } from "./domain.ts";
import { type EventLoop, eventLoop, type RawEvent } from "./event_loop.ts";
// Registration plumbing (below the objects): the worker gets the connection pointer as a number, and
// an isolate's unload deregisters synchronously (tests/layering_test.ts counts these references).
import { libvirt } from "./ffi/library.ts";
import { type AnyEvent, decodeEvent, enumName } from "./events/_decode.ts";

export type { AnyEvent };
import { eventFamilies, type EventFamily, eventIds } from "./events/_tables.ts";
import type {
  DomainEvent,
  DomainEventKind,
  GapEvent,
  NetworkEvent,
  NetworkEventKind,
  NodeDeviceEvent,
  NodeDeviceEventKind,
  SecretEvent,
  SecretEventKind,
  StoragePoolEvent,
  StoragePoolEventKind,
} from "./events/types.ts";

export type * from "./events/types.ts";

/** Options every event stream takes. `K` is the family's kind names. */
export interface EventStreamOptions<K extends string> {
  /** Which kinds to deliver. Default: lifecycle only. */
  kinds?: K[];
  /** Ends the stream (the iteration returns; a pending `next()` resolves done). */
  signal?: AbortSignal;
  /** How to open the event connection (credentials, read-only), as `Connection.open` takes them. */
  open?: OpenOptions;
  /** Events buffered for a slow consumer before the oldest are dropped (with a gap). Default 10,000. */
  bufferSize?: number;
  /**
   * Keep the process alive while the stream is open. Default true; false for background watchers
   * (the address cache) that must not stop a finished script from exiting.
   */
  keepAlive?: boolean;
}

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

// Subscription ids travel as libvirt's opaque pointer. Start at a random point so that a stale
// registration left by another isolate of this process can never match one of ours.
let nextId = 1 + Math.floor(Math.random() * 2 ** 30);
const routes = new Map<number, (raw: RawEvent) => void>();
const hubs = new Map<string, EventHub>();
let listening = false;

globalThis.addEventListener("unload", () => {
  for (const hub of hubs.values()) hub.teardownSync();
  hubs.clear();
});

async function loopOrThrow(what: string): Promise<EventLoop> {
  const loop = await eventLoop();
  if (loop === null) {
    throw new TypeError(
      `Cannot ${what}: the event loop is disabled (setEventLoopEnabled(false)) or failed to start`,
    );
  }
  if (!listening) {
    loop.listen((raw) => routes.get(raw.id)?.(raw));
    listening = true;
  }
  return loop;
}

/** A registration: one (family, kind) on a hub's connection. */
type Subscription = `${EventFamily}/${string}`;

/** What a stream receives: any family's events (each stream keeps its own). */
interface Receiver {
  offer(event: AnyEvent): void;
  wants(family: EventFamily, kind: string): boolean;
  fail(error: Error): void;
}

/** One dedicated event connection per URI, its registrations, and the streams fed from it. */
class EventHub {
  readonly #uri: string;
  readonly #open: OpenOptions;
  readonly #key: string;
  readonly #loop: EventLoop;
  readonly #streams = new Set<Receiver>();
  readonly #registered = new Map<Subscription, { id: number; callbackId: number }>();
  #connection: Connection | null = null;
  #closeWatch = 0;
  #ready: Promise<void> = Promise.resolve();
  #reconnecting = false;
  #stopped = false;

  constructor(uri: string, open: OpenOptions, key: string, loop: EventLoop) {
    this.#uri = uri;
    this.#open = open;
    this.#key = key;
    this.#loop = loop;
  }

  async add(stream: Receiver, subscriptions: Subscription[]): Promise<void> {
    this.#streams.add(stream);
    // a failed earlier step (a URI that did not open) must not poison this one
    this.#ready = this.#ready.catch(() => {}).then(async () => {
      if (this.#connection === null) await this.#connect();
      for (const subscription of subscriptions) await this.#register(subscription);
    });
    await this.#ready;
  }

  async remove(stream: Receiver): Promise<void> {
    this.#streams.delete(stream);
    if (this.#streams.size > 0) return;
    this.#stopped = true;
    hubs.delete(this.#key);
    this.#ready = this.#ready.catch(() => {}).then(() => this.#teardown());
    await this.#ready;
  }

  async #connect(): Promise<void> {
    const connection = await Connection.open(this.#uri, this.#open);
    this.#connection = connection;
    this.#closeWatch = nextId++;
    routes.set(this.#closeWatch, (raw) => this.#lost(raw));
    // In-process drivers have no close callback; that is fine, they cannot lose their connection.
    await this.#loop.request({
      type: "watch-close",
      conn: connection[kInternals].pointerValue(),
      id: this.#closeWatch,
    });
  }

  async #register(subscription: Subscription): Promise<void> {
    if (this.#registered.has(subscription)) return;
    const [family, kind] = splitSubscription(subscription);
    const entry = (eventIds[family] as Record<string, { id: number; callback: string }>)[kind];
    const id = nextId++;
    const uri = this.#uri;
    routes.set(id, (raw) => {
      let event: AnyEvent;
      try {
        if (raw.args === undefined) throw new Error(raw.failure ?? "the worker sent no arguments");
        event = decodeEvent(family, kind, raw.args, uri, new Date(raw.at));
      } catch (error) {
        // an event that cannot be read (a bug): its streams say so, nothing is dropped silently
        const failure = new Error(`Cannot read a ${family} ${kind} event of ${JSON.stringify(uri)}`, {
          cause: error,
        });
        for (const stream of this.#streams) if (stream.wants(family, kind)) stream.fail(failure);
        return;
      }
      for (const stream of this.#streams) stream.offer(event);
    });
    const { register } = eventFamilies[family];
    try {
      const callbackId = await this.#connection![kInternals].call(
        () => `subscribe to ${family} ${kind} events of ${JSON.stringify(this.#uri)} (${register})`,
        async (handle) => {
          const reply = await this.#loop.request({
            type: "subscribe",
            id,
            conn: BigInt(Deno.UnsafePointer.value(handle)),
            register,
            eventId: entry.id,
            callback: entry.callback,
          });
          if (reply.message !== undefined) throw new Error(`Cannot subscribe: ${reply.message}`);
          return reply;
        },
        (reply) => !reply.ok,
        (reply) => reply.callbackId!,
      );
      this.#registered.set(subscription, { id, callbackId });
    } catch (error) {
      routes.delete(id);
      throw error;
    }
  }

  async #unregisterAll(): Promise<void> {
    const connection = this.#connection;
    if (connection === null) return;
    const conn = connection.closed ? undefined : connection[kInternals].pointerValue();
    for (const [subscription, { id, callbackId }] of this.#registered) {
      const { deregister } = eventFamilies[splitSubscription(subscription)[0]];
      if (conn !== undefined) {
        await this.#loop.request({ type: "unsubscribe", conn, deregister, callbackId, id });
      }
      routes.delete(id);
    }
    this.#registered.clear();
    if (conn !== undefined) await this.#loop.request({ type: "unwatch-close", conn });
    routes.delete(this.#closeWatch);
  }

  /**
   * Unregisters everything at once, on the calling thread, for the isolate's unload: libvirt must
   * not keep calling into callbacks of an isolate that is gone (another isolate of the process may
   * reuse their addresses).
   */
  teardownSync(): void {
    this.#stopped = true;
    const connection = this.#connection;
    if (connection === null || connection.closed) return;
    const conn = Deno.UnsafePointer.create(connection[kInternals].pointerValue());
    const lib = libvirt().symbols;
    for (const [subscription, { callbackId }] of this.#registered) {
      lib[eventFamilies[splitSubscription(subscription)[0]].deregister](conn, callbackId);
    }
    this.#registered.clear();
    // the close callback too: libvirt calls it on our own close, and it lives in the loop's isolate
    lib.virConnectUnregisterCloseCallback(conn, this.#loop.closeCallback);
    try {
      connection.closeSync();
    } catch {
      // a call in flight: the process is ending anyway
    }
  }

  async #teardown(): Promise<void> {
    await this.#unregisterAll();
    await this.#connection?.close().catch(() => {});
    this.#connection = null;
  }

  /** The event connection broke: reopen it with backoff, re-register, then tell every stream. */
  #lost(raw: RawEvent): void {
    if (this.#reconnecting || this.#stopped) return;
    this.#reconnecting = true;
    const lostAt = new Date(raw.at);
    const subscriptions = [...this.#registered.keys()];
    this.#ready = this.#ready.catch(() => {}).then(async () => {
      await this.#unregisterAll().catch(() => {});
      await this.#connection?.close().catch(() => {});
      this.#connection = null;
      let delay = 50;
      while (!this.#stopped) {
        try {
          await this.#connect();
          for (const subscription of subscriptions) await this.#register(subscription);
          break;
        } catch {
          // connected but could not re-register: undo what this attempt registered, close watch included
          await this.#unregisterAll().catch(() => {});
          await (this.#connection as Connection | null)?.close().catch(() => {});
          this.#connection = null;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 2_000);
        }
      }
      this.#reconnecting = false;
      if (this.#stopped) return;
      const gap: GapEvent = {
        kind: "gap",
        uri: this.#uri,
        reason: enumName("virConnectCloseReason", raw.reason ?? 0),
        lostAt,
        at: new Date(),
      };
      for (const stream of this.#streams) stream.offer(gap);
    });
  }
}

function splitSubscription(subscription: Subscription): [EventFamily, string] {
  const slash = subscription.indexOf("/");
  return [subscription.slice(0, slash) as EventFamily, subscription.slice(slash + 1)];
}

/** How a stream picks its events: the family, the kinds, and whether an event is of the filtered object. */
interface StreamSpec<E extends AnyEvent> {
  family: EventFamily;
  /** What the stream's errors call the family ("domain", "network", ...). */
  noun: string;
  filter?: (event: E) => boolean;
}

/**
 * An open subscription: an async iterable of events of one family. Close it with `close()`,
 * `await using`, by leaving a `for await` loop, or through the options' signal.
 *
 * @example
 * ```ts
 * import { type EventStream, networkEvents, type NetworkEvent } from "./events.ts";
 * const stream: EventStream<NetworkEvent> = networkEvents("test:///default");
 * await stream.ready();
 * await stream.close();
 * ```
 */
export class EventStream<E extends AnyEvent> implements AsyncIterableIterator<E> {
  readonly #spec: StreamSpec<E>;
  readonly #kinds: Set<string>;
  readonly #bufferSize: number;
  readonly #queue: E[] = [];
  #waiter: { resolve: (result: IteratorResult<E>) => void; reject: (error: unknown) => void } | undefined;
  #failure: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #hub: EventHub | undefined;
  #loop: EventLoop | undefined;
  readonly #ready: Promise<void>;
  readonly #signal: AbortSignal | undefined;
  #holding = false;
  readonly #onAbort = () => void this.close();

  /** @internal use {@link domainEvents}, {@link networkEvents}, ... */
  constructor(uri: string, options: EventStreamOptions<string>, spec: StreamSpec<E>) {
    this.#spec = spec;
    this.#bufferSize = options.bufferSize ?? 10_000;
    this.#signal = options.signal;
    this.#kinds = new Set(options.kinds ?? ["lifecycle"]);
    this.#ready = this.#start(uri, options);
    this.#ready.catch(() => {}); // surfaced through next() and ready()
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  async #start(uri: string, options: EventStreamOptions<string>): Promise<void> {
    try {
      const known = Object.keys(eventIds[this.#spec.family]);
      const unknown = [...this.#kinds].find((kind) => !known.includes(kind));
      if (unknown !== undefined) {
        throw new TypeError(
          `Cannot subscribe to events of ${JSON.stringify(uri)}: options.kinds has ${
            JSON.stringify(unknown)
          }, which is no ${this.#spec.noun} event kind; use one of ${known.join(", ")}`,
        );
      }
      const loop = await loopOrThrow(`subscribe to events of ${JSON.stringify(uri)}`);
      this.#loop = loop;
      if (options.keepAlive !== false) {
        loop.hold();
        this.#holding = true;
      }
      const open = options.open ?? {};
      const key = JSON.stringify([uri, open.readOnly ?? false, open.auth?.username ?? null]);
      let hub = hubs.get(key);
      if (!hub) {
        hub = new EventHub(uri, open, key, loop);
        hubs.set(key, hub);
      }
      this.#hub = hub;
      await hub.add(this, [...this.#kinds].map((kind) => `${this.#spec.family}/${kind}` as const));
    } catch (error) {
      // every failure, the loop's included, must reach next() too: for await never calls ready()
      this.#failure = error;
      this.#closed = true;
      await this.#shutdown(); // not close(): it awaits this very start
      throw error;
    }
  }

  async #shutdown(): Promise<void> {
    await this.#hub?.remove(this);
    this.#hub = undefined;
    if (this.#holding) this.#loop?.release();
    this.#holding = false;
    this.#loop = undefined;
  }

  /**
   * Resolves once libvirt has registered the subscription (events from then on are delivered).
   *
   * @returns a promise that rejects with the open or registration error (e.g. a NotSupportedError
   *   for a driver without these events)
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** @internal called by the hub with every event of its connection */
  offer(event: AnyEvent): void {
    if (this.#closed) return;
    if (event.kind !== "gap") {
      if (!this.#kinds.has(event.kind) || familyOf(event) !== this.#spec.family) return;
      if (this.#spec.filter && !this.#spec.filter(event as E)) return;
    }
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ value: event as E, done: false });
      return;
    }
    if (this.#queue.length >= this.#bufferSize) {
      this.#queue.splice(0, this.#queue.length - this.#bufferSize + 1);
      if (this.#queue[0]?.kind !== "gap") {
        this.#queue.unshift({ kind: "gap", uri: event.uri, reason: "overflow", at: new Date() } as E);
      }
    }
    this.#queue.push(event as E);
  }

  /** @internal whether this stream asked for the family's kind */
  wants(family: EventFamily, kind: string): boolean {
    return family === this.#spec.family && this.#kinds.has(kind);
  }

  /** @internal the hub could not read an event: the next `next()` throws it */
  fail(error: Error): void {
    if (this.#closed) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.reject(error);
      return;
    }
    this.#failure ??= error;
  }

  /**
   * The next event.
   *
   * @returns the event, or `done` once the stream is closed
   * @throws the open or registration error (once), then reports done
   */
  async next(): Promise<IteratorResult<E>> {
    await this.#ready.catch(() => {});
    if (this.#failure !== undefined && this.#queue.length === 0) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
    const queued = this.#queue.shift();
    if (queued) return { value: queued, done: false };
    if (this.#closed) return { value: undefined, done: true };
    return await new Promise((resolve, reject) => this.#waiter = { resolve, reject });
  }

  /**
   * Closes the stream (what `break` in `for await` calls).
   *
   * @returns done
   */
  async return(): Promise<IteratorResult<E>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** The stream itself: it is its own iterator. */
  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this;
  }

  /**
   * Unsubscribes; the last stream of a URI closes its event connection. Idempotent.
   *
   * @returns once libvirt has deregistered the callbacks
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve({ value: undefined, done: true });
      await this.#ready.catch(() => {});
      await this.#shutdown();
    })();
  }

  /** Closes the stream (`await using events = domainEvents(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function familyOf(event: AnyEvent): EventFamily {
  if ("domain" in event && event.domain !== undefined) return "domain";
  if ("network" in event) return "network";
  if ("pool" in event) return "storage-pool";
  if ("secret" in event) return "secret";
  return "node-device";
}

/**
 * A stream of {@link DomainEvent}s, from {@link domainEvents}.
 *
 * @example
 * ```ts
 * import { domainEvents, DomainEventStream } from "./events.ts";
 * const stream = domainEvents("test:///default");
 * console.assert(stream instanceof DomainEventStream);
 * await stream.close();
 * ```
 */
export class DomainEventStream extends EventStream<DomainEvent> {}

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
 * import { Connection, lookupDomain, setDomainMetadata } from "../mod.ts";
 * import { domainEvents } from "./events.ts";
 * await using events = domainEvents("test:///default", { kinds: ["metadata-change"], domain: "test" });
 * await events.ready();
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * await setDomainMetadata(dom, "urn:example:notes", "notes", "<note/>", { live: true });
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
 * import { networkEvents } from "./events.ts";
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
 * import { storagePoolEvents } from "./events.ts";
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
 * import { nodeDeviceEvents } from "./events.ts";
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
 * import { secretEvents } from "./events.ts";
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

/** Options for {@link waitForState}. */
export interface WaitForStateOptions {
  /** Give up after this many ms with a `DOMException` named TimeoutError. */
  timeoutMs?: number;
  /** Stop waiting; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Waits until a domain reaches one of `states`, driven by lifecycle events (no polling): the state is
 * re-read on every event of the domain and after a gap.
 *
 * @param domain the domain (its connection is used to read the state)
 * @param states the state or states to wait for
 * @returns the state reached
 * @throws a `DOMException` TimeoutError naming the domain, the wanted and the current state; the
 *   signal's reason on abort
 */
export async function waitForState(
  domain: Domain,
  states: DomainStateName | DomainStateName[],
  options: WaitForStateOptions = {},
): Promise<DomainStateName> {
  const wanted = Array.isArray(states) ? states : [states];
  options.signal?.throwIfAborted();
  const stop = new AbortController();
  const stream = domainEvents(domain.connection.uri, {
    kinds: ["lifecycle"],
    domain: domain.uuid,
    signal: stop.signal,
    open: domain.connection[kInternals].openOptions(),
  });
  let current: DomainStateName | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = new Promise<never>((_, reject) => {
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        reject(
          new DOMException(
            `Timed out after ${options.timeoutMs} ms waiting for domain ${
              JSON.stringify(domain.name)
            } to be ` +
              `${wanted.join(" or ")}; it is ${current ?? "in an unknown state"}`,
            "TimeoutError",
          ),
        );
      }, options.timeoutMs);
    }
    options.signal?.addEventListener("abort", () => reject(options.signal!.reason), { once: true });
  });
  outcome.catch(() => {});
  const watch = (async () => {
    await stream.ready(); // subscribed first, then read: no change can fall in between
    current = (await domain.state()).state;
    if (wanted.includes(current)) return current;
    for await (const _event of stream) {
      current = (await domain.state()).state;
      if (wanted.includes(current)) return current;
    }
    throw new Error("unreachable: the event stream ended while waiting");
  })();
  watch.catch(() => {});
  try {
    return await Promise.race([watch, outcome]);
  } finally {
    clearTimeout(timer);
    stop.abort();
    await stream.close();
  }
}
