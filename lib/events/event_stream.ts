/**
 * The stream every event subscription returns: an async iterable of one family's events with a bounded
 * buffer (overflow becomes a `gap` event), closed by `close()`, `await using`, `break` or a signal.
 * The subscribe functions of lib/events/subscribe.ts create them; lib/events/_hub.ts feeds them.
 *
 * @module
 */
import type { OpenOptions } from "../connection.ts";
import type { EventLoop } from "../event_loop.ts";
import type { AnyEvent } from "./_decode.ts";
import { type EventHub, hubFor, loopOrThrow } from "./_hub.ts";
import { type EventFamily, eventIds } from "./_tables.ts";
import type { DomainEvent } from "./types.ts";

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
 * import { type EventStream, networkEvents, type NetworkEvent } from "@deno-libvirt/deno-libvirt/events";
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
      const hub = hubFor(uri, options.open ?? {}, loop);
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
 * import { domainEvents, DomainEventStream } from "@deno-libvirt/deno-libvirt/events";
 * const stream = domainEvents("test:///default");
 * console.assert(stream instanceof DomainEventStream);
 * await stream.close();
 * ```
 */
export class DomainEventStream extends EventStream<DomainEvent> {}
