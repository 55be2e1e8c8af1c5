// How a nonblocking Stream waits for data without holding its connection's gate: the event loop's
// worker watches the stream (virStreamEventAddCallback) and posts one-shot readiness notices, routed
// here by watch id to the stream's waiters; the watch is re-armed for what the remaining waiters want.
// Private to lib/objects/stream.ts, which owns the one-call methods this builds on.
import type { EventLoop, StreamNotice } from "../event_loop.ts";
import { StreamEventType } from "../ffi/constants.ts";

// Stream readiness notices from the event loop's worker, routed by watch id.
const watchers = new Map<number, (events: number) => void>();
// random start, as lib/events/_hub.ts does: a stale registration of a gone isolate never matches an id of ours
let nextWatchId = 1 + Math.floor(Math.random() * 2 ** 30);
const routed = new WeakSet<EventLoop>();

/** Routes `loop`'s stream notices to their watchers (once per loop), and returns a new watch id for `listener`. */
export function addWatcher(loop: EventLoop, listener: (events: number) => void): number {
  if (!routed.has(loop)) {
    routed.add(loop);
    loop.listenStreams((notice: StreamNotice) => watchers.get(notice.id)?.(notice.events));
  }
  const id = nextWatchId++;
  watchers.set(id, listener);
  return id;
}

/** Stops routing notices of watch `id`. */
export function removeWatcher(id: number): void {
  watchers.delete(id);
}

/** What the waiters need of their stream: its one-call methods and whether data may still move. */
export interface WatchedStream {
  /** True while the stream is open and not freed. */
  isOpen(): boolean;
  /** The loop of the stream's watch, when it has one. */
  watchLoop(): EventLoop | undefined;
  /** Registers the stream's event callback (virStreamEventAddCallback). */
  watch(events: number, listener: (events: number) => void): Promise<void>;
  /** Re-arms it (virStreamEventUpdateCallback). */
  rearm(events: number): Promise<void>;
}

interface Waiter {
  events: number;
  resolve: (events: number) => void;
}

/** The callers of one stream waiting for it to be readable or writable (a console has both at once). */
export class Readiness {
  readonly #stream: WatchedStream;
  #waiters: Waiter[] = [];
  #watching: Promise<void> | undefined;

  constructor(stream: WatchedStream) {
    this.#stream = stream;
  }

  /**
   * Waits until the stream is ready for `events` (or failed, hung up, ended or was freed meanwhile);
   * an abort of `signal` ends the wait at once with its reason, the waiter removed.
   */
  async wait(events: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!this.#stream.isOpen()) return;
    const waiter: Waiter = {
      events: events | StreamEventType.ERROR | StreamEventType.HANGUP,
      resolve: () => {},
    };
    const fired = new Promise<number>((resolve) => waiter.resolve = resolve);
    this.#waiters.push(waiter);
    try {
      if (this.#stream.watchLoop() === undefined) {
        // one registration, however many waiters arrive meanwhile (a console's reader and writer)
        this.#watching ??= this.#stream.watch(waiter.events, (fired) => this.#notified(fired)).finally(() => {
          this.#watching = undefined;
        });
        await this.#watching;
      }
      await this.#arm(); // armed at registration for the first waiter; every later waiter re-arms
    } catch (error) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      throw error;
    }
    // finished, aborted or freed meanwhile (the waiter was woken then): nothing to wait for
    const loop = this.#stream.watchLoop();
    if (loop === undefined || !this.#stream.isOpen()) {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      return;
    }
    loop.hold(); // someone waits for data: keep the process alive until it arrives
    const onAbort = () => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(0);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await fired;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      loop.release();
    }
    signal?.throwIfAborted();
  }

  /** Wakes every waiter (the stream finished, aborted or was freed). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve(0);
  }

  /** Arms the watch for what the waiters want (the worker disarmed it when it posted the last notice). */
  async #arm(): Promise<void> {
    const mask = this.#waiters.reduce((m, w) => m | w.events, 0);
    if (mask === 0 || !this.#stream.isOpen()) return;
    await this.#stream.rearm(mask);
  }

  #notified(fired: number): void {
    const trouble = fired & (StreamEventType.ERROR | StreamEventType.HANGUP);
    const ready = this.#waiters.filter((w) => trouble || (w.events & fired));
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(fired);
    if (this.#waiters.length > 0) this.#arm().catch(() => this.wakeAll());
  }
}
