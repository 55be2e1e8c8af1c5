/**
 * libvirt data streams (`virStreamPtr`) as web streams: a guest's console or channel, a storage
 * volume's upload or download, a screenshot.
 *
 * A {@link Stream} never holds its connection for its whole life. Each `virStreamSend`/`virStreamRecv`
 * is one short call through the connection's one-call-at-a-time gate (so a failure is read from the
 * connection's own error slot, exactly). A nonblocking stream (the default while the event loop runs)
 * answers "would block" (-2) instead of waiting; the stream then waits, without holding the gate, for
 * the readiness notice the event loop's worker posts from its `virStreamEventCallback`. A console
 * session can so stay open for hours while other calls go on over the same connection.
 *
 * @example
 * ```ts ignore
 * import { Connection, lookupDomain } from "../mod.ts";
 * await using conn = await Connection.open("qemu:///system");
 * using dom = await lookupDomain(conn, "web1");
 * await using console = await dom.openConsole();
 * for await (const chunk of console.readable) Deno.stdout.writeSync(chunk);
 * ```
 *
 * @module
 */
import type { ObjectHandle } from "./_handle.ts";
import { kCall, kPointer } from "./_handle.ts";
import { type Connection, type ConnectionChild, type ConnectionInternals, kInternals } from "./connection.ts";
import { LibvirtError } from "./errors.ts";
import { ErrorCode, ErrorDomain } from "./error_codes.ts";
import { type EventLoop, eventLoop, eventLoopEnabled, type StreamNotice } from "./event_loop.ts";
import { cString, isNegative, isNull, OutSlot, takeCString } from "./ffi/c.ts";
import { libvirt } from "./ffi/library.ts";
import { fileSegments } from "./ffi/sparse.ts";
import {
  DomainChannelFlag,
  DomainConsoleFlag,
  StorageVolDownloadFlag,
  StorageVolUploadFlag,
  StreamEventType,
  StreamFlag,
  StreamRecvFlag,
} from "./ffi/constants.ts";

export { StreamEventType };

/** libvirt's return conventions for stream calls (beyond a byte count). */
export const StreamStatus = {
  /** virStreamRecv: end of stream. */
  EOF: 0,
  /** virStreamSend/Recv on a nonblocking stream: nothing can move now; wait for readiness. */
  WOULD_BLOCK: -2,
  /** virStreamRecvFlags with `stopAtHole`: the stream is at a hole; read its length with recvHole. */
  HOLE: -3,
} as const;

/** The largest payload libvirt moves in one stream packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
export const STREAM_CHUNK_BYTES = 262_120;

/** Options for {@link newStream}. */
export interface NewStreamOptions {
  /**
   * `VIR_STREAM_NONBLOCK`: send/recv answer {@link StreamStatus.WOULD_BLOCK} instead of waiting, and
   * the web streams wait for the event loop's readiness notices. Default: true while the event loop
   * runs. A blocking stream (false) makes each recv wait on a thread of Deno's pool while holding the
   * connection's gate: right for bulk transfers, wrong for a console that is silent for minutes.
   */
  nonblocking?: boolean;
  /** Names what the stream carries in error messages: `console of domain "web1"`. Default "stream". */
  label?: string;
}

/** Options for {@link Stream.recvFlags}. */
export interface RecvFlagsOptions {
  /** `VIR_STREAM_RECV_STOP_AT_HOLE`: return {@link StreamStatus.HOLE} at a hole instead of zeros. */
  stopAtHole?: boolean;
}

interface Waiter {
  events: number;
  resolve: (events: number) => void;
}

// Stream readiness notices from the event loop's worker, routed by watch id.
const watchers = new Map<number, (events: number) => void>();
// random start, as lib/events.ts does: a stale registration of a gone isolate never matches an id of ours
let nextWatchId = 1 + Math.floor(Math.random() * 2 ** 30);
const routed = new WeakSet<EventLoop>();
function route(loop: EventLoop): void {
  if (routed.has(loop)) return;
  routed.add(loop);
  loop.listenStreams((notice: StreamNotice) => watchers.get(notice.id)?.(notice.events));
}

const isFailure = (result: number): boolean => result === -1;
const constructing = Symbol("deno_libvirt.stream.constructing");

/**
 * A libvirt data stream of one connection, readable and writable as web streams. Get one from
 * {@link newStream}, `dom.openConsole()`, `dom.openChannel()`, or make one for `vol.upload()`,
 * `vol.download()` and `dom.screenshot()`. Free it with `await using` (aborts an unfinished transfer).
 *
 * The one-call methods ({@link send}, {@link recv}, {@link finish}, ...) are libvirt's, with libvirt's
 * return conventions; {@link readable} and {@link writable} are built on them, with backpressure: no
 * recv while the readable's queue is full, a write resolves once libvirt took the data.
 */
