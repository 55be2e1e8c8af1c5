/**
 * Guest consoles for people and programs: {@link captureConsole} records a domain's serial console into
 * a size-bounded, rotated log file and keeps its tail in memory (for error messages and for waiting on
 * a line); {@link attachConsole} connects a console to an input and an output (a terminal, pipes)
 * until an escape byte, the end of the input, or the end of the console.
 *
 * Both ride on the stream layer (lib/stream.ts): a nonblocking console stream waits for output
 * without holding its connection's call slot, so a capture can run for hours beside other calls on
 * the same connection. A capture's pending read keeps the process alive: close it (`await using`).
 *
 * @example
 * ```ts
 * import { captureConsole, type Domain } from "@deno-libvirt/deno-libvirt";
 * // the boot log of a running guest, up to its login prompt
 * async function bootLog(dom: Domain): Promise<string> {
 *   await using capture = await captureConsole(dom, { path: "logs/web1.log" });
 *   await capture.waitFor(/login:/, { timeoutMs: 60_000 });
 *   return capture.tail({ lines: 5 });
 * }
 * ```
 *
 * The parts: lib/console/attach.ts (attachConsole), text.ts (cleanConsoleText), limits.ts (the bounds
 * and their check), types.ts (options), and the private _log.ts (the rotated log file).
 *
 * @module
 */
import type { Domain } from "./domain.ts";
import { isLibvirtError } from "./errors.ts";
import type { Stream } from "./stream.ts";
import { RotatingLog } from "./console/_log.ts";
import { checkConsoleLogOptions, DEFAULTS } from "./console/limits.ts";
import { cleanConsoleText } from "./console/text.ts";
import type {
  CaptureConsoleOptions,
  CaptureStreamOptions,
  ConsoleEndpoint,
  ConsoleTailOptions,
  ConsoleWaitOptions,
} from "./console/types.ts";

export { attachConsole, type AttachConsoleOptions, type AttachResult } from "./console/attach.ts";
export { checkConsoleLogOptions } from "./console/limits.ts";
export { cleanConsoleText } from "./console/text.ts";
export type * from "./console/types.ts";

interface Waiter {
  pattern: RegExp;
  /** The newest output as decoded, not cleaned yet: an escape sequence may still be incomplete. */
  window: string;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: unknown) => void;
}

const capturing = Symbol("deno_libvirt.console.capturing");

/**
 * A running capture of a console (or any byte stream) into a log and an in-memory tail. Made by
 * {@link captureConsole} or {@link captureStream}; ends when the console ends (the guest stopped,
 * another session forced the console away) or when closed. Never throws on its own: a failure
 * (the console broke, the disk is full) ends it, with {@link endReason} saying why.
 *
 * @example
 * ```ts
 * import { captureStream, type ConsoleCapture } from "@deno-libvirt/deno-libvirt";
 * const output = ReadableStream.from([new TextEncoder().encode("LAB: dhcp bound ip=10.0.0.5\r\n")]);
 * await using capture: ConsoleCapture = await captureStream({ readable: output, writable: new WritableStream() });
 * const [, ip] = await capture.waitFor(/ip=(\S+)/);
 * console.log(ip, capture.bytes); // "10.0.0.5" 29
 * ```
 */
export class ConsoleCapture {
  readonly #source: ConsoleEndpoint;
  readonly #owns: boolean;
  readonly #log: RotatingLog | undefined;
  readonly #tailBytes: number;
  // the newest output, at most tailBytes in all (whole chunks; the first one trimmed when read)
  #chunks: Uint8Array[] = [];
  #chunkBytes = 0;
  #bytes = 0;
  #state: "capturing" | "ended" | "closed" = "capturing";
  #reason: string | undefined;
  #closing = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #waiters: Waiter[] = [];
  readonly #decoder = new TextDecoder();
  /** Decodes the output chunk by chunk for the waiters: a character may be split between two chunks. */
  readonly #streamDecoder = new TextDecoder();
  readonly #ended: Promise<string>;

  /** @internal */
  constructor(
    token: symbol,
    source: ConsoleEndpoint,
    log: RotatingLog | undefined,
    options: CaptureStreamOptions,
  ) {
    if (token !== capturing) {
      throw new TypeError("Cannot construct a ConsoleCapture directly: use captureConsole()");
    }
    this.#source = source;
    this.#owns = options.ownsStream ?? false;
    this.#log = log;
    this.#tailBytes = options.tailBytes ?? DEFAULTS.tailBytes;
    this.#ended = this.#pump();
  }

  /** What is captured: `console of domain "web1"`. */
  get label(): string {
    return this.#source.label ?? "stream";
  }

  /** The log file, if the capture writes one. */
  get path(): string | undefined {
    return this.#log?.path;
  }

  /** Bytes of output captured so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** "capturing"; "ended" once the console ended or failed; "closed" once {@link close}d. */
  get state(): "capturing" | "ended" | "closed" {
    return this.#state;
  }

