// ConnectionPool: the connections to one URI, their leases, bounds, health checks and reconnection.
// The registry of pools (registry.ts), the lease (lease.ts) and the option types (types.ts) are
// modules of their own, re-exported by lib/pool.ts; so are the pool's private parts: the queue of
// callers waiting for a connection (_waiters.ts) and the statistics (_stats.ts).
import { type CloseReport, Connection, type OpenOptions } from "../connection.ts";
import { sleep } from "../_async.ts";
import { ErrorCode, ErrorDomain } from "../error_codes.ts";
import { ConnectionLostError, isConnectionLost, LibvirtError } from "../errors.ts";
import { Lease } from "./lease.ts";
import { PoolStatistics } from "./_stats.ts";
import { WaitQueue } from "./_waiters.ts";
import type {
  LeaseOptions,
  PoolCloseReport,
  PoolOptions,
  PoolStats,
  ReconnectOptions,
  UseOptions,
} from "./types.ts";

interface IdleConnection {
  connection: Connection;
  since: number;
}

function isTransientOpenFailure(error: unknown): boolean {
  if (!(error instanceof LibvirtError)) return false;
  const transportCodes: number[] = [ErrorCode.SYSTEM_ERROR, ErrorCode.RPC, ErrorCode.NO_CONNECT];
  const transportDomains: number[] = [ErrorDomain.RPC, ErrorDomain.REMOTE, ErrorDomain.NONE];
  return transportCodes.includes(error.code) && transportDomains.includes(error.domain);
}

/**
 * Connections to one hypervisor URI, each leased to one operation at a time.
 *
 * @example
 * ```ts ignore
 * import { ConnectionPool } from "@deno-libvirt/deno-libvirt";
 * await using pool = new ConnectionPool("qemu:///system", { max: 8 });
 * {
 *   using lease = await pool.acquire({ signal: AbortSignal.timeout(5_000) });
 *   console.log(await lease.connection.hostname());
 * }
 * console.log(pool.stats());
 * ```
 */
export class ConnectionPool {
  readonly #uri: string;
  readonly #min: number;
  readonly #max: number;
  readonly #acquireTimeoutMs: number;
  readonly #healthCheckIdleMs: number;
  readonly #idleTimeoutMs: number;
  readonly #openOptions: OpenOptions;
  readonly #reconnect: Required<ReconnectOptions>;
  readonly #open: (uri: string, options: OpenOptions) => Promise<Connection>;

  readonly #idle: IdleConnection[] = [];
  readonly #leased = new Set<Connection>();
  readonly #waiters: WaitQueue;
  #opening = 0;
  #everConnected = false;
  #lostAwaitingReplacement = 0;
  #state: "open" | "draining" | "closed" = "open";
  #drained: (() => void) | undefined;
  #drainedPromise: Promise<void> | undefined;
  /** Connections taken from idle for a health check: counted in the size, like leased ones. */
  #checking = 0;
  /** Closes in progress (reaped, discarded): close() waits for them before it reports. */
  readonly #closes = new Set<Promise<void>>();
  #closing: Promise<PoolCloseReport> | undefined;
  readonly #closeReports: CloseReport[] = [];

  readonly #statistics = new PoolStatistics();
  readonly #counters = this.#statistics.counts;
  /** What every lease calls when it ends (one function for all leases, not a closure per lease). */
  readonly #checkinLease = (connection: Connection, broken: boolean): void =>
    this.#checkin(connection, broken);

