/**
 * The {@link Stream} object: a libvirt data stream (`virStreamPtr`) with one call per method (send,
 * recv, recvFlags, sendHole, recvHole, finish, abort, the stream-event callbacks) and its web-stream
 * faces (`readable`, `writable`). The module doc of lib/stream.ts explains how a stream waits without
 * holding its connection's gate. The calls that attach a stream to a domain or a volume are in
 * ./stream_attach.ts; whole transfers (`uploadVolume`, `downloadVolume`) in lib/stream.ts.
 *
 * @module
 */
import { kHold, kPointer, phrase } from "../_handle.ts";
import {
  type Connection,
  type ConnectionChild,
  type ConnectionInternals,
  kInternals,
} from "../connection.ts";
import { LibvirtError } from "../errors.ts";
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { type EventLoop, eventLoop, eventLoopEnabled } from "../event_loop.ts";
import { isNegative, OutSlot } from "../ffi/c.ts";
import { libvirt } from "../ffi/library.ts";
import type { HeldArgument } from "../ffi/marshal.ts";
import { StreamEventType, StreamFlag, StreamRecvFlag } from "../ffi/constants.ts";
import { addWatcher, Readiness, removeWatcher } from "./_stream_readiness.ts";
import { sendChunks } from "./_stream_send.ts";
import { WebFaces } from "./_stream_web.ts";

export { StreamEventType };