export class Stream implements ConnectionChild {
  readonly #connection: Connection;
  readonly #internals: ConnectionInternals;
  #handle: Deno.PointerObject | null;
  readonly #nonblocking: boolean;
  #label: string;
  /** "open" while data may move; "finished"/"aborted" once virStreamFinish/Abort succeeded. */
  #state: "open" | "finished" | "aborted" = "open";
  #watch: { id: number; loop: EventLoop } | undefined;
  #listener: ((events: number) => void) | undefined;
  #waiters: Waiter[] = [];
  #watching: Promise<void> | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readDone = false;

  /** @internal */
  constructor(
    token: symbol,
    connection: Connection,
    handle: Deno.PointerObject,
    nonblocking: boolean,
    label: string,
  ) {
    if (token !== constructing) throw new TypeError("Cannot construct a Stream directly: use newStream()");
    this.#connection = connection;
    this.#internals = connection[kInternals];
    this.#handle = handle;
    this.#nonblocking = nonblocking;
    this.#label = label;
    this.#internals.adopt(this);
  }

  /** The connection this stream belongs to. */
  get connection(): Connection {
    return this.#connection;
  }

  /** True for a `VIR_STREAM_NONBLOCK` stream. */
  get nonblocking(): boolean {
    return this.#nonblocking;
  }

  /** True once freed. */
  get freed(): boolean {
    return this.#handle === null;
  }

  /** "open", or "finished"/"aborted" once {@link finish}/{@link abort} succeeded. */
  get state(): "open" | "finished" | "aborted" {
    return this.#state;
  }

  /** What the stream carries, as error messages name it. */
  get label(): string {
    return this.#label;
  }

  /** @internal set by the calls that attach the stream (openConsole, upload, ...) */
  set label(value: string) {
    this.#label = value;
  }

