/**
 * Live domain events: lifecycle, reboot, guest-agent lifecycle, device removal, metadata changes.
 *
 * Events come from libvirt's event loop, which runs in a worker thread (lib/event_loop.ts). Each
 * hypervisor URI gets one dedicated event connection, shared by every stream on it and closed when
 * the last stream closes. When that connection breaks (daemon restarted, network gone), it is
 * reopened with backoff and the subscriptions re-registered; streams then receive a `gap` event:
 * events in between may have been missed, so re-read the state you care about.
 *
 * An open stream keeps the process alive; a closed one (`break` out of `for await`, `close()`, the
 * signal aborting) lets it exit.
 *
 * @example
 * ```ts ignore
 * import { domainEvents } from "./events.ts";
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 10_000);
 * for await (const event of domainEvents("qemu:///system", { signal: controller.signal })) {
 *   console.log(event.domain?.name, event.event, event.detail);
 * }
 * ```
 *
 * @module
 */
import { Connection, kInternals, type OpenOptions } from "./connection.ts";
import type { Domain, DomainStateName } from "./domain.ts";
import { libvirtErrorFrom } from "./errors.ts";
import { type EventLoop, eventLoop, type RawEvent } from "./event_loop.ts";
import { libvirt } from "./ffi/library.ts";

/** The kinds of domain event a stream can ask for. */
export type DomainEventKind =
  | "lifecycle"
  | "reboot"
  | "agent-lifecycle"
  | "device-removed"
  | "metadata-change";

const eventIds: Record<DomainEventKind, number> = {
  "lifecycle": 0,
  "reboot": 1,
  "device-removed": 15,
  "agent-lifecycle": 18,
  "metadata-change": 23,
};

/** virDomainEventType names, and each one's detail names, as libvirt-domain.h orders them. */
const lifecycleNames: [string, string[]][] = [
  ["defined", ["added", "updated", "renamed", "from-snapshot"]],
  ["undefined", ["removed", "renamed"]],
  ["started", ["booted", "migrated", "restored", "from-snapshot", "wakeup"]],
  ["suspended", [
    "paused",
    "migrated",
    "ioerror",
    "watchdog",
    "restored",
    "from-snapshot",
    "api-error",
    "postcopy",
    "postcopy-failed",
  ]],
  ["resumed", ["unpaused", "migrated", "from-snapshot", "postcopy", "postcopy-failed"]],
  ["stopped", ["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from-snapshot"]],
  ["shutdown", ["finished", "guest", "host"]],
  ["pmsuspended", ["memory", "disk"]],
  ["crashed", ["panicked", "crashloaded"]],
];
const agentStates = ["unknown", "connected", "disconnected"];
const agentReasons = ["unknown", "domain-started", "channel"];
const closeReasons = ["error", "eof", "keepalive", "client"];

/** One event. `gap` marks a stretch in which events may have been lost (the connection broke). */
export interface DomainEvent {
  kind: DomainEventKind | "gap";
  /** The hypervisor URI it came from. */
  uri: string;
  /** The domain it is about (absent for `gap`). */
  domain?: { name: string; uuid: string };
  /**
   * lifecycle: "defined", "started", "suspended", "resumed", "stopped", "shutdown", ...;
   * agent-lifecycle: "connected" or "disconnected"; metadata-change: the metadata type number.
   */
  event?: string;
  /** lifecycle: "booted", "destroyed", "paused", ...; agent-lifecycle: "domain-started" or "channel". */
  detail?: string;
  /** device-removed: the device alias. */
  device?: string;
  /** metadata-change: the element's namespace URI. */
  namespace?: string;
  /** gap: why the connection broke ("eof", "keepalive", "error", "client"). */
  reason?: string;
  /** When libvirt delivered it (gap: when the subscription was re-established). */
  at: Date;
  /** gap: when the connection was found broken. */
  lostAt?: Date;
}

