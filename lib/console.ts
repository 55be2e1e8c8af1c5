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
 * @module
 */
import type { Domain } from "./domain.ts";
import { isLibvirtError } from "./errors.ts";
import type { Stream } from "./stream.ts";

/** Bounds of a console log. */
export interface ConsoleLogOptions {
  /** The largest size of the log file in bytes; a write past it rotates the file. Default 1 MiB. */
  maxBytes?: number;
  /** Rotated files kept beside the log (`NAME.1` is the newest); 0 keeps none. Default 1. */
  rotations?: number;
  /** Bytes of the newest output kept in memory for {@link ConsoleCapture.tail}. Default 64 KiB. */
  tailBytes?: number;
}

/** Options for {@link captureStream}. */
export interface CaptureStreamOptions extends ConsoleLogOptions {
  /**
   * The log file, appended to (created with mode 0600, its folder with 0700: consoles show what is
   * typed, passwords included; an existing log readable by others is made 0600, and a symbolic link or
   * anything but a regular file is refused). Without it the capture keeps only the in-memory tail.
   */
  path?: string;
  /** A line written to the log when the capture starts (after a timestamp), e.g. how it attached. */
  note?: string;
  /** Free the source stream when the capture closes (the stream is then the capture's). Default false. */
  ownsStream?: boolean;
}

/** Options for {@link captureConsole}. */
export interface CaptureConsoleOptions extends CaptureStreamOptions {
  /** The console or serial device alias ("serial0"); default the domain's first console. */
  devName?: string;
  /**
   * `VIR_DOMAIN_CONSOLE_FORCE`: take the console over from another session (which then ends).
   * Default false: a console someone is typing into is theirs, and opening it fails
   * ({@link isConsoleBusy}).
   */
  force?: boolean;
  /**
   * `VIR_DOMAIN_CONSOLE_SAFE`: refuse on drivers that cannot guarantee exclusive access (two readers
   * would each get part of the output). Default true.
   */
  safe?: boolean;
}

/** Options for {@link ConsoleCapture.tail}. */
export interface ConsoleTailOptions {
  /** The last this many lines. Default 20. */
  lines?: number;
}

