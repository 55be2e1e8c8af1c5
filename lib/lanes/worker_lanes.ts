/**
 * Worker lanes: whole operations (a fixed sequence of libvirt calls with the JavaScript between them)
 * run in Web Workers, each with its own connection making blocking calls, so that the main thread
 * pays one thread round trip per operation instead of one per call (docs/design.md, "Worker lanes").
 *
 * The operations are declared in a module of their own (its default export,
 * {@link defineLaneOperations}), written with the ordinary library API against the lane's
 * connection; the main thread names an operation and its arguments, typed from that module.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import {
  ANSWER,
  CONTROL_BYTES,
  errorFromRecord,
  type ErrorRecord,
  FAILED,
  INITIAL_BYTES,
  LENGTH,
  MAX_BYTES,
  OP,
  readValue,
  RECONNECTS,
  REQUEST,
  type StartMessage,
  STATUS,
  STOP,
  type WorkerMessage,
  writeValue,
} from "./_wire.ts";

/**
 * One operation a lane can run: called with the lane's own connection and the arguments given to
 * {@link WorkerLanes.run}; may be async. Arguments and the result cross between threads as JSON
 * values plus bigints (no handles, class instances, Maps or typed arrays: a TypeError says which).
 */
// deno-lint-ignore no-explicit-any
export type LaneOperation = (connection: Connection, ...args: any[]) => unknown;

/** The operations of a lane module, by name. */
export type LaneOperations = Record<string, LaneOperation>;

/** The arguments of an operation, after the connection. */
export type LaneArguments<F> = F extends (connection: Connection, ...args: infer A) => unknown ? A : never;

/** What an operation's promise resolves to. */
export type LaneResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * Declares the operations of a lane module: its default export, which {@link WorkerLanes.open} loads
 * in every worker. Returns `operations` unchanged; the type it keeps is what {@link WorkerLanes} checks
 * operation names, arguments and results against (import it with `import type`).
 *
 * @param operations the operations by name
 * @returns `operations`
 * @throws {TypeError} when a value is not a function
 *
 * @example
 * ```ts
 * // lane_ops.ts, loaded in each worker
 * import { defineLaneOperations, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * export default defineLaneOperations({
 *   async lookupInfo(connection, name: string) {
 *     using dom = await lookupDomain(connection, name);
 *     return await dom.info();
 *   },
 * });
 * ```
 */
export function defineLaneOperations<T extends LaneOperations>(operations: T): T {
  for (const [name, operation] of Object.entries(operations)) {
    if (typeof operation !== "function") {
      throw new TypeError(`Cannot define lane operation ${JSON.stringify(name)}: not a function`);
    }
  }
  return operations;
}

/** Options for {@link WorkerLanes.open}. */
export interface WorkerLanesOptions {
  /** Workers, each with one connection: operations in flight at most. Default 4. */
  workers?: number;
  /** Open the connections read-only. */
  readOnly?: boolean;
  /** Credentials for URIs that ask for them (plain values: a callback cannot cross to a worker). */
  auth?: { username?: string; password?: string };
  /** How long an operation may wait for a free lane, ms. Default 30,000. */
  acquireTimeoutMs?: number;
  /** How many operations may wait at once before new ones are refused. Default 10,000. */
  maxWaiting?: number;
}

/** Options for one {@link WorkerLanes.run}. */
export interface LaneRunOptions {
  /** Stops waiting for a free lane (an operation handed to a worker runs to its end). */
  signal?: AbortSignal;
  /** Overrides `acquireTimeoutMs` for this wait. */
  timeoutMs?: number;
}

/** {@link WorkerLanes.stats}. */
export interface WorkerLanesStats {
  /** Workers alive. */
  workers: number;
  /** Operations running now. */
  busy: number;
  /** Operations waiting for a lane. */
  waiting: number;
  /** Operations finished (either way). */
  operations: number;
  /** Operations that threw. */
  errors: number;
  /** Failed operations by error code name (libvirt's `codeName`, else the error's name). */
  errorsByCode: Record<string, number>;
  /** Connections the workers reopened after losing theirs. */
  reconnects: number;
}

/** {@link WorkerLanes.close}: the workers' connections' close reports, summed. */
export interface WorkerLanesCloseReport {
  /** libvirt's references left over all connections (0: nothing leaked). */
  remainingReferences: number;
  /** Handles the closes had to free (an operation that did not free what it looked up). */
  freedHandles: number;
}

interface Lane {
  worker: Worker;
  sab: SharedArrayBuffer;
  slots: Int32Array;
  seq: number;
  reconnects: number;
  closed?: (report: WorkerLanesCloseReport) => void;
  /** Why the worker died (an uncaught error outside any operation), once it did. */
  dead?: Error;
}

