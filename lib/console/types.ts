/**
 * The shapes of the console API: what a console is to it (a readable/writable pair, {@link ConsoleEndpoint})
 * and the options of captures, tails and waits (lib/console.ts).
 *
 * @module
 */
/** Bounds of a console log. */
export interface ConsoleLogOptions {
  /** The largest size of the log file in bytes; a write past it rotates the file. Default 1 MiB. */
  maxBytes?: number;
  /** Rotated files kept beside the log (`NAME.1` is the newest); 0 keeps none. Default 1. */
  rotations?: number;
  /** Bytes of the newest output kept in memory for `ConsoleCapture.tail`. Default 64 KiB. */
  tailBytes?: number;
}

/** Options for `captureStream`. */
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

/** Options for `captureConsole`. */
export interface CaptureConsoleOptions extends CaptureStreamOptions {
  /** The console or serial device alias ("serial0"); default the domain's first console. */
  devName?: string;
  /**
   * `VIR_DOMAIN_CONSOLE_FORCE`: take the console over from another session (which then ends).
   * Default false: a console someone is typing into is theirs, and opening it fails
   * (`isConsoleBusy`).
   */
  force?: boolean;
  /**
   * `VIR_DOMAIN_CONSOLE_SAFE`: refuse on drivers that cannot guarantee exclusive access (two readers
   * would each get part of the output). Default true.
   */
  safe?: boolean;
}

/** Options for `ConsoleCapture.tail`. */
export interface ConsoleTailOptions {
  /** The last this many lines. Default 20. */
  lines?: number;
}

/** Options for `ConsoleCapture.waitFor`. */
export interface ConsoleWaitOptions {
  /** Give up after this many ms (rejects with a "TimeoutError"). Default: no limit. */
  timeoutMs?: number;
  /** Stops waiting; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The byte-stream side of a console: a `Stream`, or anything with the same readable/writable pair. */
export interface ConsoleEndpoint {
  /** Output of the guest. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Input to the guest. */
  readonly writable: WritableStream<Uint8Array>;
  /** What it is, for messages: `console of domain "web1"`. */
  readonly label?: string;
}
