/**
 * QEMU monitor (QMP) events (virConnectDomainQemuMonitorEventRegister), registered in the event loop's
 * worker and delivered as an async iterable. Separate from lib/events/ because the registration is
 * libvirt-qemu's (loaded lazily) and the subscription lives on the caller's connection, not on a
 * shared event connection.
 *
 * @module
 */
import { kHold } from "../_handle.ts";
import type { Connection } from "../connection.ts";
import { kInternals } from "../_internals.ts";
import type { Domain } from "../domain.ts";
import { type EventLoop, eventLoop, type RawQemuMonitorEvent } from "../event_loop.ts";
import { libvirtQemu } from "../ffi/qemu_library.ts";
import { holding } from "../ffi/marshal.ts";

/** One QEMU monitor (QMP) event, e.g. `STOP`, `RESUME`, `BLOCK_JOB_COMPLETED`. */
export interface QemuMonitorEvent {
  /** The domain it came from. */
  domain: { name: string; uuid: string };
  /** The QMP event name. */
  event: string;
  /** When QEMU emitted it (QEMU's seconds and microseconds). */
  timestamp: Date;
  /** The event's `data` member, parsed (null when it has none). */
  details: unknown;
}

/** Options for {@link qemuMonitorEvents}. */
export interface QemuMonitorEventOptions {
  /** Only this domain's events (default: every domain of the connection). */
  domain?: Domain;
  /** Only this event name (default: all); with `regex`, a POSIX extended regular expression. */
  event?: string;
  /** `VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX`: `event` is a regular expression. */
  regex?: boolean;
  /** `VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE`: match `event` case-insensitively. */
  nocase?: boolean;
  /** Events kept while nobody reads; older ones are dropped beyond it. Default 1,000. */
  bufferSize?: number;
  /** Ends the subscription (the iteration then ends). */
  signal?: AbortSignal;
}

const monitorSubscribers = new Map<number, QemuMonitorEventStream>();
const routedLoops = new WeakSet<EventLoop>();
let nextMonitorId = 1 + Math.floor(Math.random() * 2 ** 30);

/**
 * A subscription to QEMU monitor events, as an async iterable. Close it (or `await using`) to
 * deregister; it also ends when its signal aborts.
 *
 * @example
 * ```ts
 * import { type Domain, qemuMonitorEvents, type QemuMonitorEventStream } from "@deno-libvirt/deno-libvirt";
 * // every block job that completes, until the signal aborts
 * async function watchBlockJobs(dom: Domain, signal: AbortSignal): Promise<number> {
 *   const events: QemuMonitorEventStream = await qemuMonitorEvents(dom.connection, {
 *     domain: dom,
 *     event: "BLOCK_JOB_COMPLETED",
 *     signal,
 *   });
 *   let completed = 0;
 *   for await (const event of events) {
 *     console.log(event.event, event.details);
 *     completed++;
 *   }
 *   return completed + events.dropped; // dropped: events the buffer could not keep
 * }
 * console.log(typeof watchBlockJobs); // "function"
 * ```
 */
export class QemuMonitorEventStream implements AsyncIterableIterator<QemuMonitorEvent> {
  readonly #connection: Connection;
  readonly #loop: EventLoop;
  readonly #id: number;
  readonly #bufferSize: number;
  readonly #queue: QemuMonitorEvent[] = [];
  #waiter: ((result: IteratorResult<QemuMonitorEvent>) => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Events dropped because the buffer was full. */
  dropped = 0;

  /** @internal */
  constructor(connection: Connection, loop: EventLoop, id: number, bufferSize: number) {
    this.#connection = connection;
    this.#loop = loop;
    this.#id = id;
    this.#bufferSize = bufferSize;
  }