interface Waiter {
  resolve: (lane: Lane) => void;
  reject: (reason: unknown) => void;
}

const workerUrl = new URL("./_lane_worker.ts", import.meta.url).href;

/**
 * A fixed number of Web Workers, each with its own connection to one URI, running declared
 * operations ({@link defineLaneOperations}) one at a time each. An operation's calls are blocking
 * calls on its worker's thread: a failed call's error is read right after it on that thread, and
 * reaches the caller as the same typed exception (`NotFoundError`, `ConnectionLostError`, ...). A
 * worker whose connection was lost reopens it before its next operation.
 *
 * @example
 * ```ts ignore
 * import { WorkerLanes } from "@deno-libvirt/deno-libvirt";
 * import type ops from "./lane_ops.ts"; // export default defineLaneOperations({ lookupInfo, ... })
 * await using lanes = await WorkerLanes.open<typeof ops>(
 *   new URL("./lane_ops.ts", import.meta.url),
 *   "qemu:///system",
 *   { workers: 16 },
 * );
 * const infos = await Promise.all(["web1", "web2"].map((name) => lanes.run("lookupInfo", [name])));
 * console.log(infos, lanes.stats());
 * ```
 */
export class WorkerLanes<Ops extends LaneOperations> {
  readonly #uri: string | null;
  readonly #lanes: Lane[];
  readonly #idle: Lane[];
  readonly #index: Map<string, number>;
  readonly #waiters: Waiter[] = [];
  readonly #acquireTimeoutMs: number;
  readonly #maxWaiting: number;
  #busy = 0;
  #operations = 0;
  #errors = 0;
  readonly #errorsByCode: Record<string, number> = {};
  /**
   * Referenced while an operation runs, unreferenced when none does: Atomics.waitAsync alone does not
   * keep Deno's event loop alive (the process would exit with the wait pending), and idle lanes
   * should not keep it alive either. One timer for the lanes' life (ref/unref, not one per operation).
   */
  readonly #keepAlive = setInterval(() => {}, 2 ** 30) as unknown as number;
  #closing: Promise<WorkerLanesCloseReport> | undefined;
  /** Resolves close()'s wait for the running operations. */
  #drained: (() => void) | undefined;

