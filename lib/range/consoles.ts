/**
 * The consoles of a range's guests, captured by `upRange` into one log per guest (docs/range.md,
 * "Consoles"): `<dir>/<guest>.log`, dir defaulting to `range-consoles/<range>` under the working
 * directory. A guest `up` starts is started paused, its console opened, then resumed, so the log has
 * its boot from the first byte; a guest already running is attached to as it is.
 *
 * Captures run on their own connection per host (not the range's pool: the pool may close idle
 * connections, and its caller closes it when `up` returns). `up` closes them when it returns unless
 * `consoles.keepOpen` is set: then the caller gets the {@link RangeConsoles} handle and closes it.
 *
 * @example
 * ```ts
 * import { PoolRegistry } from "@deno-libvirt/deno-libvirt";
 * import { type Range, upRange } from "@deno-libvirt/deno-libvirt/range";
 * // bring a range up and keep its consoles captured until a guest shows its login prompt
 * async function upUntilLogin(range: Range, guest: string): Promise<void> {
 *   await using pools = new PoolRegistry();
 *   const result = await upRange(range, pools, { consoles: { dir: "logs", keepOpen: true } });
 *   await using consoles = result.consoleCapture!;
 *   await consoles.get(guest)?.waitFor(/login:/, { timeoutMs: 120_000 });
 * }
 * ```
 *
 * @module
 */
import { Connection } from "../connection.ts";
import {
  captureConsole,
  checkConsoleLogOptions,
  type ConsoleCapture,
  type ConsoleLogOptions,
  isConsoleBusy,
} from "../console.ts";
import { type Domain, type LifecycleResult, lookupDomain, resumeDomain, startDomain } from "../domain.ts";
import { ErrorCode, isLibvirtError, isNotSupported, isOperationInvalid } from "../errors.ts";
import type { ExpandedGuest, Range } from "./description.ts";

/** How `upRange` captures the guests' consoles (`UpOptions.consoles`). */
export interface RangeConsoleOptions extends ConsoleLogOptions {
  /** The folder of the logs, one `<guest>.log` each. Default `range-consoles/<range name>` (relative). */
  dir?: string;
  /**
   * Keep capturing after `up` returns: the result's `consoleCapture` is then the caller's to close.
   * Default false: the logs cover the boot up to the moment `up` returns.
   */
  keepOpen?: boolean;
  /**
   * Take a console over from another session (`VIR_DOMAIN_CONSOLE_FORCE`). Default false: a console
   * in use (someone's `virsh console`) is left alone and that guest's capture is skipped.
   */
  force?: boolean;
  /**
   * Opens the captures' connection to a host (one per host, closed with the captures). Default
   * `Connection.open(uri)`; pass one with `auth` or `keepAlive` options for hosts that need them.
   */
  open?: (uri: string) => Promise<Connection>;
}

/** One guest's capture as `up` reports it. */
export interface GuestConsole {
  /** The guest's domain name. */
  name: string;
  /** The id of its host. */
  host: string;
  /** "captured": a log is written; "skipped": no capture, `reason` says why. */
  status: "captured" | "skipped";
  /** The log file (captured guests). */
  path?: string;
  /** True when the capture began before the guest ran (started paused): the log has its whole boot. */
  fromBoot: boolean;
  /** Bytes captured so far. */
  bytes: number;
  /** Why the guest is skipped, or why its capture ended. */
  reason?: string;
}

const TEST_DRIVER = "the test driver has no console streams: nothing to capture";

/**
 * The console captures of one range: one per guest, on one connection per host. Made by `upRange`
 * (`consoles` option); close it (`await using`) when `keepOpen` handed it to you.
 *
 * @example
 * ```ts
 * import { RangeConsoles, validateRange } from "@deno-libvirt/deno-libvirt/range";
 * const range = validateRange({
 *   name: "lab",
 *   hosts: [{ id: "h1", uri: "test:///default" }],
 *   storage: { pool: "default-pool" },
 *   guests: [{ id: "web", memory: 64 }],
 * });
 * await using consoles = new RangeConsoles(range, { dir: "/tmp/lab-consoles" });
 * console.log(consoles.logPath("lab-web-1")); // "/tmp/lab-consoles/lab-web-1.log"
 * ```
 */
export class RangeConsoles {
  readonly #range: Range;
  readonly #dir: string;
  readonly #options: RangeConsoleOptions;
  readonly #captures = new Map<string, ConsoleCapture>();
  readonly #info = new Map<string, GuestConsole>();
  readonly #connections = new Map<string, Promise<Connection>>();
  #closed = false;