  /** @internal the pointer, or a TypeError naming the freed stream */
  [kPointer](verb: string): Deno.PointerObject {
    if (this.#handle === null) throw new TypeError(`Cannot ${verb} freed Stream (${this.#label})`);
    return this.#handle;
  }

  /** One call on the stream through the connection's gate, holding a stream reference meanwhile. */
  async #call<T>(
    verb: string,
    run: (stream: Deno.PointerObject) => Promise<T> | T,
    failed: (r: T) => boolean,
  ): Promise<T> {
    this[kPointer](verb); // fail fast (as a rejection), before queueing for the connection
    return await this.#internals.call(
      () => `${verb} ${this.#label}`,
      async () => {
        const stream = this[kPointer](verb);
        const lib = libvirt().symbols;
        lib.virStreamRef(stream);
        try {
          return await run(stream);
        } finally {
          lib.virStreamFree(stream);
        }
      },
      failed,
    );
  }

  /**
   * Sends up to `data.length` bytes (virStreamSend).
   *
   * @param data the bytes; libvirt may take fewer (see the result)
   * @returns the number of bytes sent, or {@link StreamStatus.WOULD_BLOCK} on a nonblocking stream
   * @throws {LibvirtError} when libvirt fails (the stream is then unusable: abort it)
   */
  send(data: Uint8Array): Promise<number> {
    return this.#call(
      "send to",
      (st) => libvirt().symbols.virStreamSendAsync(st, data as Uint8Array<ArrayBuffer>, BigInt(data.length)),
      isFailure,
    );
  }

  /**
   * Receives up to `buffer.length` bytes into `buffer` (virStreamRecv).
   *
   * @param buffer where the bytes go
   * @returns the number of bytes read, {@link StreamStatus.EOF} (0) at the end, or
   *   {@link StreamStatus.WOULD_BLOCK} on a nonblocking stream with nothing to read now
   * @throws {LibvirtError} when libvirt fails
   */
  recv(buffer: Uint8Array): Promise<number> {
    return this.#call(
      "receive from",
      (st) =>
        libvirt().symbols.virStreamRecvAsync(st, buffer as Uint8Array<ArrayBuffer>, BigInt(buffer.length)),
      isFailure,
    );
  }

  /**
   * {@link recv} with flags (virStreamRecvFlags): on a sparse stream, stop at holes.
   *
   * @param buffer where the bytes go
   * @param options `stopAtHole`
   * @returns bytes read, 0 at the end, {@link StreamStatus.WOULD_BLOCK}, or {@link StreamStatus.HOLE}
   * @throws {LibvirtError} when libvirt fails
   */
  recvFlags(buffer: Uint8Array, options: RecvFlagsOptions = {}): Promise<number> {
    const flags = options.stopAtHole ? StreamRecvFlag.STOP_AT_HOLE : 0;
    return this.#call(
      "receive from",
      (st) =>
        libvirt().symbols.virStreamRecvFlagsAsync(
          st,
          buffer as Uint8Array<ArrayBuffer>,
          BigInt(buffer.length),
          flags,
        ),
      isFailure,
    );
  }

  /**
   * Sends a hole of `length` bytes on a sparse stream (virStreamSendHole).
   *
   * @param length the hole's size in bytes
   * @throws {RangeError} for a negative or non-integer length
   * @throws {LibvirtError} when the stream is not sparse or libvirt fails
   */
  async sendHole(length: number): Promise<void> {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Cannot send a hole of ${length} bytes: pass a non-negative integer length`);
    }
    await this.#call(
      "send a hole to",
      (st) => libvirt().symbols.virStreamSendHoleAsync(st, BigInt(length), 0),
      isNegative,
    );
  }

  /**
   * The length of the hole the stream is at (virStreamRecvHole), after {@link recvFlags} returned
   * {@link StreamStatus.HOLE}.
   *
   * @returns the hole's size in bytes
   * @throws {LibvirtError} when the stream is not at a hole or libvirt fails
   */
  async recvHole(): Promise<number> {
    const slot = new OutSlot();
    await this.#call(
      "receive a hole from",
      (st) => libvirt().symbols.virStreamRecvHoleAsync(st, slot.buffer, 0),
      isNegative,
    );
    return slot.number;
  }

  /**
   * Ends the transfer and waits for the other end to confirm it (virStreamFinish). For an upload this
   * is where a write failure on the host surfaces.
   *
   * @throws {LibvirtError} when the transfer failed
   */
  async finish(): Promise<void> {
    await this.#call("finish", (st) => libvirt().symbols.virStreamFinishAsync(st), isNegative);
    this.#state = "finished";
    this.#wakeAll();
  }

  /**
   * Cancels the transfer (virStreamAbort). The other end discards what it got.
   *
   * @throws {LibvirtError} when libvirt fails (e.g. the stream was already finished)
   */
  async abort(): Promise<void> {
    await this.#call("abort", (st) => libvirt().symbols.virStreamAbortAsync(st), isNegative);
    this.#state = "aborted";
    this.#wakeAll();
  }

  /**
   * Watches the stream for readiness (virStreamEventAddCallback), registered in the event loop's
   * worker. Notices are one-shot: after each, the stream is disarmed until {@link eventUpdateCallback}.
   * The web streams use this themselves: call it only when driving {@link send}/{@link recv} by hand.
   *
   * @param events a mask of {@link StreamEventType}
   * @param listener called with the events that fired
   * @throws {TypeError} when the event loop is disabled or the stream is already watched
   * @throws {LibvirtError} when the stream cannot be watched (e.g. the driver has no stream events)
   */
  async eventAddCallback(events: number, listener: (events: number) => void): Promise<void> {
    if (this.#watch) throw new TypeError(`Cannot watch ${this.#label}: it already has an event callback`);
    const loop = await eventLoop();
    if (loop === null) {
      throw new TypeError(
        `Cannot watch ${this.#label}: the event loop is disabled (setEventLoopEnabled(false)); use a blocking stream`,
      );
    }
    route(loop);
    const id = nextWatchId++;
    watchers.set(id, (fired) => this.#listener?.(fired));
    this.#listener = listener;
    try {
      // a failure leaves its error in the connection's slot: the gate reads it (exact attribution)
      await this.#call(
        "watch",
        (st) =>
          loop.request({
            type: "stream-watch",
            conn: this.#internals.pointerValue().toString(),
            stream: String(Deno.UnsafePointer.value(st)),
            id,
            events,
          }),
        (reply) => !reply.ok,
      );
    } catch (error) {
      watchers.delete(id);
      this.#listener = undefined;
      throw error;
    }
    this.#watch = { id, loop };
  }

  /**
   * Re-arms the watch for `events` (virStreamEventUpdateCallback); 0 disarms it.
   *
   * @param events a mask of {@link StreamEventType}
   * @throws {LibvirtError} when the stream has no event callback
   */
  async eventUpdateCallback(events: number): Promise<void> {
    await this.#call(
      "update the event callback of",
      (st) => libvirt().symbols.virStreamEventUpdateCallback(st, events),
      isNegative,
    );
  }

  /**
   * Stops watching the stream (virStreamEventRemoveCallback, in the event loop's worker).
   *
   * @throws {LibvirtError} when libvirt fails
   */
  async eventRemoveCallback(): Promise<void> {
    const watch = this.#watch;
    if (!watch) return;
    this.#watch = undefined;
    watchers.delete(watch.id);
    this.#listener = undefined;
    await this.#call(
      "stop watching",
      () =>
        watch.loop.request({
          type: "stream-unwatch",
          conn: this.#internals.pointerValue().toString(),
          id: watch.id,
        }),
      (reply) => !reply.ok,
    );
  }

  /** Waits (without holding the connection) until the stream is ready for `events`. */
  async #ready(events: number): Promise<void> {
    if (this.#state !== "open" || this.#handle === null) return;
    const waiter: Waiter = {
      events: events | StreamEventType.ERROR | StreamEventType.HANGUP,
      resolve: () => {},
    };
    const fired = new Promise<number>((resolve) => waiter.resolve = resolve);
    this.#waiters.push(waiter);
    try {
      if (!this.#watch) {
        // one registration, however many waiters arrive meanwhile (a console's reader and writer)
        this.#watching ??= this.eventAddCallback(waiter.events, (fired) => this.#notified(fired)).finally(
          () => {
            this.#watching = undefined;
          },
        );
        await this.#watching;
      }
      await this.#arm(); // armed at registration for the first waiter; every later waiter re-arms
    } catch (error) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      throw error;
    }
    // finished, aborted or freed meanwhile (the waiter was woken then): nothing to wait for
    const watch = this.#watch;
    if (watch === undefined || this.#state !== "open" || this.#handle === null) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      return;
    }
    const loop = watch.loop;
    loop.hold(); // someone waits for data: keep the process alive until it arrives
    try {
      await fired;
    } finally {
      loop.release();
    }
  }

  /** Arms the watch for what the waiters want (the worker disarmed it when it posted the last notice). */
  async #arm(): Promise<void> {
    const mask = this.#waiters.reduce((m, w) => m | w.events, 0);
    if (mask === 0 || this.#handle === null || this.#state !== "open") return;
    await this.eventUpdateCallback(mask);
  }

  #notified(fired: number): void {
    const trouble = fired & (StreamEventType.ERROR | StreamEventType.HANGUP);
    const ready = this.#waiters.filter((w) => trouble || (w.events & fired));
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(fired);
    if (this.#waiters.length > 0) this.#arm().catch(() => this.#wakeAll());
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(0);
  }

  /**
   * Reads the next chunk: recv until data, end (then finish) or, on a nonblocking stream, readiness.
   * Null at the end of the stream.
   */
  async #readChunk(buffer: Uint8Array): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#state !== "open" || this.#handle === null) return null;
      const n = await this.recv(buffer);
      if (n > 0) return n < buffer.length / 4 ? buffer.slice(0, n) : buffer.subarray(0, n);
      if (n === StreamStatus.EOF) {
        this.#readDone = true;
        if (this.#state === "open") await this.finish();
        return null;
      }
      await this.#ready(StreamEventType.READABLE);
    }
  }

  /**
   * Waits, without holding the connection, until a nonblocking stream is ready for `events` (or
   * failed, hung up, or was finished, aborted or freed meanwhile). Registers the stream's event
   * callback on first use. For driving {@link send}/{@link recv} by hand after a WOULD_BLOCK.
   *
   * @param events a mask of {@link StreamEventType}, e.g. `StreamEventType.READABLE`
   * @throws {TypeError} when the event loop is disabled
   * @throws {LibvirtError} when the stream cannot be watched
   */
  async waitReady(events: number): Promise<void> {
    await this.#ready(events);
  }

  /**
   * Sends all of `data`: {@link send} in chunks of at most {@link STREAM_CHUNK_BYTES}, waiting for
   * readiness whenever a nonblocking stream would block. This loop replaces virStreamSendAll, whose
   * callback libvirt would call on its own thread.
   *
   * @param data the bytes
   * @throws {TypeError} when the stream is no longer open
   * @throws {LibvirtError} when libvirt fails
   */
  async sendAll(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.#state !== "open" || this.#handle === null) {
        throw new TypeError(
          `Cannot write to ${this.#label}: the stream is ${this.freed ? "freed" : this.#state}`,
        );
      }
      const n = await this.send(data.subarray(offset, offset + STREAM_CHUNK_BYTES));
      if (n === StreamStatus.WOULD_BLOCK) await this.#ready(StreamEventType.WRITABLE);
      else offset += n;
    }
  }

  /**
   * The stream's incoming data, as a web stream. It ends when libvirt reports the end of the stream
   * (the stream is then finished); cancelling it aborts the stream. At most four chunks are read
   * ahead of the consumer.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let chunk: Uint8Array | null;
        try {
          chunk = await this.#readChunk(new Uint8Array(STREAM_CHUNK_BYTES));
        } catch (error) {
          await this.#abortQuietly();
          throw error;
        }
        if (chunk === null) {
          this.#readDone = true;
          controller.close();
        } else controller.enqueue(chunk);
      },
      cancel: async () => {
        this.#readDone = true;
        await this.#abortQuietly();
      },
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
  }

  /**
   * The stream's outgoing data, as a web stream: a write resolves once libvirt took every byte.
   * Closing it finishes the stream (virStreamFinish) unless its {@link readable} is still being read
   * (a console: the read side stays open); aborting it aborts the stream.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: async (chunk) => {
        try {
          await this.sendAll(chunk);
        } catch (error) {
          await this.#abortQuietly();
          throw error;
        }
      },
      close: async () => {
        if (this.#state === "open" && (this.#readable === undefined || this.#readDone)) await this.finish();
      },
      abort: async () => {
        await this.#abortQuietly();
      },
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
  }

  async #abortQuietly(): Promise<void> {
    if (this.#state !== "open" || this.#handle === null) return;
    try {
      await this.abort();
    } catch {
      // the stream already failed or ended: nothing to cancel
      this.#state = "aborted";
      this.#wakeAll();
    }
  }

  /**
   * Frees the stream; an unfinished transfer is aborted first. Idempotent. Synchronous, so that a
   * closing connection can free its streams: prefer `await using`, which aborts through the gate.
   */
  free(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#internals.release(this);
    const active = this.#state === "open";
    this.#state = active ? "aborted" : this.#state;
    this.#wakeAll();
    const watch = this.#watch;
    this.#watch = undefined;
    if (watch) {
      // the worker may be inside this stream's callback: it removes the callback, aborts and frees
      watchers.delete(watch.id);
      watch.loop.request({ type: "stream-release", id: watch.id, abort: active }).catch(() => {});
      return;
    }
    const lib = libvirt().symbols;
    if (active) lib.virStreamAbort(handle);
    lib.virStreamFree(handle);
  }

  /** Aborts an unfinished transfer, stops watching and frees the stream (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#handle === null) return;
    await this.#abortQuietly();
    try {
      await this.eventRemoveCallback();
    } catch {
      // freed below anyway
    }
    this.free();
  }

  /** Frees the stream (`using`), aborting an unfinished transfer. */
  [Symbol.dispose](): void {
    this.free();
  }

  /** How `console.log` and `Deno.inspect` show the stream: its label and state. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Stream { ${JSON.stringify(this.#label)}, ${this.freed ? "freed" : this.#state}${
      this.#nonblocking ? ", nonblocking" : ""
    } }`;
  }
}

/**
 * Creates a stream on a connection (virStreamNew), to hand to `vol.upload()`, `vol.download()` or
 * `dom.screenshot()`. Local: no round trip.
 *
 * @param connection the connection the transfer runs on
 * @param options nonblocking (default while the event loop runs), label
 * @returns the stream; free it with `await using`
 * @throws {TypeError} when `nonblocking` is asked for with the event loop disabled
 * @throws {LibvirtError} when libvirt cannot create it
 * @example
 * ```ts
 * import { Connection, newStream } from "../mod.ts";
 * await using conn = await Connection.open("test:///default");
 * await using stream = newStream(conn);
 * console.log(stream.state); // "open"
 * ```
 */