/** Options for {@link domainEvents}. */
export interface DomainEventOptions {
  /** Which kinds to deliver. Default: lifecycle only. */
  kinds?: DomainEventKind[];
  /** Only events of this domain (its name or UUID). */
  domain?: string;
  /** Ends the stream (the iteration returns; a pending `next()` resolves done). */
  signal?: AbortSignal;
  /** How to open the event connection (credentials, read-only). */
  open?: OpenOptions;
  /** Events buffered for a slow consumer before the oldest are dropped (with a gap). Default 10,000. */
  bufferSize?: number;
  /**
   * Keep the process alive while the stream is open. Default true; false for background watchers
   * (the address cache) that must not stop a finished script from exiting.
   */
  keepAlive?: boolean;
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

function decode(raw: RawEvent, uri: string): DomainEvent {
  const event: DomainEvent = {
    kind: raw.kind as DomainEventKind,
    uri,
    domain: raw.domain!,
    at: new Date(raw.at),
  };
  if (raw.kind === "lifecycle") {
    const [name, details] = lifecycleNames[raw.event!] ?? [`event-${raw.event}`, []];
    event.event = name;
    event.detail = details[raw.detail!] ?? `detail-${raw.detail}`;
  } else if (raw.kind === "agent-lifecycle") {
    event.event = agentStates[raw.event!] ?? `state-${raw.event}`;
    event.detail = agentReasons[raw.detail!] ?? `reason-${raw.detail}`;
  } else if (raw.kind === "device-removed") {
    event.device = raw.device ?? "";
  } else if (raw.kind === "metadata-change") {
    event.event = String(raw.event);
    if (raw.namespace) event.namespace = raw.namespace;
  }
  return event;
}

/** One dedicated event connection per URI, its registrations, and the streams fed from it. */
class EventHub {
  readonly #uri: string;
  readonly #open: OpenOptions;
  readonly #key: string;
  readonly #loop: EventLoop;
  readonly #streams = new Set<DomainEventStream>();
  readonly #registered = new Map<DomainEventKind, { id: number; callbackId: number }>();
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

  async add(stream: DomainEventStream, kinds: DomainEventKind[]): Promise<void> {
    this.#streams.add(stream);
    // a failed earlier step (a URI that did not open) must not poison this one
    this.#ready = this.#ready.catch(() => {}).then(async () => {
      if (this.#connection === null) await this.#connect();
      for (const kind of kinds) await this.#register(kind);
    });
    await this.#ready;
  }