  /**
   * Makes an empty pool; connections open on first use (or {@link ConnectionPool.warm}).
   *
   * @param uri the hypervisor URI every connection opens
   * @param options sizes, timeouts, credentials, reconnection
   * @throws {RangeError} for sizes that cannot work (max < 1, min > max)
   */
  constructor(uri: string, options: PoolOptions = {}) {
    const max = options.max ?? 4;
    const min = options.min ?? 0;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create a pool for ${JSON.stringify(uri)}: max must be an integer >= 1, got ${max}`,
      );
    }
    if (!Number.isInteger(min) || min < 0 || min > max) {
      throw new RangeError(
        `Cannot create a pool for ${
          JSON.stringify(uri)
        }: min must be an integer from 0 to max (${max}), got ${min}`,
      );
    }
    this.#uri = uri;
    this.#min = min;
    this.#max = max;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.#waiters = new WaitQueue({ uri, max, maxWaiting: options.maxWaiting ?? 10_000 });
    this.#healthCheckIdleMs = options.healthCheckIdleMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.#openOptions = {
      ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
      ...(options.auth !== undefined ? { auth: options.auth } : {}),
      ...(options.keepAlive !== undefined ? { keepAlive: options.keepAlive } : {}),
      eventLoop: options.eventLoop ?? "auto",
    };
    this.#reconnect = {
      timeoutMs: options.reconnect?.timeoutMs ?? 30_000,
      initialDelayMs: options.reconnect?.initialDelayMs ?? 50,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 1_000,
      retries: options.reconnect?.retries ?? 3,
    };
    this.#open = options.open ?? ((u, o) => Connection.open(u, o));
  }

  /** The URI this pool connects to. */
  get uri(): string {
    return this.#uri;
  }

  /** The most connections this pool opens. */
  get max(): number {
    return this.#max;
  }

  /**
   * Opens connections until `min` are open; call it to fail fast on a bad URI or to pre-warm. A
   * connection it opens while callers wait for a lease goes to the first of them (first come, first
   * served), not to whoever asks next.
   */
  async warm(): Promise<void> {
    this.#assertOpen();
    const missing = this.#min - this.#size();
    const opened = await Promise.allSettled(
      Array.from({ length: Math.max(missing, 0) }, () => this.#openTracked(undefined, "idle")),
    );
    const failure = opened.find((r) => r.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /**
   * Leases a connection to one operation; release it with `using` or {@link Lease.release}.
   *
   * @param options an AbortSignal and a timeout for the wait
   * @returns the lease
   * @throws the signal's reason on abort; a `DOMException` named TimeoutError after the timeout
   * @throws {LibvirtError} when a new connection cannot be opened
   */
  async acquire(options: LeaseOptions = {}): Promise<Lease> {
    const connection = await this.#checkout(options);
    if (options.signal?.aborted) {
      // the caller gave up while the connection opened or passed to it: not theirs, the next caller's
      this.#checkin(connection, false);
      throw options.signal.reason;
    }
    return new Lease(this, connection, this.#checkinLease);
  }

  /**
   * The lease {@link use} takes without awaiting anything, when the pool can give one at once: an idle
   * connection that is alive and recently used (no health check due), no abort. Undefined otherwise:
   * then {@link acquire} decides (opening, health checks, waiting), as it always did.
   */
  #leaseNow(options: LeaseOptions, now: number): Lease | undefined {
    const last = this.#idle.length - 1;
    if (this.#state !== "open" || last < 0 || options.signal?.aborted) return undefined;
    const idle = this.#idle[last];
    if (now - idle.since > this.#healthCheckIdleMs || !idle.connection.isAlive()) return undefined;
    this.#idle.pop(); // LIFO, as #checkout: the most recently used connection is the warmest
    this.#leased.add(idle.connection);
    this.#counters.reused++;
    return new Lease(this, idle.connection, this.#checkinLease);
  }

  /**
   * Runs `fn` with a leased connection and releases it afterwards, whatever happens.
   *
   * @param fn the operation; the connection it gets is unusable once `use` settles (calls through it
   *   then throw "the lease on this connection was released")
   * @param options `idempotent` to retry after a lost connection, plus the lease options
   * @returns what `fn` returns
   * @throws what `fn` throws; {@link ConnectionLostError} (with `outcomeUnknown` for non-idempotent work)
   */
  async use<T>(fn: (connection: Connection) => Promise<T> | T, options: UseOptions = {}): Promise<T> {
    const started = performance.now();
    this.#counters.operations++;
    let attempt = 0;
    try {
      while (true) {
        const lease = (attempt === 0 ? this.#leaseNow(options, started) : undefined) ??
          await this.acquire(options);
        try {
          const result = await fn(lease.connection);
          lease.release();
          return result;
        } catch (error) {
          const lost = isConnectionLost(error) || !lease.connection.isAlive();
          if (!lost) {
            lease.release();
            throw error;
          }
          lease.discard();
          this.#lostAwaitingReplacement++;
          if (options.idempotent && attempt < this.#reconnect.retries) {
            attempt++;
            this.#counters.retries++;
            continue;
          }
          throw this.#lostError(error, !options.idempotent);
        }
      }
    } catch (error) {
      this.#statistics.recordFailure(error);
      throw error;
    } finally {
      this.#statistics.recordLatency(performance.now() - started);
    }
  }

  #lostError(error: unknown, outcomeUnknown: boolean): ConnectionLostError {
    const operation = error instanceof LibvirtError
      ? error.operation
      : `complete an operation on ${this.#uri}`;
    const details = error instanceof LibvirtError
      ? { code: error.code, domain: error.domain, level: error.level, message: error.libvirtMessage }
      : { code: ErrorCode.NO_CONNECT, domain: ErrorDomain.NONE, level: 2, message: String(error) };
    return new ConnectionLostError(operation, details, { cause: error, outcomeUnknown });
  }

  /** The pool's counters now. */
  stats(): PoolStats {
    return {
      uri: this.#uri,
      size: this.#size(),
      idle: this.#idle.length,
      inFlight: this.#leased.size,
      waiting: this.#waiters.length,
      opening: this.#opening,
      onEventLoop: this.#onEventLoop(),
      ...this.#statistics.summary(),
    };
  }

  /** Stops new leases and waits until every leased connection is back. */
  drain(): Promise<void> {
    if (this.#state === "open") this.#state = "draining";
    this.#rejectWaiters();
    // one promise for every caller: a second drain() or a close() must not orphan the first
    this.#drainedPromise ??= new Promise<void>((resolve) => this.#drained = resolve);
    this.#checkDrained();
    return this.#drainedPromise;
  }

  /**
   * Drains, then closes every connection. Idempotent.
   *
   * @returns how many connections closed and libvirt's remaining references (0: nothing leaked)
   */
  close(): Promise<PoolCloseReport> {
    return this.#closing ??= (async () => {
      await this.drain();
      this.#state = "closed";
      const idle = this.#idle.splice(0);
      await Promise.all(idle.map(({ connection }) => this.#closeConnection(connection)));
      await Promise.all(this.#closes); // connections discarded or reaped while draining
      const report: PoolCloseReport = {
        closed: this.#closeReports.length,
        remainingReferences: 0,
        freedHandles: 0,
      };
      for (const r of this.#closeReports) {
        report.remainingReferences += r.remainingReferences;
        report.freedHandles += r.freedHandles;
      }
      return report;
    })();
  }

  /** Closes the pool (`await using pool = new ConnectionPool(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** How `console.log` and `Deno.inspect` show the pool: URI, size of max, calls in flight, waiters. */
  [Symbol.for("Deno.customInspect")](): string {
    const s = this.stats();
    return `ConnectionPool { uri: ${
      JSON.stringify(this.#uri)
    }, size: ${s.size}/${this.#max}, inFlight: ${s.inFlight}, waiting: ${s.waiting}, ${this.#state} }`;
  }

  /** How many of the open connections libvirt attached to the (process-wide) event loop. */
  #onEventLoop(): number {
    let count = 0;
    for (const { connection } of this.#idle) if (connection.eventLoop) count++;
    for (const connection of this.#leased) if (connection.eventLoop) count++;
    return count;
  }

  #size(): number {
    return this.#idle.length + this.#leased.size + this.#opening + this.#checking;
  }

  async #checkout(options: LeaseOptions): Promise<Connection> {
    while (true) {
      this.#assertOpen();
      options.signal?.throwIfAborted();
      const idle = this.#idle.pop(); // LIFO: the most recently used connection is the warmest
      if (idle) {
        // counted while it is checked, so that nobody opens past max meanwhile
        this.#checking++;
        let healthy: boolean;
        try {
          healthy = await this.#healthy(idle);
        } finally {
          this.#checking--;
        }
        if (!healthy) {
          this.#checkDrained();
          continue;
        }
        this.#leased.add(idle.connection);
        if (this.#state !== "open") {
          this.#leased.delete(idle.connection);
          await this.#closeConnection(idle.connection);
          this.#checkDrained();
          this.#assertOpen();
        }
        this.#counters.reused++;
        return idle.connection;
      }
      if (this.#size() < this.#max) {
        const connection = await this.#openTracked(options.signal, "leased"); // leased as it opens
        if (this.#state !== "open") {
          this.#leased.delete(connection);
          await this.#closeConnection(connection);
          this.#checkDrained();
          this.#assertOpen();
        }
        return connection;
      }
      // handed over already leased (see #checkin)
      const handed = await this.#waiters.wait(options.timeoutMs ?? this.#acquireTimeoutMs, options.signal);
      if (handed) {
        this.#counters.reused++;
        return handed;
      }
      // null: a slot was freed (a connection was discarded): loop and open one
    }
  }

  async #healthy(idle: IdleConnection): Promise<boolean> {
    const { connection, since } = idle;
    let healthy = connection.isAlive();
    if (healthy && performance.now() - since > this.#healthCheckIdleMs) {
      healthy = await connection.ping().then(() => true, () => false);
    }
    if (!healthy) {
      this.#counters.healthCheckFailures++;
      this.#lostAwaitingReplacement++;
      await this.#closeConnection(connection);
    }
    return healthy;
  }

  #checkin(connection: Connection, broken: boolean): void {
    if (!this.#leased.delete(connection)) return;
    const now = performance.now(); // one clock read for the idle mark and the reaping
    const waiting = this.#waiters.length > 0;
    // a connection going idle is checked when it is leased next (#leaseNow, #healthy): one liveness
    // check per lease instead of two; one handed straight to a waiter is checked here
    if (broken || this.#state === "closed" || (waiting && !connection.isAlive())) {
      if (broken) this.#dropIdle();
      this.#closeInBackground(connection);
      this.#waiters.handOver(null); // a slot is free: the first waiter opens a connection
    } else if (waiting) {
      this.#leased.add(connection); // stays counted while it passes to the waiter
      this.#waiters.handOver(connection);
    } else this.#pushIdle(connection, now);
    this.#reapIdle(now);
    this.#checkDrained();
  }

  #pushIdle(connection: Connection, now = performance.now()): void {
    this.#idle.push({ connection, since: now });
  }