export function newStream(connection: Connection, options: NewStreamOptions = {}): Stream {
  const nonblocking = options.nonblocking ?? eventLoopEnabled();
  if (nonblocking && !eventLoopEnabled()) {
    throw new TypeError(
      "Cannot create a nonblocking stream: the event loop is disabled (setEventLoopEnabled(false)); pass nonblocking: false",
    );
  }
  const label = options.label ?? "stream";
  // virStreamNew is local (no I/O) and must work while another stream's call is in flight on the
  // connection (a console's pending read), so it does not queue for the gate; it fails only when out
  // of memory, and then libvirt's error is not read (another call may own the slot at that moment).
  const internals = connection[kInternals];
  const conn = Deno.UnsafePointer.create(internals.pointerValue()); // TypeError once closed
  const pointer = libvirt().symbols.virStreamNew(conn, nonblocking ? StreamFlag.NONBLOCK : 0);
  if (pointer === null) {
    throw new LibvirtError(`create a stream on ${JSON.stringify(connection.uri)}`, {
      code: ErrorCode.INTERNAL_ERROR,
      domain: ErrorDomain.STREAMS,
      level: 2,
      message: "virStreamNew returned NULL",
    });
  }
  return new Stream(constructing, connection, pointer, nonblocking, label);
}

// ---------------------------------------------------------------------------------------------------
// The calls that attach a stream to an object: Domain and StorageVolume methods delegate here.