  async remove(stream: DomainEventStream): Promise<void> {
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

  async #register(kind: DomainEventKind): Promise<void> {
    if (this.#registered.has(kind)) return;
    const id = nextId++;
    routes.set(id, (raw) => {
      const event = decode(raw, this.#uri);
      for (const stream of this.#streams) stream.offer(event);
    });
    const reply = await this.#loop.request({
      type: "subscribe",
      id,
      conn: this.#connection![kInternals].pointerValue(),
      eventId: eventIds[kind],
    });
    if (!reply.ok) {
      routes.delete(id);
      throw libvirtErrorFrom(`subscribe to ${kind} events of ${JSON.stringify(this.#uri)}`, reply.error!);
    }
    this.#registered.set(kind, { id, callbackId: reply.callbackId! });
  }

  async #unregisterAll(): Promise<void> {
    const connection = this.#connection;
    if (connection === null) return;
    const conn = connection.closed ? undefined : connection[kInternals].pointerValue();
    for (const { id, callbackId } of this.#registered.values()) {
      if (conn !== undefined) await this.#loop.request({ type: "unsubscribe", conn, callbackId, id });
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
    for (const { callbackId } of this.#registered.values()) {
      lib.virConnectDomainEventDeregisterAny(conn, callbackId);
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
    const kinds = [...this.#registered.keys()];
    this.#ready = this.#ready.catch(() => {}).then(async () => {
      await this.#unregisterAll().catch(() => {});
      await this.#connection?.close().catch(() => {});
      this.#connection = null;
      let delay = 50;
      while (!this.#stopped) {
        try {
          await this.#connect();
          for (const kind of kinds) await this.#register(kind);
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
      const gap: DomainEvent = {
        kind: "gap",
        uri: this.#uri,
        reason: closeReasons[raw.reason ?? 0] ?? "error",
        lostAt,
        at: new Date(),
      };
      for (const stream of this.#streams) stream.offer(gap);
    });
  }
}

/**
 * An open subscription: an async iterable of {@link DomainEvent}. Close it with `close()`,
 * `await using`, by leaving a `for await` loop, or through the options' signal.
 */
export class DomainEventStream implements AsyncIterableIterator<DomainEvent> {
  readonly #filter: string | undefined;
  readonly #kinds: Set<DomainEventKind>;
  readonly #bufferSize: number;
  readonly #queue: DomainEvent[] = [];
  #waiter: ((result: IteratorResult<DomainEvent>) => void) | undefined;
  #failure: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #hub: EventHub | undefined;
  #loop: EventLoop | undefined;
  readonly #ready: Promise<void>;
  readonly #signal: AbortSignal | undefined;
  #holding = false;
  readonly #onAbort = () => void this.close();

  /** @internal */
  constructor(uri: string, options: DomainEventOptions) {
    this.#filter = options.domain;
    this.#kinds = new Set(options.kinds ?? ["lifecycle"]);
    this.#bufferSize = options.bufferSize ?? 10_000;
    this.#signal = options.signal;
    this.#ready = this.#start(uri, options);
    this.#ready.catch(() => {}); // surfaced through next() and ready()
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  async #start(uri: string, options: DomainEventOptions): Promise<void> {
    try {
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
      await hub.add(this, [...this.#kinds]);
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

  /** Resolves once libvirt has registered the subscription (events from then on are delivered). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** @internal called by the hub */
  offer(event: DomainEvent): void {
    if (this.#closed) return;
    if (event.kind !== "gap") {
      if (!this.#kinds.has(event.kind)) return;
      if (
        this.#filter !== undefined && event.domain?.name !== this.#filter &&
        event.domain?.uuid !== this.#filter
      ) return;
    }
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#bufferSize) {
      this.#queue.splice(0, this.#queue.length - this.#bufferSize + 1);
      if (this.#queue[0]?.kind !== "gap") {
        this.#queue.unshift({ kind: "gap", uri: event.uri, reason: "overflow", at: new Date() });
      }
    }
    this.#queue.push(event);
  }

  /** The next event; `done` once the stream is closed. */
  async next(): Promise<IteratorResult<DomainEvent>> {
    await this.#ready.catch(() => {});
    if (this.#failure !== undefined && this.#queue.length === 0) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
    const queued = this.#queue.shift();
    if (queued) return { value: queued, done: false };
    if (this.#closed) return { value: undefined, done: true };
    return await new Promise((resolve) => this.#waiter = resolve);
  }

  /** Closes the stream (what `break` in `for await` calls). */
  async return(): Promise<IteratorResult<DomainEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<DomainEvent> {
    return this;
  }

  /** Unsubscribes; the last stream of a URI closes its event connection. Idempotent. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#closed = true;
      this.#signal?.removeEventListener("abort", this.#onAbort);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.({ value: undefined, done: true });
      await this.#ready.catch(() => {});
      await this.#shutdown();
    })();
  }

  /** Closes the stream (`await using events = domainEvents(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Subscribes to domain events of a hypervisor.
 *
 * @param uri the hypervisor URI (a dedicated event connection is opened and shared per URI)
 * @param options kinds, a domain filter, a signal that ends the stream, open options
 * @returns an async iterable stream; await `ready()` to know libvirt has registered it
 */
export function domainEvents(uri: string, options: DomainEventOptions = {}): DomainEventStream {
  return new DomainEventStream(uri, options);
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
