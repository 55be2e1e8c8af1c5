// The pool's option and report types, apart from the classes that use them: ConnectionPool reads them,
// PoolRegistry passes them on, and a reader looking for "what can I configure" finds them in one place.
import type { AuthOptions, Connection, OpenOptions } from "../connection.ts";

/** How a pool reconnects after its connections were lost. */
export interface ReconnectOptions {
  /** How long to keep trying to open a replacement, ms. Default 30,000. */
  timeoutMs?: number;
  /** First delay between attempts, ms; doubles up to `maxDelayMs`. Default 50. */
  initialDelayMs?: number;
  /** Longest delay between attempts, ms. Default 1,000. */
  maxDelayMs?: number;
  /** How often an idempotent operation is retried on a fresh connection. Default 3. */
  retries?: number;
}

/** Options for a {@link ConnectionPool}. */
export interface PoolOptions {
  /** Connections {@link ConnectionPool.warm} opens and idle reaping keeps. Default 0. */
  min?: number;
  /** Connections open at most, so operations in flight at most. Default 4. */
  max?: number;
  /** How long an operation may wait for a connection, ms. Default 30,000. */
  acquireTimeoutMs?: number;
  /** How many callers may wait at once before new ones are refused. Default 10,000. */
  maxWaiting?: number;
  /** A connection idle longer than this gets a round trip before it is leased, ms. Default 10,000. */
  healthCheckIdleMs?: number;
  /** Connections beyond `min` idle longer than this are closed, ms. Default 60,000. */
  idleTimeoutMs?: number;
  /** Open connections read-only. */
  readOnly?: boolean;
  /** Credentials for URIs that ask for them. */
  auth?: AuthOptions;
  /** Keepalive for remote connections; see {@link OpenOptions.keepAlive}. */
  keepAlive?: OpenOptions["keepAlive"];
  /**
   * Whether the pool's connections ride on libvirt's event loop; see {@link OpenOptions.eventLoop}.
   * Default `"auto"`: the loop (and keepalive) for remote URIs, none for local ones, whose calls then
   * wake no loop thread (a pool is for throughput; a dead local daemon is an EOF on the next call,
   * and an idle connection gets a round trip before it is leased). Pass `true` for a pool whose
   * leases open consoles or nonblocking streams on a local URI.
   *
   * The loop is process-wide and, once started, stays: after one `Connection.open(uri)` with the
   * default options (or an event subscription) anywhere in the process, every connection the pool
   * opens is attached to it (keepalive on remote URIs, events and close detection on its thread), with
   * `"auto"` and `false` too. {@link PoolStats.onEventLoop} and `lease.connection.eventLoop` show it.
   */
  eventLoop?: OpenOptions["eventLoop"];
  /** Reconnection after lost connections. */
  reconnect?: ReconnectOptions;
  /** @internal Opens a connection; tests replace it to count or fail opens. */
  open?: (uri: string, options: OpenOptions) => Promise<Connection>;
}

/** Options for one lease or one {@link ConnectionPool.use}. */
export interface LeaseOptions {
  /** Stops waiting for a connection; the wait rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the pool's `acquireTimeoutMs` for this wait. */
  timeoutMs?: number;
}

/** Options for {@link ConnectionPool.use}. */
export interface UseOptions extends LeaseOptions {
  /**
   * True when running the function twice does no harm (reads, lookups): after a lost connection it is
   * retried on a fresh one. Otherwise a lost connection throws {@link ConnectionLostError} with
   * `outcomeUnknown` set. Default false.
   */
  idempotent?: boolean;
}

/** A pool's counters, as of the call. */
export interface PoolStats {
  /** The hypervisor URI the pool's connections open. */
  uri: string;
  /** Connections open now (idle + leased). */
  size: number;
  /** Open connections waiting to be leased now. */
  idle: number;
  /** Operations running now (leased connections). */
  inFlight: number;
  /** Callers waiting for a connection now. */
  waiting: number;
  /** Connections being opened now. */
  opening: number;
  /**
   * Open connections (idle + leased) attached to libvirt's event loop: the loop is process-wide, so
   * once anything in the process started it (a default `Connection.open`, an event subscription) the
   * pool's new connections ride on it too, whatever {@link PoolOptions.eventLoop} says.
   */
  onEventLoop: number;
  /** Connections opened since the pool was created. */
  opened: number;
  /** Connections closed (idle reaping, lost, pool close). */
  closed: number;
  /** Leases served by an already open connection. */
  reused: number;
  /** Connections opened to replace lost ones. */
  reconnects: number;
  /** Idempotent operations re-run after a lost connection. */
  retries: number;
  /** Connections found dead at checkout. */
  healthCheckFailures: number;
  /** Operations run through {@link ConnectionPool.use}. */
  operations: number;
  /** Failed operations by libvirt error code name ("NO_DOMAIN"), or "OTHER" for non-libvirt errors. */
  errorsByCode: Record<string, number>;
  /** Latency of {@link ConnectionPool.use} operations (waiting included), over the last 2,048. */
  latencyMs: { p50: number; p95: number; samples: number };
}

/** What {@link ConnectionPool.close} found. */
export interface PoolCloseReport {
  /** Connections closed. */
  closed: number;
  /** Sum of libvirt's remaining references over them: 0 means no handle leaked. */
  remainingReferences: number;
  /** Handles the close had to free because their owners had not. */
  freedHandles: number;
}