/** Options for `dom.openConsole()`. */
export interface OpenConsoleOptions extends NewStreamOptions {
  /** `VIR_DOMAIN_CONSOLE_FORCE`: take the console over from another session instead of failing. */
  force?: boolean;
  /** `VIR_DOMAIN_CONSOLE_SAFE`: fail unless the driver can guarantee exclusive access. */
  safe?: boolean;
}

/** Options for `dom.openChannel()`. */
export interface OpenChannelOptions extends NewStreamOptions {
  /** `VIR_DOMAIN_CHANNEL_FORCE`: take the channel over from another session instead of failing. */
  force?: boolean;
}

/** Options for `vol.upload()` and `vol.download()`. */
export interface VolumeStreamOptions {
  /** `VIR_STORAGE_VOL_{UPLOAD,DOWNLOAD}_SPARSE_STREAM`: holes travel as holes (sendHole/recvHole). */
  sparse?: boolean;
}

function labelled(stream: Stream, label: string): Stream {
  stream.label = label;
  return stream;
}

/** @internal virDomainOpenConsole on a new stream; dom.openConsole() delegates here. */
export async function domainOpenConsole(
  dom: ObjectHandle,
  devName: string | undefined,
  options: OpenConsoleOptions = {},
): Promise<Stream> {
  const stream = newStream(dom.connection, {
    ...options,
    label: options.label ??
      `console${devName ? ` ${JSON.stringify(devName)}` : ""} of domain ${JSON.stringify(dom.name)}`,
  });
  const flags = (options.force ? DomainConsoleFlag.FORCE : 0) | (options.safe ? DomainConsoleFlag.SAFE : 0);
  const name = devName === undefined ? null : cString(devName, "devName");
  try {
    await dom[kCall](
      `open the console${devName ? ` ${JSON.stringify(devName)}` : ""} of`,
      (h) => libvirt().symbols.virDomainOpenConsoleAsync(h, name, stream[kPointer]("attach"), flags),
      isNegative,
    );
  } catch (error) {
    stream.free();
    throw error;
  }
  return stream;
}

