/**
 * Guest agent helpers: run a program inside the guest and read or write its files (guest-exec,
 * guest-file-*), over the agent channel, no network needed. Each is a sequence of
 * {@link qemuAgentCommand}s.
 *
 * @module
 */
import type { Domain } from "../domain.ts";
import { qemuAgentCommand } from "./commands.ts";

/** What {@link guestExec} reports of a program that ran in the guest. */
export interface GuestExecResult {
  /** The exit code (-1 when a signal ended it). */
  exitCode: number;
  /** The signal that ended it, if one did. */
  signal?: number;
  /** Its standard output, decoded as UTF-8 (what the agent kept: see `truncated`). */
  stdout: string;
  /** Its standard error, decoded as UTF-8. */
  stderr: string;
  /** True when the agent cut the output short (qemu-ga keeps at most 16 MiB of each). */
  truncated: boolean;
  /** How long it ran, as seen from here, ms. */
  tookMs: number;
}

/** Options for {@link guestExec}. */
export interface GuestExecOptions {
  /** Bytes (or UTF-8 text) fed to the program's standard input. */
  input?: string | Uint8Array;
  /** Environment entries `NAME=value` (qemu-ga then passes only these). */
  env?: string[];
  /** How long the program may run, ms. Default 120,000. */
  timeoutMs?: number;
  /** Stops waiting (the program keeps running in the guest). */
  signal?: AbortSignal;
}

const base64 = (bytes: Uint8Array): string => (bytes as unknown as { toBase64(): string }).toBase64();
const unbase64 = (text: string): Uint8Array =>
  (Uint8Array as unknown as { fromBase64(t: string): Uint8Array }).fromBase64(text);

/**
 * Runs a program in the guest through its agent (guest-exec with captured output) and waits for it
 * to end (guest-exec-status, polled with a backoff from 10 to 250 ms). No network is involved.
 *
 * @param dom a running domain whose guest agent is connected
 * @param path the program, e.g. "/bin/sh" (the agent looks names up in its PATH)
 * @param args its arguments
 * @param options input, env, timeoutMs, signal
 * @returns its exit code and output; a non-zero exit is a result, not an error
 * @throws {AgentUnresponsiveError} when the agent is not connected
 * @throws {LibvirtError} when the agent cannot start the program (e.g. no such file)
 * @throws {DOMException} "TimeoutError" after `timeoutMs`, or the signal's reason when it aborts
 * @example
 * ```ts
 * import type { Domain } from "@deno-libvirt/deno-libvirt";
 * import { guestExec } from "@deno-libvirt/deno-libvirt";
 * async function uidOf(dom: Domain, account: string): Promise<number | undefined> {
 *   const { exitCode, stdout } = await guestExec(dom, "/bin/sh", ["-c", 'id -u "$1"', "sh", account]);
 *   return exitCode === 0 ? Number(stdout.trim()) : undefined;
 * }
 * console.log(typeof uidOf); // "function"
 * ```
 */
export async function guestExec(
  dom: Domain,
  path: string,
  args: readonly string[] = [],
  options: GuestExecOptions = {},
): Promise<GuestExecResult> {
  const t0 = performance.now();
  const input = typeof options.input === "string" ? new TextEncoder().encode(options.input) : options.input;
  const { pid } = await qemuAgentCommand<{ pid: number }>(dom, {
    execute: "guest-exec",
    arguments: {
      path,
      arg: [...args],
      "capture-output": true,
      ...(options.env ? { env: [...options.env] } : {}),
      ...(input ? { "input-data": base64(input) } : {}),
    },
  }, { timeoutMs: 30_000 });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = t0 + timeoutMs;
  let pause = 10;
  for (;;) {
    options.signal?.throwIfAborted();
    const status = await qemuAgentCommand<{
      exited: boolean;
      exitcode?: number;
      signal?: number;
      "out-data"?: string;
      "err-data"?: string;
      "out-truncated"?: boolean;
      "err-truncated"?: boolean;
    }>(dom, { execute: "guest-exec-status", arguments: { pid } }, { timeoutMs: 30_000 });
    if (status.exited) {
      const text = (b?: string) => b ? new TextDecoder().decode(unbase64(b)) : "";
      return {
        exitCode: status.exitcode ?? -1,
        ...(status.signal !== undefined ? { signal: status.signal } : {}),
        stdout: text(status["out-data"]),
        stderr: text(status["err-data"]),
        truncated: status["out-truncated"] === true || status["err-truncated"] === true,
        tookMs: Math.round(performance.now() - t0),
      };
    }
    if (performance.now() >= deadline) {
      throw new DOMException(
        `Cannot run ${
          JSON.stringify(path)
        } in the guest: still running after ${timeoutMs} ms (guest pid ${pid})`,
        "TimeoutError",
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(pause, Math.max(1, deadline - performance.now())))
    );
    pause = Math.min(250, pause * 2);
  }
}

/** Options for {@link guestFileWrite}. */
export interface GuestFileWriteOptions {
  /** Bytes per guest-file-write command. Default 1 MiB (the agent's message limit is far above). */
  chunkBytes?: number;
  /** "w" (create or truncate, default) or "a" (append). */
  openMode?: "w" | "a";
  /**
   * Stops between chunks: no chunk is sent after the abort, the guest's file handle is closed, and the
   * call rejects with the signal's reason (the file keeps the chunks written before).
   */
  signal?: AbortSignal;
}