  /**
   * Prepares the captures of a range (no I/O until a guest is started).
   *
   * @param range the range (validated)
   * @param options dir, bounds, keepOpen, force
   * @throws {RangeError} for bad bounds, naming the option
   * @throws {TypeError} for a bad dir
   */
  constructor(range: Range, options: RangeConsoleOptions = {}) {
    checkConsoleLogOptions(options, "consoles.");
    if (
      options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "" ||
        options.dir.includes("\0"))
    ) {
      throw new TypeError(`Invalid consoles.dir ${JSON.stringify(options.dir)}: pass a folder path`);
    }
    this.#range = range;
    this.#dir = (options.dir ?? `range-consoles/${range.name}`).replace(/\/+$/, "") || "/";
    this.#options = options;
  }

  /** The folder of the logs. */
  get dir(): string {
    return this.#dir;
  }

  /** The log file of a guest (whether or not it is captured). */
  logPath(guest: string): string {
    return `${this.#dir === "/" ? "" : this.#dir}/${guest}.log`;
  }

  /**
   * The capture of a guest, while it has one.
   *
   * @param guest the guest's domain name
   * @returns its capture, or undefined (skipped, or not started by this handle)
   */
  get(guest: string): ConsoleCapture | undefined {
    return this.#captures.get(guest);
  }

  /**
   * The console tail of a guest for an explanation: its last lines, or why there is none.
   *
   * @param guest the guest's domain name
   * @param lines how many lines (default 20)
   * @returns text for people
   */
  tail(guest: string, lines = 20): string {
    const capture = this.#captures.get(guest);
    if (capture) return capture.tail({ lines });
    const info = this.#info.get(guest);
    return `(console not captured: ${info?.reason ?? "not started by this up"})`;
  }

  /**
   * Every guest's capture status, in description order.
   *
   * @returns one entry per guest this handle saw
   */
  summary(): GuestConsole[] {
    const order = new Map(this.#range.guests.map((g, i) => [g.name, i]));
    return [...this.#info.values()]
      .map((i) => {
        const capture = this.#captures.get(i.name);
        if (!capture) return { ...i };
        // a capture closed on purpose has nothing to explain; one that ended by itself says why
        const ended = capture.state === "ended" ? { reason: capture.endReason } : {};
        return { ...i, bytes: capture.bytes, ...ended };
      })
      .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  }

  #skip(guest: ExpandedGuest, reason: string): void {
    this.#info.set(guest.name, {
      name: guest.name,
      host: guest.hostId,
      status: "skipped",
      fromBoot: false,
      bytes: 0,
      reason,
    });
  }

  /** Why this process may not write the logs, or undefined. Asks, never prompts. */
  #writeRefused(): string | undefined {
    const state = Deno.permissions.querySync({ name: "write", path: this.#dir }).state;
    return state === "granted"
      ? undefined
      : `no write permission for ${
        JSON.stringify(this.#dir)
      } (run with --allow-write=${this.#dir}, or pass consoles: false)`;
  }

  #connection(guest: ExpandedGuest): Promise<Connection> {
    const uri = this.#range.description.hosts.find((h) => h.id === guest.hostId)!.uri;
    let conn = this.#connections.get(uri);
    if (!conn) {
      conn = (this.#options.open ?? ((u: string) => Connection.open(u)))(uri);
      conn.catch(() => this.#connections.delete(uri));
      this.#connections.set(uri, conn);
    }
    return conn;
  }

  /**
   * Starts a guest with its console captured from the first byte (started paused, console opened,
   * resumed), or, when it runs already, attaches to it. A console that cannot be captured (test
   * driver, no write permission, in use, unsupported) skips that guest's capture with the reason;
   * only the start itself can fail.
   *
   * @param domain the guest's domain (on the range's pool connection)
   * @param guest the guest
   * @returns what starting did (as `startDomain(domain, { ifNeeded: true, states: false })`)
   * @throws {LibvirtError} when starting or resuming the guest fails
   */
  async start(domain: Domain, guest: ExpandedGuest): Promise<LifecycleResult> {
    const plain = () => startDomain(domain, { ifNeeded: true, states: false });
    if (this.#closed) {
      this.#skip(guest, "the range's consoles were closed");
      return await plain();
    }
    if (guest.type === "test") {
      this.#skip(guest, TEST_DRIVER);
      return await plain();
    }
    const refused = this.#writeRefused();
    if (refused) {
      this.#skip(guest, refused);
      return await plain();
    }
    let result: LifecycleResult;
    try {
      result = await startDomain(domain, { ifNeeded: true, states: false, paused: true });
    } catch (error) {
      // running already (starting paused is no no-op for startDomain's ifNeeded: it refuses), or a
      // driver that cannot start paused (the test driver): start as usual, attach right after
      const noPause = isLibvirtError(error, ErrorCode.INVALID_ARG) && /unsupported flags/.test(error.message);
      if (!noPause && !isOperationInvalid(error)) throw error;
      result = await plain();
      await this.#capture(guest, false);
      return result;
    }
    try {
      await this.#capture(guest, result.changed);
    } finally {
      if (result.changed) await resumeDomain(domain, { states: false });
    }
    return result;
  }

  async #capture(guest: ExpandedGuest, fromBoot: boolean): Promise<void> {
    const path = this.logPath(guest.name);
    if (this.#closed) {
      // closed while this guest was starting: a connection opened now would never be closed
      this.#skip(guest, "the range's consoles were closed");
      return;
    }
    try {
      const conn = await this.#connection(guest);
      using dom = await lookupDomain(conn, guest.name);
      const capture = await captureConsole(dom, {
        ...this.#options,
        path,
        force: this.#options.force ?? false,
        note: fromBoot
          ? "from boot (started paused by range up)"
          : "attached to a running guest: its boot is not in this log",
      });
      if (this.#closed) {
        await capture.close();
        throw new Error("the range's consoles were closed");
      }
      this.#captures.set(guest.name, capture);
      this.#info.set(guest.name, {
        name: guest.name,
        host: guest.hostId,
        status: "captured",
        path,
        fromBoot,
        bytes: 0,
      });
    } catch (error) {
      const reason = isNotSupported(error)
        ? "the driver has no console streams"
        : isConsoleBusy(error)
        ? "the console is in use by another session (consoles.force takes it over)"
        : `cannot capture the console: ${(error as Error).message}`;
      this.#skip(guest, reason);
    }
  }

  /**
   * Stops every capture (each log gets a closing line) and closes the capture connections. Idempotent.
   *
   * @returns once all are closed
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#captures.values()].map((c) => c.close()));
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.allSettled(connections.map(async (c) => await (await c).close()));
  }

  /** {@link close} (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