/** Options for {@link ConsoleCapture.waitFor}. */
export interface ConsoleWaitOptions {
  /** Give up after this many ms (rejects with a "TimeoutError"). Default: no limit. */
  timeoutMs?: number;
  /** Stops waiting; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The byte-stream side of a console: a {@link Stream}, or anything with the same readable/writable pair. */
export interface ConsoleEndpoint {
  /** Output of the guest. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Input to the guest. */
  readonly writable: WritableStream<Uint8Array>;
  /** What it is, for messages: `console of domain "web1"`. */
  readonly label?: string;
}

const KiB = 1024;
const DEFAULTS = { maxBytes: 1024 * KiB, rotations: 1, tailBytes: 64 * KiB };

function checkInteger(value: number | undefined, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid ${field} ${JSON.stringify(value)}: pass a whole number from ${min} to ${max}`,
    );
  }
}

/**
 * Checks console log options; `prefix` names the option group in the message ("consoles.").
 *
 * @param options the options to check
 * @param prefix what the field names are prefixed with in messages
 * @throws {RangeError} naming the field and its allowed values
 * @example
 * ```ts
 * import { checkConsoleLogOptions } from "@deno-libvirt/deno-libvirt";
 * checkConsoleLogOptions({ maxBytes: 65_536, rotations: 2 }); // fine
 * ```
 */
export function checkConsoleLogOptions(options: ConsoleLogOptions, prefix = ""): void {
  checkInteger(options.maxBytes, `${prefix}maxBytes`, 4 * KiB, 2 ** 40);
  checkInteger(options.rotations, `${prefix}rotations`, 0, 100);
  checkInteger(options.tailBytes, `${prefix}tailBytes`, 256, 64 * 1024 * KiB);
}

/**
 * Console output as text for people: escape sequences (colours, cursor moves) and control characters
 * other than newline and tab removed, CR LF as LF.
 *
 * @param text raw console text
 * @returns the cleaned text
 * @example
 * ```ts
 * import { cleanConsoleText } from "@deno-libvirt/deno-libvirt";
 * console.log(cleanConsoleText("\x1b[1mready\x1b[0m\r\n")); // "ready\n"
 * ```
 */
export function cleanConsoleText(text: string): string {
  return text
    .replace(CSI, "")
    .replace(OSC, "")
    .replace(ESC_OTHER, "")
    .replace(/\r+\n/g, "\n")
    .replace(/\r/g, "\n")
    .replace(CONTROLS, "");
}

// deno-lint-ignore no-control-regex
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]/g; // colours, cursor moves
// deno-lint-ignore no-control-regex
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g; // window titles
// deno-lint-ignore no-control-regex
const ESC_OTHER = /\x1b[@-_]/g;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g; // all but tab and newline

/**
 * Opens a log for appending. A symbolic link or anything but a regular file is refused: the guests'
 * output (text a range's trainees control) would otherwise land wherever a link planted in a shared
 * log folder points, in any file the capturing process may write; a FIFO would block the open. An
 * existing log readable by others is made private (0600) before anything is added.
 */
async function openLog(path: string): Promise<Deno.FsFile> {
  const refuse = (info: Deno.FileInfo) => {
    if (info.isSymlink) {
      throw new Error(
        `Cannot log to ${JSON.stringify(path)}: it is a symbolic link (a capture never writes through one: ` +
          "remove it, or log to another folder)",
      );
    }
    if (!info.isFile) {
      throw new Error(`Cannot log to ${JSON.stringify(path)}: it is not a regular file`);
    }
  };
  const before = await Deno.lstat(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  });
  if (before) refuse(before);
  const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  try {
    const opened = await file.stat();
    const now = await Deno.lstat(path);
    refuse(now);
    if (!opened.isFile || opened.ino !== now.ino || opened.dev !== now.dev) {
      throw new Error(`Cannot log to ${JSON.stringify(path)}: it was replaced while being opened`);
    }
    if ((opened.mode ?? 0) & 0o077) await Deno.chmod(path, 0o600);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/** A log file that never grows past maxBytes: a write that would rotates it first. */
class RotatingLog {
  #file: Deno.FsFile | undefined;
  #size = 0;
  constructor(readonly path: string, readonly maxBytes: number, readonly rotations: number) {}

  async open(): Promise<void> {
    const slash = this.path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(this.path.slice(0, slash), { recursive: true, mode: 0o700 });
    this.#file = await openLog(this.path);
    this.#size = (await this.#file.stat()).size;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      if (this.#size >= this.maxBytes) await this.#rotate();
      const part = bytes.subarray(at, at + (this.maxBytes - this.#size));
      for (let done = 0; done < part.length;) done += await this.#file!.write(part.subarray(done));
      this.#size += part.length;
      at += part.length;
    }
  }

  async #rotate(): Promise<void> {
    this.#file?.close();
    this.#file = undefined;
    if (this.rotations === 0) {
      await Deno.remove(this.path).catch(() => {});
    } else {
      for (let i = this.rotations - 1; i >= 1; i--) {
        await Deno.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
      }
      // a log removed meanwhile (someone cleared the folder) is simply started anew
      await Deno.rename(this.path, `${this.path}.1`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    this.#file = await openLog(this.path);
    this.#size = 0;
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

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
 * import { captureStream } from "@deno-libvirt/deno-libvirt";
 * const output = ReadableStream.from([new TextEncoder().encode("LAB: dhcp bound ip=10.0.0.5\r\n")]);
 * await using capture = await captureStream({ readable: output, writable: new WritableStream() });
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

/** Options for {@link attachConsole}. */
export interface AttachConsoleOptions {
  /** The byte that detaches (not sent). Default 0x1d (Ctrl-]); `null`: none. */
  escape?: number | null;
  /**
   * Once the input has ended, detach when the console was quiet this long, ms. Default 1,000.
   * (Piped input: the last command's output still arrives.) Not used with `until`.
   */
  lingerMs?: number;
  /**
   * Detach as soon as the output matches (cleaned text, {@link cleanConsoleText}); the end of the
   * input then does not detach (bound the wait with `signal`).
   */
  until?: RegExp;
  /** Detaches; resolves with reason "aborted". */
  signal?: AbortSignal;
}

/** Why {@link attachConsole} returned, and what moved. */
export interface AttachResult {
  /**
   * "escape": the escape byte; "input-ended": the input ended and the console went quiet;
   * "until": the output matched; "console-ended": the guest side ended; "aborted": the signal.
   */
  reason: "escape" | "input-ended" | "until" | "console-ended" | "aborted";
  /** Bytes sent to the guest. */
  sentBytes: number;
  /** Bytes received from the guest. */
  receivedBytes: number;
}

/**
 * Connects a console to an input and an output: bytes from `input` go to the guest (until the escape
 * byte), the guest's output goes to `output`. The console stream is left open (close it yourself);
 * the output is not closed. A script puts the terminal in raw mode around this (scripts/range.ts).
 *
 * @param endpoint the console: a {@link Stream} from `dom.openConsole()`, or any readable/writable pair
 * @param input what is typed (e.g. `Deno.stdin.readable`)
 * @param output where the guest's output goes (e.g. `Deno.stdout.writable`)
 * @param options escape, lingerMs, until, signal
 * @returns why it detached and the bytes moved
 * @throws {Error} when writing to the guest or to the output fails
 * @example
 * ```ts
 * import { attachConsole } from "@deno-libvirt/deno-libvirt";
 * const guest = new TransformStream<Uint8Array, Uint8Array>(); // an echoing "console"
 * const typed = ReadableStream.from([new TextEncoder().encode("hi\n\x1d")]);
 * const result = await attachConsole(guest, typed, new WritableStream());
 * console.log(result.reason, result.sentBytes); // "escape" 3
 * ```
 */
export async function attachConsole(
  endpoint: ConsoleEndpoint,
  input: ReadableStream<Uint8Array>,
  output: WritableStream<Uint8Array>,
  options: AttachConsoleOptions = {},
): Promise<AttachResult> {
  const escape = options.escape === undefined ? 0x1d : options.escape;
  if (escape !== null) checkInteger(escape, "escape", 0, 255);
  const lingerMs = options.lingerMs ?? 1_000;
  checkInteger(lingerMs, "lingerMs", 0, 2 ** 31 - 1);
  const result: AttachResult = { reason: "console-ended", sentBytes: 0, receivedBytes: 0 };
  let settle!: (reason: AttachResult["reason"]) => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<AttachResult["reason"]>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  let inputEnded = false;
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  const linger = () => {
    clearTimeout(lingerTimer);
    if (inputEnded && !options.until) lingerTimer = setTimeout(() => settle("input-ended"), lingerMs);
  };
  const abort = () => settle("aborted");
  if (options.signal?.aborted) return { ...result, reason: "aborted" };
  options.signal?.addEventListener("abort", abort, { once: true });

  const guestOut = endpoint.readable.getReader();
  const out = output.getWriter();
  const guestIn = endpoint.writable.getWriter();
  const typed = input.getReader();
  let window = "";
  const decoder = new TextDecoder();
  const fromGuest = (async () => {
    for (;;) {
      const { done: end, value } = await guestOut.read();
      if (end) return settle("console-ended");
      result.receivedBytes += value.length;
      await out.write(value);
      if (options.until) {
        window = (window + cleanConsoleText(decoder.decode(value, { stream: true }))).slice(-8192);
        if (options.until.test(window)) return settle("until");
      }
      linger();
    }
  })();
  const toGuest = (async () => {
    for (;;) {
      const { done: end, value } = await typed.read();
      if (end) {
        inputEnded = true;
        linger();
        return;
      }
      const at = escape === null ? -1 : value.indexOf(escape);
      const part = at < 0 ? value : value.subarray(0, at);
      if (part.length > 0) {
        await guestIn.write(part);
        result.sentBytes += part.length;
      }
      if (at >= 0) return settle("escape");
    }
  })();
  fromGuest.catch(fail);
  toGuest.catch(fail);
  try {
    result.reason = await done;
    return result;
  } finally {
    clearTimeout(lingerTimer);
    options.signal?.removeEventListener("abort", abort);
    // let go of everything without closing the console: its stream stays usable (and is the caller's)
    await typed.cancel().catch(() => {});
    typed.releaseLock();
    guestIn.releaseLock();
    out.releaseLock();
    // a pending read on the console: release the lock (rejects that read, which is ours to swallow)
    guestOut.releaseLock();
    await Promise.allSettled([fromGuest, toGuest]);
  }
}
