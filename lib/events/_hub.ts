// The plumbing under every event stream: one dedicated event connection per URI (a hub), the
// registrations libvirt holds on it, the routing of the loop's raw events to the streams that asked for
// them, and the reconnect (with a `gap` event) when that connection breaks. Private: the streams of
// lib/events/event_stream.ts are the public face.
import { Connection, kInternals, type OpenOptions } from "../connection.ts";
import { type EventLoop, eventLoop, type RawEvent } from "../event_loop.ts";
// Registration plumbing (below the objects): the worker gets the connection pointer as a number, and
// an isolate's unload deregisters synchronously (tests/layering_test.ts counts these references).
import { libvirt } from "../ffi/library.ts";
import { type AnyEvent, decodeEvent, enumName } from "./_decode.ts";
import { eventFamilies, type EventFamily, eventIds } from "./_tables.ts";
import type { GapEvent } from "./types.ts";

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

export async function loopOrThrow(what: string): Promise<EventLoop> {
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
export type Subscription = `${EventFamily}/${string}`;

/** What a stream receives: any family's events (each stream keeps its own). */
export interface Receiver {
  offer(event: AnyEvent): void;
  wants(family: EventFamily, kind: string): boolean;
  fail(error: Error): void;
}

/** One dedicated event connection per URI, its registrations, and the streams fed from it. */
export class EventHub {
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

/**
 * The hub of `uri` for these open options (one per URI, read-only flag and user), created on first use;
 * it removes itself when its last stream leaves.
 */
export function hubFor(uri: string, open: OpenOptions, loop: EventLoop): EventHub {
  const key = JSON.stringify([uri, open.readOnly ?? false, open.auth?.username ?? null]);
  let hub = hubs.get(key);
  if (!hub) {
    hub = new EventHub(uri, open, key, loop);
    hubs.set(key, hub);
  }
  return hub;
}
