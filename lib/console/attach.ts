/**
 * A console attached to a terminal or pipes: typed bytes go to the guest until an escape byte, the
 * guest's output goes to the output, until the input ends and the console goes quiet, the output
 * matches, the console ends or a signal aborts.
 *
 * @module
 */
import { checkInteger } from "./limits.ts";
import { cleanConsoleText } from "./text.ts";
import type { ConsoleEndpoint } from "./types.ts";

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
 * @param endpoint the console: a `Stream` from `dom.openConsole()`, or any readable/writable pair
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
  if (options.signal?.aborted) return { ...result, reason: "aborted" };
  const detach = new Detach(options.until ? undefined : lingerMs);
  const abort = () => detach.settle("aborted");
  options.signal?.addEventListener("abort", abort, { once: true });
  const guestOut = endpoint.readable.getReader();
  const out = output.getWriter();
  const guestIn = endpoint.writable.getWriter();
  const typed = input.getReader();
  const fromGuest = copyFromGuest(guestOut, out, result, detach, options.until);
  const toGuest = copyToGuest(typed, guestIn, result, detach, escape);
  fromGuest.catch((error) => detach.fail(error));
  toGuest.catch((error) => detach.fail(error));
  try {
    result.reason = await detach.done;
    return result;
  } finally {
    detach.stop();
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

/**
 * How an attached session ends: the first reason (or failure) wins. Once the input has ended, a console
 * quiet for `lingerMs` detaches ("input-ended"); without `lingerMs` (an `until` pattern) it never does.
 */
class Detach {
  readonly done: Promise<AttachResult["reason"]>;
  #settle!: (reason: AttachResult["reason"]) => void;
  #fail!: (error: unknown) => void;
  readonly #lingerMs: number | undefined;
  #inputEnded = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(lingerMs: number | undefined) {
    this.#lingerMs = lingerMs;
    this.done = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
  }

  settle(reason: AttachResult["reason"]): void {
    this.#settle(reason);
  }

  fail(error: unknown): void {
    this.#fail(error);
  }

  /** The input ended: from now on, a quiet console detaches. */
  inputEnded(): void {
    this.#inputEnded = true;
    this.activity();
  }

  /** The console printed something: the quiet period starts again. */
  activity(): void {
    clearTimeout(this.#timer);
    if (this.#inputEnded && this.#lingerMs !== undefined) {
      this.#timer = setTimeout(() => this.#settle("input-ended"), this.#lingerMs);
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/** Copies the guest's output to `out` until the console ends or the output matches `until`. */
async function copyFromGuest(
  guestOut: ReadableStreamDefaultReader<Uint8Array>,
  out: WritableStreamDefaultWriter<Uint8Array>,
  result: AttachResult,
  detach: Detach,
  until: RegExp | undefined,
): Promise<void> {
  let window = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { done: end, value } = await guestOut.read();
    if (end) return detach.settle("console-ended");
    result.receivedBytes += value.length;
    await out.write(value);
    if (until) {
      window = (window + cleanConsoleText(decoder.decode(value, { stream: true }))).slice(-8192);
      if (until.test(window)) return detach.settle("until");
    }
    detach.activity();
  }
}

/** Copies what is typed to the guest, up to the escape byte (not sent) or the end of the input. */
async function copyToGuest(
  typed: ReadableStreamDefaultReader<Uint8Array>,
  guestIn: WritableStreamDefaultWriter<Uint8Array>,
  result: AttachResult,
  detach: Detach,
  escape: number | null,
): Promise<void> {
  for (;;) {
    const { done: end, value } = await typed.read();
    if (end) return detach.inputEnded();
    const at = escape === null ? -1 : value.indexOf(escape);
    const part = at < 0 ? value : value.subarray(0, at);
    if (part.length > 0) {
      await guestIn.write(part);
      result.sentBytes += part.length;
    }
    if (at >= 0) return detach.settle("escape");
  }
}
