/**
 * Live migration of a running domain to another host, with job progress and abort: one orchestration
 * over the one-call methods `migrateToUri3` (virDomainMigrateToURI3), `getJobStats`
 * (virDomainGetJobStats) and `abortJob` (virDomainAbortJob).
 *
 * A call on a connection holds that connection for its whole length (one call at a time per
 * connection: exact error attribution), and a migration call lasts as long as the migration. So the
 * job is watched and aborted through a second connection to the source host (the `monitor`, opened
 * here unless given), on which the domain is looked up by UUID.
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, migrateDomain } from "@deno-libvirt/deno-libvirt";
 * export async function move(name: string): Promise<void> {
 *   await using conn = await Connection.open("qemu:///system");
 *   using dom = await lookupDomain(conn, name);
 *   const result = await migrateDomain(dom, "qemu+tcp://10.0.0.2/system", {
 *     migrateUri: "tcp://10.0.0.2",
 *     onProgress: (p) => console.log(p.dataProcessed, "/", p.dataTotal),
 *   });
 *   console.log(`migrated in ${result.tookMs} ms`);
 * }
 * ```
 *
 * @module
 */
import { describeValue } from "./_args.ts";
import { Connection } from "./connection.ts";
import { type Domain, lookupDomain } from "./domain.ts";
import { DomainJobType } from "./ffi/_generated/enums.ts";
import type { JobStats, MigrateParams } from "./objects/_generated/options.ts";

/**
 * A sample of a running migration job (virDomainGetJobStats on the source).
 *
 * @example
 * ```ts
 * import type { MigrationProgress } from "@deno-libvirt/deno-libvirt";
 * const percent = (p: MigrationProgress) => p.dataTotal ? Math.round((100 * p.dataProcessed) / p.dataTotal) : 0;
 * console.log(percent({ type: "unbounded", dataProcessed: 50, dataRemaining: 50, dataTotal: 100, elapsedMs: 9, stats: {} }));
 * ```
 */
export interface MigrationProgress {
  /** The job type: "bounded", "unbounded" (a migration), "none" (no job yet, or over). */
  type: "none" | "bounded" | "unbounded" | "completed" | "failed" | "cancelled";
  /** Bytes transferred so far (`data_processed`). */
  dataProcessed: number;
  /** Bytes still to transfer (`data_remaining`). */
  dataRemaining: number;
  /** Bytes to transfer in all, as the hypervisor estimates it now (`data_total`). */
  dataTotal: number;
  /** Memory throughput, bytes per second (`memory_bps`), when reported. */
  memoryBps?: number;
  /** The pass over guest memory (`memory_iteration`), when reported. */
  memoryIteration?: number;
  /** Time since the job began, ms (`time_elapsed`). */
  elapsedMs: number;
  /** Every field libvirt returned, as it returned them. */
  stats: JobStats;
}

/**
 * Options for {@link migrateDomain}.
 *
 * @example
 * ```ts
 * import type { MigrateOptions } from "@deno-libvirt/deno-libvirt";
 * const options: MigrateOptions = { bandwidth: 100, migrateUri: "tcp://10.0.0.2", unsafe: true };
 * console.log(options.bandwidth);
 * ```
 */
export interface MigrateOptions {
  /** Keep the guest running while its memory is copied (VIR_MIGRATE_LIVE). Default true. */
  live?: boolean;
  /**
   * The source libvirtd connects to the destination itself (VIR_MIGRATE_PEER2PEER): the destination
   * URI must be reachable from the source host, not only from this process. Default true; false
   * needs a destination {@link Connection} (virDomainMigrate3 from this process).
   */
  peerToPeer?: boolean;
  /** Bandwidth limit, MiB/s (VIR_MIGRATE_PARAM_BANDWIDTH); 0 or omitted: the hypervisor's default. */
  bandwidth?: number;
  /**
   * Where the migration data goes (VIR_MIGRATE_PARAM_URI), e.g. `tcp://10.0.0.2`. Omitted: libvirt
   * uses the destination's host name, which may resolve to an address on another network; give it to
   * keep the traffic on the network you mean.
   */
  migrateUri?: string;
  /** Define the domain on the destination too (VIR_MIGRATE_PERSIST_DEST). Default: true when it is persistent. */
  persistDest?: boolean;
  /** Undefine it on the source once migrated (VIR_MIGRATE_UNDEFINE_SOURCE). Default: same as `persistDest`. */
  undefineSource?: boolean;
  /**
   * Allow what libvirt calls unsafe (VIR_MIGRATE_UNSAFE): disks not on storage libvirt knows to be
   * shared, with a cache mode other than none. Right when both hosts see the same file system
   * coherently (one machine, or a cluster file system). Default false.
   */
  unsafe?: boolean;
  /** The domain XML to use on the destination (VIR_MIGRATE_PARAM_DEST_XML): host-side changes only. */
  destinationXml?: string;
  /** The persistent XML to define on the destination (VIR_MIGRATE_PARAM_PERSIST_XML). */
  persistentXml?: string;
  /** More typed parameters, passed as they are (they win over the options above). */
  params?: MigrateParams<number | bigint>;
  /** Aborts the migration (virDomainAbortJob); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with each job sample; must not throw (a throw is ignored). */
  onProgress?: (progress: MigrationProgress) => void;
  /** How often the job is sampled, ms. Default 250. */
  progressIntervalMs?: number;
  /** A connection to the source host to watch and abort the job through (default: one opened here). */
  monitor?: Connection;
}