  /** @internal */
  push(raw: RawQemuMonitorEvent): void {
    if (this.#closed) return;
    let details: unknown = null;
    try {
      details = raw.details === null ? null : JSON.parse(raw.details);
    } catch {
      details = raw.details;
    }
    const event: QemuMonitorEvent = {
      domain: raw.domain,
      event: raw.event,
      timestamp: new Date(raw.seconds * 1000 + Math.floor(raw.micros / 1000)),
      details,
    };
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#bufferSize) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(event);
  }

  /** The next event; waits (keeping the process alive) until one arrives or the stream closes. */
  async next(): Promise<IteratorResult<QemuMonitorEvent>> {
    const queued = this.#queue.shift();
    if (queued) return { value: queued, done: false };
    if (this.#closed) return { value: undefined, done: true };
    this.#loop.hold();
    try {
      return await new Promise((resolve) => this.#waiter = resolve);
    } finally {
      this.#loop.release();
    }
  }

  /** Ends the iteration and deregisters (virConnectDomainQemuMonitorEventDeregister). */
  async return(): Promise<IteratorResult<QemuMonitorEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Returns the stream itself, so `for await (const event of stream)` works. */
  [Symbol.asyncIterator](): QemuMonitorEventStream {
    return this;
  }

  /**
   * Deregisters the subscription (virConnectDomainQemuMonitorEventDeregister). Idempotent.
   *
   * @throws {LibvirtError} when libvirt refuses the deregistration
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#closed = true;
      monitorSubscribers.delete(this.#id);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.({ value: undefined, done: true });
      if (this.#connection.closed) return; // the registration went with the connection
      await this.#connection[kInternals].call(
        () => `stop QEMU monitor events on ${JSON.stringify(this.#connection.uri)}`,
        (conn) =>
          this.#loop.request({
            type: "qemu-monitor-unsubscribe",
            conn: String(Deno.UnsafePointer.value(conn)),
            id: this.#id,
          }),
        (reply) => !reply.ok, // the error is in the connection's slot: the gate reads it
      );
    })();
  }

  /** Deregisters (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Subscribes to QEMU monitor (QMP) events on a connection (virConnectDomainQemuMonitorEventRegister),
 * dispatched by the event loop's worker. The subscription lives on `connection`: it ends when that
 * connection closes.
 *
 * @param connection a qemu:// connection
 * @param options domain, event name (or regex), bufferSize, signal
 * @returns the subscription, an async iterable of {@link QemuMonitorEvent}
 * @throws {TypeError} when the event loop is disabled
 * @throws {LibvirtError} e.g. {@link NotSupportedError} on drivers without QEMU monitor events
 * @example
 * ```ts
 * import { type Domain, qemuMonitorEvents } from "@deno-libvirt/deno-libvirt";
 * // resolves when QEMU reports the guest stopped (paused), with QEMU's own timestamp
 * async function nextStop(dom: Domain): Promise<Date | undefined> {
 *   await using events = await qemuMonitorEvents(dom.connection, { domain: dom, event: "STOP" });
 *   for await (const event of events) return event.timestamp;
 *   return undefined; // the stream was closed first
 * }
 * console.log(typeof nextStop); // "function"
 * ```
 */
export async function qemuMonitorEvents(
  connection: Connection,
  options: QemuMonitorEventOptions = {},
): Promise<QemuMonitorEventStream> {
  const loop = await eventLoop();
  if (loop === null) {
    throw new TypeError(
      "Cannot subscribe to QEMU monitor events: the event loop is disabled (setEventLoopEnabled(false))",
    );
  }
  if (!routedLoops.has(loop)) {
    routedLoops.add(loop);
    loop.listenQemuMonitor((raw) => monitorSubscribers.get(raw.id)?.push(raw));
  }
  const bufferSize = options.bufferSize ?? 1_000;
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) {
    throw new RangeError(`Invalid bufferSize ${bufferSize}: pass a positive integer`);
  }
  const qemuPath = libvirtQemu().path;
  const id = nextMonitorId++;
  const stream = new QemuMonitorEventStream(connection, loop, id, bufferSize);
  monitorSubscribers.set(id, stream);
  const flags = (options.regex ? 1 : 0) | (options.nocase ? 2 : 0);
  const operation = `subscribe to QEMU monitor events${
    options.event ? ` ${JSON.stringify(options.event)}` : ""
  } on ${JSON.stringify(connection.uri)}`;
  const subscribed = connection[kInternals].call(
    () => operation,
    // the domain filter is held until the worker's register call returned (a free() meanwhile waits)
    (conn) =>
      holding(
        "virConnectDomainQemuMonitorEventRegister",
        [[options.domain, "options.domain", kHold, true]],
        ([domain]) =>
          loop.request({
            type: "qemu-monitor-subscribe",
            qemuPath,
            conn: String(Deno.UnsafePointer.value(conn)),
            domain: domain === null ? undefined : String(Deno.UnsafePointer.value(domain)),
            event: options.event,
            flags,
            id,
          }),
      ),
    (reply) => !reply.ok, // the error is in the connection's slot: the gate reads it
  );
  try {
    await subscribed;
  } catch (error) {
    monitorSubscribers.delete(id);
    throw error;
  }
  options.signal?.addEventListener("abort", () => void stream.close().catch(() => {}), { once: true });
  return stream;
}