/** @internal virDomainOpenChannel on a new stream; dom.openChannel() delegates here. */
export async function domainOpenChannel(
  dom: ObjectHandle,
  name: string,
  options: OpenChannelOptions = {},
): Promise<Stream> {
  const stream = newStream(dom.connection, {
    ...options,
    label: options.label ?? `channel ${JSON.stringify(name)} of domain ${JSON.stringify(dom.name)}`,
  });
  const channel = cString(name, "channel name");
  try {
    await dom[kCall](
      `open channel ${JSON.stringify(name)} of`,
      (h) =>
        libvirt().symbols.virDomainOpenChannelAsync(
          h,
          channel,
          stream[kPointer]("attach"),
          options.force ? DomainChannelFlag.FORCE : 0,
        ),
      isNegative,
    );
  } catch (error) {
    stream.free();
    throw error;
  }
  return stream;
}

/** @internal virDomainScreenshot; dom.screenshot() delegates here. Returns the MIME type. */
export async function domainScreenshot(dom: ObjectHandle, stream: Stream, screen = 0): Promise<string> {
  checkCount(screen, "screen");
  const pointer = await dom[kCall](
    `take a screenshot of screen ${screen} of`,
    (h) => libvirt().symbols.virDomainScreenshotAsync(h, stream[kPointer]("attach"), screen, 0),
    isNull,
  );
  labelled(stream, `screenshot of domain ${JSON.stringify(dom.name)}`);
  return takeCString(pointer) ?? "";
}