export { STREAM_CHUNK_BYTES, StreamStatus } from "./stream_status.ts";

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
 *
 * @example
 * ```ts
 * import { Connection, newStream, type Stream, StreamEventType, StreamStatus } from "@deno-libvirt/deno-libvirt";
 * // reads a stream to its end by hand: what `stream.readable` does for you
 * async function drain(stream: Stream): Promise<number> {
 *   const buffer = new Uint8Array(64 * 1024);
 *   let total = 0;
 *   for (;;) {
 *     const n = await stream.recv(buffer);
 *     if (n === StreamStatus.EOF) break;
 *     if (n === StreamStatus.WOULD_BLOCK) await stream.waitReady(StreamEventType.READABLE);
 *     else total += n;
 *   }
 *   await stream.finish();
 *   return total;
 * }
 * await using conn = await Connection.open("test:///default");
 * await using stream = newStream(conn, { label: "an example stream" });
 * console.log(stream.state, typeof drain); // "open" "function"
 * ```
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
  /** Calls on other objects holding this stream as an argument ({@link kHold}), not yet returned. */
  #holds = 0;
  /** libvirt's side of a free() that came while held: run when the last hold is released. */
  #deferredFree: (() => void) | undefined;
  #listener: ((events: number) => void) | undefined;
  readonly #readiness = new Readiness({
    isOpen: () => this.#isOpen(),
    watchLoop: () => this.#watch?.loop,
    watch: (events, listener) => this.eventAddCallback(events, listener),
    rearm: (events) => this.eventUpdateCallback(events),
  });
  readonly #faces = new WebFaces({
    isOpen: () => this.#isOpen(),
    recv: (buffer) => this.recv(buffer),
    sendAll: (data) => sendChunks(this, data),
    finish: () => this.finish(),
    waitReady: (events) => this.#readiness.wait(events),
    abortQuietly: () => this.#abortQuietly(),
  });

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
    this.#internals.track(this);
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
    if (this.#handle === null) throw new TypeError(`Cannot ${phrase(verb, `freed Stream (${this.#label})`)}`);
    return this.#handle;
  }

  /**
   * @internal this stream passed to a call on another object (openConsole, upload, screenshot, ...):
   * counted until the call has returned, so a free() meanwhile defers libvirt's side (the abort and the
   * free) until then. An abort while C is still attaching the stream would find no driver yet and do
   * nothing, and the free that followed would leave the transfer it attached running (a screenshot's
   * file descriptor stayed open: 51 of 200 rounds).
   */
  [kHold](verb: string): HeldArgument {
    const pointer = this[kPointer](verb);
    this.#holds++;
    let held = true;
    return {
      pointer,
      release: () => {
        if (!held) return;
        held = false;
        if (--this.#holds > 0 || this.#deferredFree === undefined) return;
        const free = this.#deferredFree;
        this.#deferredFree = undefined;
        free();
      },
    };
  }

  #isOpen(): boolean {
    return this.#state === "open" && this.#handle !== null;
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
    this.#readiness.wakeAll();
  }

  /**
   * Cancels the transfer (virStreamAbort). The other end discards what it got.
   *
   * @throws {LibvirtError} when libvirt fails (e.g. the stream was already finished)
   */
  async abort(): Promise<void> {
    await this.#call("abort", (st) => libvirt().symbols.virStreamAbortAsync(st), isNegative);
    this.#state = "aborted";
    this.#readiness.wakeAll();
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
    const id = addWatcher(loop, (fired) => this.#listener?.(fired));
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
      removeWatcher(id);
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
    removeWatcher(watch.id);
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

  /**
   * Waits, without holding the connection, until a nonblocking stream is ready for `events` (or
   * failed, hung up, or was finished, aborted or freed meanwhile). Registers the stream's event
   * callback on first use. For driving {@link send}/{@link recv} by hand after a WOULD_BLOCK.
   *
   * @param events a mask of {@link StreamEventType}, e.g. `StreamEventType.READABLE`
   * @param options `signal` ends the wait at once with the signal's reason (the stream stays open)
   * @throws {TypeError} when the event loop is disabled
   * @throws {LibvirtError} when the stream cannot be watched
   * @throws the signal's reason on abort
   */
  async waitReady(events: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#readiness.wait(events, options.signal);
  }

  /**
   * Sends all of `data`: {@link send} in chunks of at most {@link STREAM_CHUNK_BYTES}, waiting for
   * readiness whenever a nonblocking stream would block.
   *
   * @deprecated use `sendAll(stream, data, { signal })` (lib/stream.ts): a loop of several calls is a
   *   function, not a method (docs/design.md, "The API rule")
   * @param data the bytes
   * @throws {TypeError} when the stream is no longer open
   * @throws {LibvirtError} when libvirt fails
   */
  async sendAll(data: Uint8Array): Promise<void> {
    await sendChunks(this, data);
  }

  /**
   * The stream's incoming data, as a web stream. It ends when libvirt reports the end of the stream
   * (the stream is then finished); cancelling it aborts the stream. At most four chunks are read
   * ahead of the consumer.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#faces.readable;
  }

  /**
   * The stream's outgoing data, as a web stream: a write resolves once libvirt took every byte.
   * Closing it finishes the stream (virStreamFinish) unless its {@link readable} is still being read
   * (a console: the read side stays open); aborting it aborts the stream.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#faces.writable;
  }

  async #abortQuietly(): Promise<void> {
    if (this.#state !== "open" || this.#handle === null) return;
    try {
      await this.abort();
    } catch {
      // the stream already failed or ended: nothing to cancel
      this.#state = "aborted";
      this.#readiness.wakeAll();
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
    this.#readiness.wakeAll();
    const watch = this.#watch;
    this.#watch = undefined;
    if (watch) removeWatcher(watch.id);
    const free = () => {
      // the worker may be inside this stream's callback: it removes the callback, aborts and frees
      if (watch) {
        watch.loop.request({ type: "stream-release", id: watch.id, abort: active }).catch(() => {});
        return;
      }
      const lib = libvirt().symbols;
      if (active) lib.virStreamAbort(handle);
      lib.virStreamFree(handle);
    };
    if (this.#holds > 0) this.#deferredFree = free;
    else free();
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
 * @param options nonblocking (default when the connection has the event loop: {@link Connection.eventLoop}), label
 * @returns the stream; free it with `await using`
 * @throws {TypeError} when `nonblocking` is asked for on a connection without the event loop
 * @throws {LibvirtError} when libvirt cannot create it
 * @example
 * ```ts
 * import { Connection, newStream } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * await using stream = newStream(conn);
 * console.log(stream.state); // "open"
 * ```
 */
export function newStream(connection: Connection, options: NewStreamOptions = {}): Stream {
  // nonblocking needs the event loop on this connection: libvirt attaches one only at its open
  const attached = eventLoopEnabled() && connection[kInternals].eventLoop();
  const nonblocking = options.nonblocking ?? attached;
  if (nonblocking && !attached) {
    throw new TypeError(
      eventLoopEnabled()
        ? `Cannot create a nonblocking stream on ${
          JSON.stringify(connection.uri)
        }: the connection was opened without the event loop (a pool's local connection, or eventLoop: false); open it with { eventLoop: true }, or pass nonblocking: false`
        : "Cannot create a nonblocking stream: the event loop is disabled (setEventLoopEnabled(false)); pass nonblocking: false",
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