/**
 * Writes a file in the guest through its agent (guest-file-open, guest-file-write in chunks,
 * guest-file-close; the handle is closed on failure too). The file's mode is the agent's default
 * for new files: set another with a `chmod` through {@link guestExec}.
 *
 * @param dom a running domain whose guest agent is connected
 * @param path the guest path (its directory must exist)
 * @param data the content
 * @param options chunkBytes, openMode, signal
 * @returns the number of bytes written
 * @throws {AgentUnresponsiveError} when the agent is not connected
 * @throws {LibvirtError} when the agent cannot open or write the file (libvirt's message carries why)
 * @throws the signal's reason when it aborts
 * @example
 * ```ts
 * import type { Domain } from "@deno-libvirt/deno-libvirt";
 * import { guestExec, guestFileWrite } from "@deno-libvirt/deno-libvirt";
 * async function plantFlag(dom: Domain): Promise<void> {
 *   await guestFileWrite(dom, "/root/flag.txt", new TextEncoder().encode("flag{42}\n"));
 *   await guestExec(dom, "/bin/chmod", ["0600", "/root/flag.txt"]);
 * }
 * console.log(typeof plantFlag); // "function"
 * ```
 */
export async function guestFileWrite(
  dom: Domain,
  path: string,
  data: Uint8Array,
  options: GuestFileWriteOptions = {},
): Promise<number> {
  const chunk = options.chunkBytes ?? 1024 * 1024;
  if (!Number.isSafeInteger(chunk) || chunk < 1) {
    throw new RangeError(`Invalid chunkBytes ${chunk}: pass a positive whole number`);
  }
  options.signal?.throwIfAborted();
  const handle = await qemuAgentCommand<number>(dom, {
    execute: "guest-file-open",
    arguments: { path, mode: options.openMode ?? "w" },
  }, { timeoutMs: 30_000 });
  let written = 0;
  try {
    do {
      options.signal?.throwIfAborted();
      const part = data.subarray(written, written + chunk);
      const reply = await qemuAgentCommand<{ count: number }>(dom, {
        execute: "guest-file-write",
        arguments: { handle, "buf-b64": base64(part) },
      }, { timeoutMs: 60_000 });
      if (!(reply.count > 0) && part.length > 0) {
        throw new Error(`Cannot write ${JSON.stringify(path)} in the guest: the agent wrote 0 bytes`);
      }
      written += part.length > 0 ? reply.count : 0;
    } while (written < data.length);
  } finally {
    await qemuAgentCommand(dom, { execute: "guest-file-close", arguments: { handle } }, {
      timeoutMs: 30_000,
    })
      .catch(() => {});
  }
  return written;
}

/** Options for {@link guestFileRead}. */
export interface GuestFileReadOptions {
  /** Refuse files larger than this, bytes. Default 16 MiB. */
  maxBytes?: number;
  /**
   * Stops between chunks: no chunk is asked for after the abort, the guest's file handle is closed, and
   * the call rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Reads a file of the guest through its agent (guest-file-open, guest-file-read until end of file,
 * guest-file-close).
 *
 * @param dom a running domain whose guest agent is connected
 * @param path the guest path
 * @param options maxBytes, signal
 * @returns the content
 * @throws {AgentUnresponsiveError} when the agent is not connected
 * @throws {LibvirtError} when the agent cannot open or read it
 * @throws {RangeError} when the file is larger than `maxBytes`
 * @throws the signal's reason when it aborts
 * @example
 * ```ts
 * import type { Domain } from "@deno-libvirt/deno-libvirt";
 * import { guestFileRead } from "@deno-libvirt/deno-libvirt";
 * async function shadowLine(dom: Domain, account: string): Promise<string | undefined> {
 *   const shadow = new TextDecoder().decode(await guestFileRead(dom, "/etc/shadow"));
 *   return shadow.split("\n").find((line) => line.startsWith(`${account}:`));
 * }
 * console.log(typeof shadowLine); // "function"
 * ```
 */
export async function guestFileRead(
  dom: Domain,
  path: string,
  options: GuestFileReadOptions = {},
): Promise<Uint8Array> {
  const max = options.maxBytes ?? 16 * 1024 * 1024;
  options.signal?.throwIfAborted();
  const handle = await qemuAgentCommand<number>(dom, {
    execute: "guest-file-open",
    arguments: { path, mode: "r" },
  }, { timeoutMs: 30_000 });
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const reply = await qemuAgentCommand<{ count: number; "buf-b64": string; eof: boolean }>(dom, {
        execute: "guest-file-read",
        arguments: { handle, count: 1024 * 1024 },
      }, { timeoutMs: 60_000 });
      const bytes = unbase64(reply["buf-b64"] ?? "");
      total += bytes.length;
      if (total > max) {
        throw new RangeError(`Cannot read ${JSON.stringify(path)} from the guest: larger than ${max} bytes`);
      }
      parts.push(bytes);
      if (reply.eof || bytes.length === 0) break;
    }
  } finally {
    await qemuAgentCommand(dom, { execute: "guest-file-close", arguments: { handle } }, {
      timeoutMs: 30_000,
    })
      .catch(() => {});
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