function checkCount(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Invalid ${field} ${value}: pass a non-negative integer`);
  }
}

/** @internal virStorageVolUpload; vol.upload() delegates here. */
export async function volumeUpload(
  vol: ObjectHandle,
  stream: Stream,
  offset = 0,
  length = 0,
  options: VolumeStreamOptions = {},
): Promise<void> {
  checkCount(offset, "offset");
  checkCount(length, "length");
  const flags = options.sparse ? StorageVolUploadFlag.SPARSE_STREAM : 0;
  await vol[kCall](
    "start an upload to",
    (h) =>
      libvirt().symbols.virStorageVolUploadAsync(
        h,
        stream[kPointer]("attach"),
        BigInt(offset),
        BigInt(length),
        flags,
      ),
    isNegative,
  );
  labelled(stream, `upload to storage volume ${JSON.stringify(vol.name)}`);
}

/** @internal virStorageVolDownload; vol.download() delegates here. */
export async function volumeDownload(
  vol: ObjectHandle,
  stream: Stream,
  offset = 0,
  length = 0,
  options: VolumeStreamOptions = {},
): Promise<void> {
  checkCount(offset, "offset");
  checkCount(length, "length");
  const flags = options.sparse ? StorageVolDownloadFlag.SPARSE_STREAM : 0;
  await vol[kCall](
    "start a download from",
    (h) =>
      libvirt().symbols.virStorageVolDownloadAsync(
        h,
        stream[kPointer]("attach"),
        BigInt(offset),
        BigInt(length),
        flags,
      ),
    isNegative,
  );
  labelled(stream, `download from storage volume ${JSON.stringify(vol.name)}`);
}

// ---------------------------------------------------------------------------------------------------
// Whole-volume transfers: the loops virStreamSendAll/RecvAll/SparseSendAll/SparseRecvAll run in C,
// here in JavaScript (libvirt's versions call back into the caller for every chunk, on libvirt's thread).

/** A volume-like handle with the two stream calls (a StorageVolume). */
export interface TransferVolume extends ObjectHandle {
  /** Attaches `stream` to write into the volume from `offset` (bytes), `length` bytes (0: to the end). */
  upload(stream: Stream, offset?: number, length?: number, options?: VolumeStreamOptions): Promise<void>;
  /** Attaches `stream` to read the volume from `offset` (bytes), `length` bytes (0: to the end). */
  download(stream: Stream, offset?: number, length?: number, options?: VolumeStreamOptions): Promise<void>;
}

/** Progress of {@link uploadVolume}/{@link downloadVolume}. */
export interface TransferProgress {
  /** Bytes of data moved so far. */
  dataBytes: number;
  /** Bytes covered by holes so far (sparse transfers). */
  holeBytes: number;
  /** The total size, when known (a file or Uint8Array source). */
  totalBytes?: number;
}

/** What {@link uploadVolume}/{@link downloadVolume} moved. */
export interface TransferResult {
  /** Bytes of data that travelled. */
  dataBytes: number;
  /** Bytes that travelled as holes (0 unless sparse). */
  holeBytes: number;
  /** dataBytes + holeBytes: the logical size transferred. */
  totalBytes: number;
  /** Wall-clock duration in milliseconds. */
  durationMs: number;
}

/** Options for {@link uploadVolume} and {@link downloadVolume}. */
export interface TransferOptions {
  /**
   * Keep holes: a sparse file's holes (found with SEEK_HOLE; for other sources, runs of zero
   * 64 KiB blocks) travel as holes, and a download to a file leaves them unallocated.
   */
  sparse?: boolean;
  /** Byte offset in the volume (default 0). */
  offset?: number;
  /** Bytes to transfer (default: the whole source for uploads, the rest of the volume for downloads). */
  length?: number;
  /** Called after each chunk. */
  onProgress?: (progress: TransferProgress) => void;
  /** Aborts the transfer (the stream is aborted; the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Use a nonblocking stream (see {@link NewStreamOptions.nonblocking}). Default false: during a bulk
   * transfer the next packet is never far, so a blocking recv holds the connection's gate only for
   * milliseconds, and it does not depend on the event loop's turns, which were slow under load
   * (docs/design.md has the measurements).
   */
  nonblocking?: boolean;
}

const ZERO_BLOCK = 65_536;

function isZero(bytes: Uint8Array): boolean {
  // 8 bytes at a time where aligned: the scan must keep up with the stream
  const head = (8 - (bytes.byteOffset % 8)) % 8;
  for (let i = 0; i < Math.min(head, bytes.length); i++) if (bytes[i] !== 0) return false;
  const words = Math.floor((bytes.length - head) / 8);
  if (words > 0) {
    const view = new BigUint64Array(bytes.buffer, bytes.byteOffset + head, words);
    for (let i = 0; i < words; i++) if (view[i] !== 0n) return false;
  }
  for (let i = head + words * 8; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Uploads a file, bytes or a web stream into a storage volume: virStorageVolUpload, then send (and
 * sendHole) until done, then virStreamFinish; on any failure or abort the stream is aborted.
 *
 * @param vol the target volume (its capacity must hold offset + the data)
 * @param source a file path, a Uint8Array, or a ReadableStream of bytes
 * @param options sparse, offset, length, onProgress, signal
 * @returns the bytes moved as data and as holes, and the duration
 * @throws {LibvirtError} when libvirt refuses the upload or the host fails to write
 * @throws the signal's reason when aborted
 * @example
 * ```ts ignore
 * import { Connection, lookupStoragePool, lookupVolume, uploadVolume } from "../mod.ts";
 * await using conn = await Connection.open("qemu:///system");
 * using pool = await lookupStoragePool(conn, "default");
 * using vol = await lookupVolume(pool, "base.img");
 * const result = await uploadVolume(vol, "/tmp/base.img", { sparse: true });
 * console.log(result.dataBytes, result.holeBytes);
 * ```
 */
export async function uploadVolume(
  vol: TransferVolume,
  source: string | Uint8Array | ReadableStream<Uint8Array>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const started = performance.now();
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const progress: TransferProgress = { dataBytes: 0, holeBytes: 0 };
  let file: Deno.FsFile | undefined;
  let segments: { kind: "data" | "hole"; offset: number; length: number }[] | undefined;
  let length = options.length ?? 0;
  if (typeof source === "string") {
    const map = options.sparse ? fileSegments(source) : undefined;
    file = await Deno.open(source, { read: true });
    const size = map?.size ?? (await file.stat()).size;
    segments = map?.segments ?? [{ kind: "data", offset: 0, length: size }];
    if (options.length === undefined) length = size;
    progress.totalBytes = Math.min(size, length);
  } else if (source instanceof Uint8Array) {
    if (options.length === undefined) length = source.length;
    progress.totalBytes = Math.min(source.length, length);
  } else if (!(source instanceof ReadableStream)) {
    throw new TypeError("Cannot upload: source must be a file path, a Uint8Array or a ReadableStream");
  }
  await using stream = newStream(vol.connection, { nonblocking: options.nonblocking ?? false });
  try {
    await vol.upload(stream, options.offset ?? 0, length, { sparse: options.sparse });
    const sendData = async (bytes: Uint8Array) => {
      if (!options.sparse) return await sendPlain(bytes);
      // zero blocks become holes
      let run = 0;
      for (let at = 0; at < bytes.length; at += ZERO_BLOCK) {
        const block = bytes.subarray(at, at + ZERO_BLOCK);
        if (isZero(block)) {
          run += block.length;
          continue;
        }
        if (run > 0) await sendHole(run);
        run = 0;
        await sendPlain(block);
      }
      if (run > 0) await sendHole(run);
    };
    const sendPlain = async (bytes: Uint8Array) => {
      signal?.throwIfAborted();
      await stream.sendAll(bytes);
      progress.dataBytes += bytes.length;
      onProgress?.({ ...progress });
    };
    const sendHole = async (bytes: number) => {
      signal?.throwIfAborted();
      await stream.sendHole(bytes);
      progress.holeBytes += bytes;
      onProgress?.({ ...progress });
    };
    let remaining = options.length ?? Infinity;
    if (file && segments) {
      const buffer = new Uint8Array(4 * STREAM_CHUNK_BYTES);
      for (const segment of segments) {
        if (remaining <= 0) break;
        const take = Math.min(segment.length, remaining);
        remaining -= take;
        if (segment.kind === "hole") {
          await sendHole(take);
          continue;
        }
        await file.seek(segment.offset, Deno.SeekMode.Start);
        for (let left = take; left > 0;) {
          const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
          if (n === null) {
            throw new Error(`Cannot upload ${JSON.stringify(source)}: the file shrank while being read`);
          }
          await sendPlain(buffer.subarray(0, n));
          left -= n;
        }
      }
    } else if (source instanceof Uint8Array) {
      const bytes = source.subarray(0, Math.min(source.length, remaining));
      // 1 MiB steps, a multiple of the zero-block size: holes stay aligned with the source's
      for (let at = 0; at < bytes.length; at += 16 * ZERO_BLOCK) {
        await sendData(bytes.subarray(at, at + 16 * ZERO_BLOCK));
      }
    } else {
      const reader = (source as ReadableStream<Uint8Array>).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || remaining <= 0) break;
          const part = value.subarray(0, Math.min(value.length, remaining));
          remaining -= part.length;
          await sendData(part);
        }
      } finally {
        reader.releaseLock();
      }
    }
    signal?.throwIfAborted();
    await stream.finish();
  } finally {
    file?.close();
  }
  const total = progress.dataBytes + progress.holeBytes;
  return {
    dataBytes: progress.dataBytes,
    holeBytes: progress.holeBytes,
    totalBytes: total,
    durationMs: performance.now() - started,
  };
}

/**
 * Downloads a storage volume into a file or a web stream: virStorageVolDownload, then recv (and, when
 * sparse, recvHole) until the end, then virStreamFinish. A sparse download into a file leaves the
 * holes unallocated (seeks over them and sets the final size); into a web stream, holes arrive as zeros.
 *
 * @param vol the volume to read
 * @param sink a file path (created or truncated) or a WritableStream of bytes
 * @param options sparse, offset, length, onProgress, signal
 * @returns the bytes moved as data and as holes, and the duration
 * @throws {LibvirtError} when libvirt refuses the download or the transfer fails
 * @throws the signal's reason when aborted
 * @example
 * ```ts ignore
 * import { Connection, downloadVolume, lookupStoragePool, lookupVolume } from "../mod.ts";
 * await using conn = await Connection.open("qemu:///system");
 * using pool = await lookupStoragePool(conn, "default");
 * using vol = await lookupVolume(pool, "base.img");
 * await downloadVolume(vol, "/tmp/copy.img", { sparse: true });
 * ```
 */
export async function downloadVolume(
  vol: TransferVolume,
  sink: string | WritableStream<Uint8Array>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const started = performance.now();
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  if (typeof sink !== "string" && !(sink instanceof WritableStream)) {
    throw new TypeError("Cannot download: sink must be a file path or a WritableStream");
  }
  const progress: TransferProgress = { dataBytes: 0, holeBytes: 0 };
  await using stream = newStream(vol.connection, { nonblocking: options.nonblocking ?? false });
  await vol.download(stream, options.offset ?? 0, options.length ?? 0, { sparse: options.sparse });
  const file = typeof sink === "string"
    ? await Deno.open(sink, { write: true, create: true, truncate: true })
    : undefined;
  const writer = typeof sink === "string" ? undefined : sink.getWriter();
  let position = 0;
  let failed = true;
  try {
    const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
    const zeros = writer && options.sparse ? new Uint8Array(STREAM_CHUNK_BYTES * 4) : undefined;
    for (;;) {
      signal?.throwIfAborted();
      const n = await stream.recvFlags(buffer, { stopAtHole: options.sparse });
      if (n > 0) {
        const data = buffer.subarray(0, n);
        if (file) {
          for (let at = 0; at < n;) at += await file.write(data.subarray(at));
        } else await writer!.write(data.slice());
        position += n;
        progress.dataBytes += n;
        onProgress?.({ ...progress });
      } else if (n === StreamStatus.EOF) {
        break;
      } else if (n === StreamStatus.HOLE) {
        const hole = await stream.recvHole();
        if (file) await file.seek(hole, Deno.SeekMode.Current);
        else {
          for (let left = hole; left > 0; left -= zeros!.length) {
            await writer!.write(zeros!.slice(0, Math.min(left, zeros!.length)));
          }
        }
        position += hole;
        progress.holeBytes += hole;
        onProgress?.({ ...progress });
      } else {
        await stream.waitReady(StreamEventType.READABLE);
      }
    }
    await stream.finish();
    if (file) await file.truncate(position); // a trailing hole: the size without allocating it
    failed = false;
  } finally {
    file?.close();
    if (writer) {
      if (failed) await writer.abort().catch(() => {});
      else await writer.close();
    }
  }
  return {
    dataBytes: progress.dataBytes,
    holeBytes: progress.holeBytes,
    totalBytes: position,
    durationMs: performance.now() - started,
  };
}