/**
 * What {@link migrateDomain} did.
 *
 * @example
 * ```ts
 * import type { MigrateResult } from "@deno-libvirt/deno-libvirt";
 * const line = (r: MigrateResult) => `${r.name} -> ${r.destination} in ${r.tookMs} ms (${r.samples} samples)`;
 * console.log(line({ name: "web1", destination: "qemu+tcp://h2/system", tookMs: 5000, samples: 20 }));
 * ```
 */
export interface MigrateResult {
  /** The domain's name. */
  name: string;
  /** The destination URI. */
  destination: string;
  /** Wall-clock time of the migration call, ms. */
  tookMs: number;
  /** The job samples taken (0 when the migration ended before the first). */
  samples: number;
  /** The last sample seen while the job ran. */
  lastProgress?: MigrationProgress;
}

/**
 * A migration that did not happen: the guest stays where it was (its state there in `sourceState`).
 *
 * @example
 * ```ts
 * import { MigrationError } from "@deno-libvirt/deno-libvirt";
 * const error = new MigrationError("web1", "qemu+tcp://h2/system", {
 *   cause: new Error("Connection refused"),
 *   aborted: false,
 *   sourceState: "running",
 * });
 * console.log(error.message); // Cannot migrate domain "web1" to ...: Connection refused; it stays on the source (running)
 * ```
 */
export class MigrationError extends Error {
  /** The domain's name. */
  readonly domain: string;
  /** The destination URI. */
  readonly destination: string;
  /** True when the signal aborted it. */
  readonly aborted: boolean;
  /** The domain's state on the source afterwards ("running", ...), or undefined when unreadable. */
  readonly sourceState: string | undefined;

  /**
   * Makes the error.
   *
   * @param domain the domain's name
   * @param destination the destination URI
   * @param parts why, whether aborted, the source state
   */
  constructor(
    domain: string,
    destination: string,
    parts: { cause: unknown; aborted: boolean; sourceState: string | undefined },
  ) {
    const why = parts.cause instanceof Error ? parts.cause.message : String(parts.cause);
    super(
      `Cannot migrate domain ${JSON.stringify(domain)} to ${JSON.stringify(destination)}: ${
        parts.aborted ? "aborted" : why
      }; it stays on the source (${parts.sourceState ?? "state unknown"})`,
      { cause: parts.cause },
    );
    this.name = "MigrationError";
    this.domain = domain;
    this.destination = destination;
    this.aborted = parts.aborted;
    this.sourceState = parts.sourceState;
  }
}

const JOB_TYPES = ["none", "bounded", "unbounded", "completed", "failed", "cancelled"] as const;

function num(value: unknown): number | undefined {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number") return value;
  return undefined;
}

/**
 * A job sample in plain numbers.
 *
 * @param type the job type libvirt returned
 * @param stats the typed parameters libvirt returned
 * @returns the sample
 * @example
 * ```ts
 * import { migrationProgress } from "@deno-libvirt/deno-libvirt";
 * const p = migrationProgress(2, { data_processed: 10n, data_remaining: 90n, data_total: 100n });
 * console.log(p.type, p.dataProcessed, p.dataTotal); // unbounded 10 100
 * ```
 */