  /**
   * After a lost connection (a lease discarded as broken): the idle ones to the same daemon are as
   * likely gone (a restart takes them all), and libvirt cannot tell without a round trip (a local
   * socket without the event loop stays "alive" until a call on it fails). They are closed, so that
   * retries open fresh connections instead of meeting the dead ones one by one (4 workers' retries, 3
   * each, ran out on a pool of 4 dead idle connections after a libvirtd restart).
   */
  #dropIdle(): void {
    while (this.#idle.length > 0) this.#closeInBackground(this.#idle.pop()!.connection);
  }

  /** Closes connections beyond `min` that sat idle longer than idleTimeoutMs (oldest first). */
  #reapIdle(now: number): void {
    while (
      this.#idle.length > 0 && this.#size() > this.#min && now - this.#idle[0].since > this.#idleTimeoutMs
    ) {
      this.#closeInBackground(this.#idle.shift()!.connection);
    }
  }

  #checkDrained(): void {
    if (
      this.#state !== "open" && this.#leased.size === 0 && this.#opening === 0 && this.#checking === 0 &&
      this.#drained
    ) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  #assertOpen(): void {
    if (this.#state !== "open") {
      throw new TypeError(
        `Cannot lease a connection to ${JSON.stringify(this.#uri)}: the pool is ${
          this.#state === "closed" ? "closed" : "draining"
        }`,
      );
    }
  }

  #rejectWaiters(): void {
    this.#waiters.rejectAll(() =>
      new TypeError(`Cannot lease a connection to ${JSON.stringify(this.#uri)}: the pool is closing`)
    );
  }

  /**
   * Opens one connection, counting it as opening meanwhile, and moves it into `into` in the same step
   * that stops counting it as opening (so the pool's size never dips under what is open); retries
   * transient failures after a loss.
   */
  async #openTracked(signal: AbortSignal | undefined, into: "leased" | "idle"): Promise<Connection> {
    this.#opening++;
    let connection: Connection;
    try {
      connection = await this.#openWithRetry(signal);
      this.#counters.opened++;
      if (this.#lostAwaitingReplacement > 0) {
        this.#lostAwaitingReplacement--;
        this.#counters.reconnects++;
      }
      this.#everConnected = true;
      if (into === "leased") this.#leased.add(connection);
      else if (this.#state !== "open") this.#closeInBackground(connection); // warm() raced a close(): do not leak it
      else if (this.#waiters.length > 0) {
        // warm() opened it while callers queued: the first waiter's (idle, a later caller took it first)
        this.#leased.add(connection);
        this.#waiters.handOver(connection);
      } else this.#pushIdle(connection);
    } finally {
      this.#opening--;
      this.#checkDrained();
    }
    if (into === "leased" && signal?.aborted && this.#state === "open") {
      // its caller gave up while it opened: the next caller's at once (a waiter, or idle), never
      // counted in flight for a caller who is gone
      this.#checkin(connection, false);
      throw signal.reason;
    }
    return connection;
  }

  async #openWithRetry(signal?: AbortSignal): Promise<Connection> {
    const deadline = performance.now() + this.#reconnect.timeoutMs;
    let delay = this.#reconnect.initialDelayMs;
    while (true) {
      try {
        return await this.#open(this.#uri, this.#openOptions);
      } catch (error) {
        // A URI that never worked fails at once; one that did (daemon restarting) gets retried.
        const retry = this.#everConnected && isTransientOpenFailure(error) &&
          performance.now() + delay < deadline;
        if (!retry) throw error;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#reconnect.maxDelayMs);
      }
    }
  }

  #closeInBackground(connection: Connection): void {
    const closing = this.#closeConnection(connection);
    this.#closes.add(closing);
    void closing.finally(() => this.#closes.delete(closing));
  }

  async #closeConnection(connection: Connection): Promise<void> {
    this.#counters.closed++;
    try {
      this.#closeReports.push(await connection.close());
    } catch {
      // a connection whose daemon is gone may fail to close cleanly; it is gone either way
    }
  }
}