  private constructor(uri: string | null, lanes: Lane[], names: string[], options: WorkerLanesOptions) {
    this.#uri = uri;
    this.#lanes = lanes;
    this.#idle = [...lanes];
    this.#index = new Map(names.map((name, i) => [name, i]));
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.#maxWaiting = options.maxWaiting ?? 10_000;
    Deno.unrefTimer(this.#keepAlive);
  }

  /**
   * Starts the workers: each loads `module` (whose default export is {@link defineLaneOperations}'s)
   * and opens its connection. Resolves once every worker is ready.
   *
   * @param module the operations module's URL (`new URL("./ops.ts", import.meta.url)`)
   * @param uri the libvirt URI every worker opens (null: libvirt's default)
   * @param options workers, read-only, credentials, waiting bounds
   * @returns the lanes, to close with `await using` or {@link WorkerLanes.close}
   * @throws {LibvirtError} when a worker cannot open the URI (the other workers are stopped)
   * @throws {TypeError} when the module's default export is not an object of functions
   *
   * @example
   * ```ts ignore
   * import { WorkerLanes } from "@deno-libvirt/deno-libvirt";
   * import type ops from "./lane_ops.ts";
   * await using lanes = await WorkerLanes.open<typeof ops>(new URL("./lane_ops.ts", import.meta.url), "test:///default");
   * console.log(await lanes.run("lookupInfo", ["test"]));
   * ```
   */
  static async open<Ops extends LaneOperations>(
    module: URL | string,
    uri: string | null,
    options: WorkerLanesOptions = {},
  ): Promise<WorkerLanes<Ops>> {
    const count = options.workers ?? 4;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot open worker lanes: workers must be a positive integer, got ${count}`);
    }
    const href = module instanceof URL ? module.href : new URL(module, "file:///").href;
    const start = (): Promise<{ lane: Lane; names: string[] }> => {
      const sab = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: MAX_BYTES });
      const worker = new Worker(workerUrl, { type: "module" });
      const control = new SharedArrayBuffer(CONTROL_BYTES);
      const lane: Lane = { worker, sab, slots: new Int32Array(control), seq: 0, reconnects: 0 };
      return new Promise((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
          const message = event.data;
          if ("ready" in message) resolve({ lane, names: message.ready });
          else if ("failed" in message) reject(errorFromRecord(message.failed));
          else lane.closed?.(message.closed);
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          const error = new Error(`Cannot run worker lane for ${JSON.stringify(uri)}: ${event.message}`);
          lane.dead = error;
          reject(error);
          // wake an operation waiting for this worker's answer: it finds the lane dead
          Atomics.store(lane.slots, ANSWER, lane.seq);
          Atomics.notify(lane.slots, ANSWER);
          lane.closed?.({ remainingReferences: 0, freedHandles: 0 });
        };
        const message: StartMessage = {
          control,
          sab,
          module: href,
          uri,
          open: { readOnly: options.readOnly, auth: options.auth },
        };
        worker.postMessage(message);
      });
    };
    const started = await Promise.allSettled(Array.from({ length: count }, start));
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      for (const s of started) {
        if (s.status === "fulfilled") s.value.lane.worker.terminate();
      }
      // the workers that failed have ended (or end with their error); make sure
      throw (failed as PromiseRejectedResult).reason;
    }
    const ready = started.map((s) => (s as PromiseFulfilledResult<{ lane: Lane; names: string[] }>).value);
    return new WorkerLanes<Ops>(uri, ready.map((r) => r.lane), ready[0].names, options);
  }

  /**
   * Runs operation `name` on the next free lane with `args` (after the connection), and resolves with
   * its result; rejects with the error the operation threw, as the same class (a libvirt failure as
   * its typed `LibvirtError`, attributed to the call that failed).
   *
   * @param name an operation of the module
   * @param args its arguments after the connection
   * @param options `signal` and `timeoutMs` bound the wait for a free lane
   * @returns the operation's result
   * @throws {TypeError} for an unknown operation or arguments that are not JSON values and bigints
   * @throws {DOMException} `TimeoutError` when no lane came free in time; the signal's reason on abort
   * @throws {RangeError} when `maxWaiting` callers wait already
   * @throws {Error} when the lanes are closed, or the worker died under the operation
   *
   * @example
   * ```ts ignore
   * import { WorkerLanes } from "@deno-libvirt/deno-libvirt";
   * import type ops from "./lane_ops.ts";
   * await using lanes = await WorkerLanes.open<typeof ops>(new URL("./lane_ops.ts", import.meta.url), "test:///default");
   * const info = await lanes.run("lookupInfo", ["test"], { signal: AbortSignal.timeout(5_000) });
   * console.log(info.state);
   * ```
   */
  run<K extends keyof Ops & string>(
    name: K,
    args: LaneArguments<Ops[K]>,
    options?: LaneRunOptions,
  ): Promise<LaneResult<Ops[K]>> {
    const index = this.#index.get(name);
    if (index === undefined) {
      return Promise.reject(
        new TypeError(`Cannot run lane operation ${JSON.stringify(name)}: the module has no such operation`),
      );
    }
    if (this.#closing !== undefined) {
      return Promise.reject(
        new Error(`Cannot run lane operation ${JSON.stringify(name)}: the lanes are closed`),
      );
    }
    let lane = this.#idle.pop();
    while (lane?.dead) lane = this.#idle.pop(); // died while idle
    if (lane !== undefined) return this.#runOn(lane, index, name, args) as Promise<LaneResult<Ops[K]>>;
    return this.#wait(name, options).then((lane) =>
      this.#runOn(lane, index, name, args) as Promise<LaneResult<Ops[K]>>
    );
  }

  async #runOn(lane: Lane, index: number, name: string, args: unknown[]): Promise<unknown> {
    if (this.#busy++ === 0) Deno.refTimer(this.#keepAlive);
    let counted = false;
    try {
      const { slots, sab } = lane;
      slots[LENGTH] = writeValue(sab, args, `the arguments of operation ${JSON.stringify(name)}`);
      slots[OP] = index;
      const seq = ++lane.seq;
      Atomics.store(slots, REQUEST, seq);
      Atomics.notify(slots, REQUEST);
      let answered = Atomics.load(slots, ANSWER);
      while (answered !== seq) {
        const wait = Atomics.waitAsync(slots, ANSWER, answered);
        if (wait.async) await wait.value;
        answered = Atomics.load(slots, ANSWER);
      }
      if (lane.dead) {
        throw new Error(
          `Cannot finish lane operation ${JSON.stringify(name)}: its worker died (${lane.dead.message}); ` +
            "it may or may not have taken effect",
          { cause: lane.dead },
        );
      }
      lane.reconnects = slots[RECONNECTS];
      const value = readValue(sab, slots[LENGTH]);
      if (slots[STATUS] === FAILED) {
        const error = errorFromRecord(value as ErrorRecord);
        this.#count(error);
        counted = true;
        throw error;
      }
      return value;
    } catch (error) {
      if (!counted) this.#count(error);
      throw error;
    } finally {
      this.#operations++;
      this.#release(lane);
    }
  }

  #count(error: unknown): void {
    this.#errors++;
    const code = (error as { codeName?: string }).codeName ?? (error as Error).name ?? "Error";
    this.#errorsByCode[code] = (this.#errorsByCode[code] ?? 0) + 1;
  }

  #release(lane: Lane): void {
    this.#busy--;
    if (lane.dead) {
      lane.worker.terminate();
      if (this.#lanes.every((lane) => lane.dead)) {
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(
            new Error(`Cannot run lane operation: every worker lane died (${lane.dead.message})`),
          );
        }
      }
    } else {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        waiter.resolve(lane);
        return; // still busy: the keepalive stays
      }
      this.#idle.push(lane);
    }
    if (this.#busy === 0) {
      Deno.unrefTimer(this.#keepAlive);
      this.#drained?.();
    }
  }

  #wait(name: string, options: LaneRunOptions = {}): Promise<Lane> {
    if (this.#lanes.every((lane) => lane.dead)) {
      return Promise.reject(
        new Error(`Cannot run lane operation ${JSON.stringify(name)}: every worker died`),
      );
    }
    if (this.#waiters.length >= this.#maxWaiting) {
      return Promise.reject(
        new RangeError(
          `Cannot run lane operation ${JSON.stringify(name)}: ${this.#waiters.length} callers are already ` +
            "waiting (maxWaiting)",
        ),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs = options.timeoutMs ?? this.#acquireTimeoutMs;
    return new Promise<Lane>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (lane) => {
          cleanup();
          resolve(lane);
        },
        reject: (reason) => {
          cleanup();
          reject(reason);
        },
      };
      const remove = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      const timer = setTimeout(() => {
        remove();
        waiter.reject(
          new DOMException(
            `Timed out after ${timeoutMs} ms waiting for a worker lane to ${JSON.stringify(this.#uri)} ` +
              `(all ${this.#lanes.length} busy, ${this.#waiters.length} callers waiting); raise workers or ` +
              "acquireTimeoutMs",
            "TimeoutError",
          ),
        );
      }, timeoutMs);
      const abort = () => {
        remove();
        waiter.reject(signal!.reason);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * The lanes' counters now.
   *
   * @returns workers, busy, waiting, operations, errors (by code), reconnects
   *
   * @example
   * ```ts ignore
   * import { WorkerLanes } from "@deno-libvirt/deno-libvirt";
   * import type ops from "./lane_ops.ts";
   * await using lanes = await WorkerLanes.open<typeof ops>(new URL("./lane_ops.ts", import.meta.url), "test:///default");
   * console.log(lanes.stats()); // { workers: 4, busy: 0, waiting: 0, operations: 0, ... }
   * ```
   */
  stats(): WorkerLanesStats {
    return {
      workers: this.#lanes.filter((lane) => !lane.dead).length,
      busy: this.#busy,
      waiting: this.#waiters.length,
      operations: this.#operations,
      errors: this.#errors,
      errorsByCode: { ...this.#errorsByCode },
      reconnects: this.#lanes.reduce((sum, lane) => sum + lane.reconnects, 0),
    };
  }

  /**
   * Refuses new operations, rejects the waiting ones, lets the running ones finish, then stops every
   * worker (each closes its connection) and resolves with the close reports summed. Idempotent.
   *
   * @returns the connections' close reports, summed
   *
   * @example
   * ```ts ignore
   * import { WorkerLanes } from "@deno-libvirt/deno-libvirt";
   * import type ops from "./lane_ops.ts";
   * const lanes = await WorkerLanes.open<typeof ops>(new URL("./lane_ops.ts", import.meta.url), "test:///default");
   * console.log(await lanes.close()); // { remainingReferences: 0, freedHandles: 0 }
   * ```
   */
  close(): Promise<WorkerLanesCloseReport> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<WorkerLanesCloseReport> {
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(
        new Error(`Cannot run lane operation: the lanes to ${JSON.stringify(this.#uri)} were closed`),
      );
    }
    // the running operations give their lanes back (no waiter is left to take them)
    if (this.#busy > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    clearInterval(this.#keepAlive);
    const reports = await Promise.all(this.#lanes.map((lane) => {
      if (lane.dead) return { remainingReferences: 0, freedHandles: 0 };
      return new Promise<WorkerLanesCloseReport>((resolve) => {
        lane.closed = resolve;
        Atomics.store(lane.slots, REQUEST, STOP);
        Atomics.notify(lane.slots, REQUEST);
      }).finally(() => lane.worker.terminate());
    }));
    return reports.reduce(
      (sum, r) => ({
        remainingReferences: sum.remainingReferences + r.remainingReferences,
        freedHandles: sum.freedHandles + r.freedHandles,
      }),
      { remainingReferences: 0, freedHandles: 0 },
    );
  }

  /** Closes the lanes (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