export function migrationProgress(type: number, stats: JobStats): MigrationProgress {
  const p: MigrationProgress = {
    type: JOB_TYPES[type] ?? "none",
    dataProcessed: num(stats.data_processed) ?? 0,
    dataRemaining: num(stats.data_remaining) ?? 0,
    dataTotal: num(stats.data_total) ?? 0,
    elapsedMs: num(stats.time_elapsed) ?? 0,
    stats,
  };
  const bps = num(stats.memory_bps);
  if (bps !== undefined) p.memoryBps = bps;
  const iteration = num(stats.memory_iteration);
  if (iteration !== undefined) p.memoryIteration = iteration;
  return p;
}

function checkMigrateOptions(options: MigrateOptions): void {
  if (
    options.bandwidth !== undefined && (!Number.isSafeInteger(options.bandwidth) || options.bandwidth < 0)
  ) {
    throw new RangeError(
      `Cannot migrate: options.bandwidth is ${options.bandwidth}: pass a whole number of MiB/s (0: no limit)`,
    );
  }
  const interval = options.progressIntervalMs;
  if (interval !== undefined && (!Number.isFinite(interval) || interval < 10)) {
    throw new RangeError(`Cannot migrate: options.progressIntervalMs is ${interval}: pass at least 10`);
  }
  if (options.migrateUri !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(options.migrateUri)) {
    throw new TypeError(
      `Cannot migrate: options.migrateUri ${
        JSON.stringify(options.migrateUri)
      } is not a URI such as tcp://10.0.0.2`,
    );
  }
}

/**
 * The destination as {@link migrateDomain} takes it, checked before any libvirt call: a URI, or an
 * open Connection (from this process's side; for peer to peer only its URI is used).
 */
function checkDestination(destination: unknown, peerToPeer: boolean): void {
  const pass =
    `pass the destination's libvirt URI (a string such as "qemu+tcp://10.0.0.2/system") or an open Connection to it`;
  if (typeof destination === "string" && destination !== "") {
    if (peerToPeer) return;
    throw new TypeError(
      "Cannot migrate: options.peerToPeer is false, so destination must be a Connection (this process drives both hosts)",
    );
  }
  if (destination instanceof Connection) {
    if (!destination.closed) return;
    throw new TypeError(
      `Cannot migrate: destination is a closed Connection to ${
        JSON.stringify(destination.uri)
      }: pass an open Connection to the destination (or its URI)`,
    );
  }
  const handle = (destination as { connection?: unknown } | null)?.connection instanceof Connection;
  throw new TypeError(
    `Cannot migrate: destination is ${describeValue(destination)}: ${pass}${
      handle ? "; a handle's own connection is its .connection" : ""
    }`,
  );
}

/**
 * Checks the options and builds the migration call: the destination URI, the typed parameters and the
 * flags (which depend on whether the domain is persistent).
 */
async function migrationCall(
  dom: Domain,
  destination: string | Connection,
  options: MigrateOptions,
): Promise<{
  peerToPeer: boolean;
  destUri: string;
  params: MigrateParams<number | bigint>;
  flags: {
    live: boolean;
    peer2peer: boolean;
    persistDest: boolean;
    undefineSource: boolean;
    unsafe: boolean;
  };
}> {
  checkMigrateOptions(options);
  const peerToPeer = options.peerToPeer ?? true;
  checkDestination(destination, peerToPeer);
  const destUri = typeof destination === "string" ? destination : destination.uri;
  options.signal?.throwIfAborted();
  const persistent = await dom.isPersistent();
  const persistDest = options.persistDest ?? persistent;
  const flags = {
    live: options.live ?? true,
    peer2peer: peerToPeer,
    persistDest,
    undefineSource: options.undefineSource ?? persistDest,
    unsafe: options.unsafe ?? false,
  };
  const params: MigrateParams<number | bigint> = {};
  if (options.bandwidth) params.bandwidth = options.bandwidth;
  if (options.migrateUri) params.migrate_uri = options.migrateUri;
  if (options.destinationXml) params.destination_xml = options.destinationXml;
  if (options.persistentXml) params.persistent_xml = options.persistentXml;
  Object.assign(params, options.params ?? {});
  return { peerToPeer, destUri, params, flags };
}

/**
 * After a failed migration: the signal's reason when it was aborted (the state on the source in the
 * cause), else a MigrationError with the source's state.
 */
async function migrationFailure(
  dom: Domain,
  destUri: string,
  watched: Domain | undefined,
  aborted: boolean,
  options: MigrateOptions,
  error: unknown,
): Promise<never> {
  let sourceState: string | undefined;
  try {
    if (watched) sourceState = (await watched.state()).state;
  } catch {
    sourceState = undefined;
  }
  // an abort rejects with the signal's reason (the house rule), the state on the source in its cause
  if (aborted || options.signal?.aborted) {
    throw options.signal!.reason ??
      new MigrationError(dom.name, destUri, { cause: error, aborted: true, sourceState });
  }
  throw new MigrationError(dom.name, destUri, { cause: error, aborted: false, sourceState });
}