  /** Why the capture ended, once it did. */
  get endReason(): string | undefined {
    return this.#reason;
  }

  /** Settles (never rejects) with the reason once the capture ended or was closed. */
  get ended(): Promise<string> {
    return this.#ended;
  }

  /**
   * The newest output as text for people ({@link cleanConsoleText}), at most `lines` lines.
   *
   * @param options how many lines (default 20)
   * @returns the lines, joined with "\n" ("" before any output)
   */
  tail(options: ConsoleTailOptions = {}): string {
    const lines = options.lines ?? 20;
    const text = cleanConsoleText(this.#decoder.decode(this.#tailBytesNow()));
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-Math.max(0, lines)).join("\n");
  }

  /**
   * Waits until output matching `pattern` arrives (already captured output in the tail counts).
   * Matches against cleaned text ({@link cleanConsoleText}).
   *
   * @param pattern a RegExp or a literal string
   * @param options timeoutMs, signal
   * @returns the match
   * @throws {DOMException} "TimeoutError" after `timeoutMs`, with the tail in the message
   * @throws {Error} when the capture ends first, with the reason and the tail
   * @throws the signal's reason on abort
   */
  waitFor(pattern: RegExp | string, options: ConsoleWaitOptions = {}): Promise<RegExpMatchArray> {
    const regex = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : new RegExp(pattern.source, pattern.flags.replace("g", ""));
    const raw = this.#decoder.decode(this.#tailBytesNow());
    const now = cleanConsoleText(raw).match(regex);
    if (now) return Promise.resolve(now);
    if (this.#state !== "capturing") {
      return Promise.reject(this.#endedBefore(regex));
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<RegExpMatchArray>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", abort);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      const abort = () => {
        finish();
        reject(options.signal!.reason);
      };
      const waiter: Waiter = {
        pattern: regex,
        window: raw.slice(-4096),
        resolve: (m) => {
          finish();
          resolve(m);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      this.#waiters.push(waiter);
      options.signal?.addEventListener("abort", abort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(
            new DOMException(
              `Timed out after ${options.timeoutMs} ms waiting for ${regex} on the ${this.label}; ` +
                `its last lines:\n${indent(this.tail())}`,
              "TimeoutError",
            ),
          );
        }, options.timeoutMs);
      }
    });
  }

  #endedBefore(regex: RegExp): Error {
    return new Error(
      `Cannot wait for ${regex} on the ${this.label}: the capture ended (${this.#reason}); ` +
        `its last lines:\n${indent(this.tail())}`,
    );
  }

  /** The last tailBytes bytes of output, as one array. */
  #tailBytesNow(): Uint8Array {
    const all = new Uint8Array(this.#chunkBytes);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all.subarray(Math.max(0, all.length - this.#tailBytes));
  }

  #take(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    // O(chunk) per chunk: whole chunks are kept, and the oldest dropped once the rest cover the tail
    if (chunk.length >= this.#tailBytes) {
      this.#chunks = [chunk.slice(chunk.length - this.#tailBytes)];
      this.#chunkBytes = this.#tailBytes;
    } else {
      this.#chunks.push(chunk);
      this.#chunkBytes += chunk.length;
      while (this.#chunkBytes - this.#chunks[0].length >= this.#tailBytes) {
        this.#chunkBytes -= this.#chunks.shift()!.length;
      }
    }
    // decoded even without waiters, so that a waiter added later does not start mid-character
    const text = this.#streamDecoder.decode(chunk, { stream: true });
    for (const w of [...this.#waiters]) {
      // cleaned as a whole: an escape sequence split between chunks is removed once complete
      w.window = (w.window + text).slice(-(4096 + text.length));
      const m = cleanConsoleText(w.window).match(w.pattern);
      if (m) w.resolve(m);
    }
  }

  async #pump(): Promise<string> {
    let reason = "closed";
    try {
      const reader = this.#source.readable.getReader();
      this.#reader = reader;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          if (!this.#closing) {
            reason = "the console ended (the guest stopped, or another session took the console over)";
          }
          break;
        }
        this.#take(value);
        try {
          await this.#log?.write(value);
        } catch (error) {
          reason = `cannot write ${JSON.stringify(this.#log!.path)}: ${(error as Error).message}`;
          await reader.cancel().catch(() => {});
          break;
        }
      }
    } catch (error) {
      if (!this.#closing) {
        reason = `the console failed: ${
          (error as Error).message
        } (the guest stopped, or another session took the console over with force)`;
      }
    }
    this.#reason = reason;
    if (this.#state === "capturing") this.#state = this.#closing ? "closed" : "ended";
    try {
      await this.#log?.write(
        new TextEncoder().encode(`\n[capture ended ${new Date().toISOString()}: ${reason}]\n`),
      );
    } catch {
      // the log's own failure is the reason already
    }
    this.#log?.close();
    for (const w of [...this.#waiters]) w.reject(this.#endedBefore(w.pattern));
    if (this.#owns) await (this.#source as Partial<Stream>)[Symbol.asyncDispose]?.().catch(() => {});
    return reason;
  }

  /**
   * Stops capturing: cancels the console's read (aborting the stream), writes a closing line, closes
   * the log, and frees the stream when the capture owns it. Idempotent.
   *
   * @returns once the capture has ended
   */
  async close(): Promise<void> {
    if (this.#state === "capturing") {
      this.#closing = true;
      this.#state = "closed";
      await this.#reader?.cancel().catch(() => {});
    }
    await this.#ended;
  }

  /** {@link close} (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** How `console.log` and `Deno.inspect` show the capture. */
  [Symbol.for("Deno.customInspect")](): string {
    return `ConsoleCapture { ${JSON.stringify(this.label)}, ${this.#state}, ${this.#bytes} bytes${
      this.path ? `, ${JSON.stringify(this.path)}` : ""
    } }`;
  }
}

function indent(text: string): string {
  return text ? text.split("\n").map((l) => `    ${l}`).join("\n") : "    (nothing printed)";
}

/**
 * Captures any byte stream (a console or channel {@link Stream}, or a web stream pair) into a
 * size-bounded log and an in-memory tail.
 *
 * @param source what to read: its `readable` is consumed by the capture
 * @param options path (the log; none: tail only), maxBytes, rotations, tailBytes, note, ownsStream
 * @returns the running capture (once its log is open); close it
 * @throws {RangeError} for bad bounds (naming the option)
 * @throws {Deno.errors.PermissionDenied} without write permission for the log
 * @throws {Error} "Cannot log to ...: it is a symbolic link" (or not a regular file) for such a log path
 * @example
 * ```ts
 * import { captureStream } from "@deno-libvirt/deno-libvirt";
 * const bytes = new TextEncoder().encode("LAB: ready\n");
 * const capture = await captureStream({ readable: ReadableStream.from([bytes]), writable: new WritableStream() });
 * await capture.ended;
 * console.log(capture.tail()); // "LAB: ready"
 * ```
 */
export async function captureStream(
  source: ConsoleEndpoint,
  options: CaptureStreamOptions = {},
): Promise<ConsoleCapture> {
  checkConsoleLogOptions(options);
  if (options.path === undefined) return new ConsoleCapture(capturing, source, undefined, options);
  if (typeof options.path !== "string" || options.path === "" || options.path.includes("\0")) {
    throw new TypeError(`Invalid path ${JSON.stringify(options.path)}: pass a file name`);
  }
  const log = new RotatingLog(
    options.path,
    options.maxBytes ?? DEFAULTS.maxBytes,
    options.rotations ?? DEFAULTS.rotations,
  );
  await log.open();
  try {
    await log.write(
      new TextEncoder().encode(
        `\n[capture of the ${source.label ?? "stream"} started ${new Date().toISOString()}${
          options.note ? `: ${options.note}` : ""
        }]\n`,
      ),
    );
  } catch (error) {
    log.close();
    throw error;
  }
  return new ConsoleCapture(capturing, source, log, options);
}

/**
 * True when opening a console failed because another session holds it (pass `force` to take it over).
 *
 * @param error what was thrown
 * @returns whether it is libvirt's "active console session exists"
 * @example
 * ```ts
 * import { isConsoleBusy } from "@deno-libvirt/deno-libvirt";
 * console.log(isConsoleBusy(new Error("x"))); // false
 * ```
 */
export function isConsoleBusy(error: unknown): boolean {
  return isLibvirtError(error) && /active console session exists/i.test(error.message);
}

/**
 * Opens a domain's console (virDomainOpenConsole, nonblocking) and captures it: see
 * {@link captureStream}. The capture owns the stream.
 *
 * @param domain a running domain (its connection must stay open while capturing)
 * @param options path, bounds, devName, force, safe
 * @returns the running capture; close it (`await using`)
 * @throws {NotSupportedError} when the driver has no console streams (test:///default)
 * @throws {LibvirtError} when the domain is not running, or the console is busy ({@link isConsoleBusy})
 * @example
 * ```ts
 * import { captureConsole, Connection, isNotSupported, lookupDomain } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * using dom = await lookupDomain(conn, "test");
 * try {
 *   await using capture = await captureConsole(dom, { path: "test.console.log", maxBytes: 262_144 });
 *   console.log(capture.path);
 * } catch (error) {
 *   console.log(isNotSupported(error)); // true: the test driver has no console streams
 * }
 * ```
 */
export async function captureConsole(
  domain: Domain,
  options: CaptureConsoleOptions = {},
): Promise<ConsoleCapture> {
  checkConsoleLogOptions(options);
  const stream = await domain.openConsole(options.devName, {
    force: options.force ?? false,
    safe: options.safe ?? true,
  });
  try {
    return await captureStream(stream, { ...options, ownsStream: true });
  } catch (error) {
    await stream[Symbol.asyncDispose]();
    throw error;
  }
}