/**
 * Migrates a running domain to another host (virDomainMigrateToURI3 peer to peer, or
 * virDomainMigrate3 from this process), sampling the job for progress and aborting it on the signal.
 * A migration that fails or is aborted leaves the guest on the source, running as before: the
 * {@link MigrationError} says in which state it was found there.
 *
 * @param dom the domain, on a connection to the source host
 * @param destination the destination's libvirt URI (as the source host reaches it, for peer to peer),
 *   or a connection to it
 * @param options live, peer to peer, bandwidth, migration URI, persistence, signal, progress
 * @returns the destination, the time taken and the last job sample
 * @throws {MigrationError} when libvirt refuses or fails the migration, with the libvirt error as
 *   `cause` and the domain's state on the source as `sourceState`
 * @throws the signal's reason when the signal aborted the migration (the guest stays on the source)
 * @throws {TypeError} for a bad option (a malformed `migrateUri`, peer to peer off without a connection),
 *   or a destination that is neither a URI nor an open Connection (before any libvirt call)
 * @throws {RangeError} for a negative or fractional `bandwidth`, a `progressIntervalMs` under 10
 * @example
 * ```ts
 * import { Connection, lookupDomain, migrateDomain, MigrationError } from "@deno-libvirt/deno-libvirt";
 * // evacuate a guest to a second host, at most 100 MiB/s, giving up after a minute
 * export async function evacuate(name: string): Promise<void> {
 *   await using conn = await Connection.open("qemu:///system");
 *   using dom = await lookupDomain(conn, name);
 *   try {
 *     await migrateDomain(dom, "qemu+tcp://10.0.0.2/system", {
 *       migrateUri: "tcp://10.0.0.2",
 *       bandwidth: 100,
 *       signal: AbortSignal.timeout(60_000),
 *       onProgress: (p) => console.log(`${p.dataProcessed} of ${p.dataTotal} bytes`),
 *     });
 *   } catch (error) {
 *     if (error instanceof MigrationError) console.log(`still on the source: ${error.sourceState}`);
 *     else throw error;
 *   }
 * }
 * ```
 */
export async function migrateDomain(
  dom: Domain,
  destination: string | Connection,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const { peerToPeer, destUri, params, flags } = await migrationCall(dom, destination, options);

  const ownMonitor = options.monitor === undefined;
  const monitor = options.monitor ?? await Connection.open(dom.connection.uri);
  let watched: Domain | undefined;
  const started = performance.now();
  let samples = 0;
  let lastProgress: MigrationProgress | undefined;
  let aborted = false;
  try {
    watched = await lookupDomain(monitor, dom.uuid, { fresh: true });
    const migration = peerToPeer
      ? dom.migrateToUri3(destUri, params, flags)
      : dom.migrate3(destination as Connection, params, flags).then((d) => d.free());
    let settled = false;
    const outcome = migration.then(() => {
      settled = true;
    }, (error) => {
      settled = true;
      throw error;
    });
    outcome.catch(() => {});
    const onAbort = () => {
      aborted = true;
      watched!.abortJob().catch(() => {}); // no job (yet/any more): the migration's own outcome says
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const every = options.progressIntervalMs ?? 250;
      while (!settled) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          outcome.catch(() => {}),
          new Promise((r) => timer = setTimeout(r, every)),
        ]);
        clearTimeout(timer);
        if (settled) break;
        try {
          const { type, params: stats } = await watched.getJobStats();
          if (type === DomainJobType.NONE) continue;
          lastProgress = migrationProgress(type, stats);
          samples++;
          try {
            options.onProgress?.(lastProgress);
          } catch {
            // a progress display must not break the migration
          }
        } catch {
          // the job ended between the check and the call, or the domain left: the outcome says
        }
        // an abort that came before the job existed: ask again once it does
        if (aborted && !settled) await watched.abortJob().catch(() => {});
      }
      await outcome;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  } catch (error) {
    await migrationFailure(dom, destUri, watched, aborted, options, error);
  } finally {
    watched?.free();
    if (ownMonitor) await monitor.close();
  }
  return {
    name: dom.name,
    destination: destUri,
    tookMs: Math.round(performance.now() - started),
    samples,
    ...(lastProgress ? { lastProgress } : {}),
  };
}
