/**
 * QEMU-specific calls (libvirt-qemu): guest agent commands and QEMU monitor commands. libvirt
 * marks these as unsupported by the libvirt project ("use at your own risk"), but they are what a
 * range script needs to run `guest-exec`, read `guest-info` or poke the monitor. libvirt-qemu.so.0 is
 * loaded on the first call here, not before.
 *
 * Errors are those of the domain's connection, attributed exactly like every other call; a guest
 * agent that is not connected (not installed, not started yet, hung) is an
 * {@link AgentUnresponsiveError}.
 *
 * @example
 * ```ts ignore
 * import { Connection, lookupDomain, qemuAgentCommand } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("qemu:///system");
 * using dom = await lookupDomain(conn, "web1");
 * const info = await qemuAgentCommand(dom, { execute: "guest-info" });
 * console.log(info.version);
 * ```
 *
 * @module
 */
import { asOperation, kPointer, reattribute } from "./_handle.ts";
import type { Connection } from "./connection.ts";
import { kInternals } from "./_internals.ts";
import { type Domain, lookupDomain } from "./domain.ts";
import { type EventLoop, eventLoop, type RawQemuMonitorEvent } from "./event_loop.ts";
import { QemuAgentCommandTimeout, QemuMonitorCommandFlag } from "./ffi/constants.ts";
import { libvirtQemu } from "./ffi/qemu_library.ts";

export { QemuAgentCommandTimeout };

/** A guest agent (QGA) command: `{ execute: "guest-ping" }`, `{ execute: "guest-exec", arguments: {...} }`. */
export interface QemuAgentRequest {
  /** The agent command's name, e.g. "guest-ping", "guest-network-get-interfaces". */
  execute: string;
  /** The command's arguments, sent as the JSON object `arguments`; omit for commands without any. */
  arguments?: Record<string, unknown>;
}

/** Options for {@link qemuAgentCommand}. */
export interface QemuAgentCommandOptions {
  /**
   * How long libvirt waits for the agent's reply, in seconds, or "block" (forever) or "default"
   * (libvirt's default, 5 s unless the domain's agent timeout is set). Default "default". libvirt's
   * NOWAIT (0) is not offered: its success and its failure both return NULL, so a failure would pass
   * unnoticed.
   */
  timeoutSeconds?: number | "block" | "default";
}

function agentTimeout(value: QemuAgentCommandOptions["timeoutSeconds"]): number {
  if (value === undefined || value === "default") return QemuAgentCommandTimeout.DEFAULT;
  if (value === "block") return QemuAgentCommandTimeout.BLOCK;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Invalid timeoutSeconds ${
        JSON.stringify(value)
      }: pass a whole number of seconds >= 1, or "block" or "default"`,
    );
  }
  return value;
}

/**
 * Sends a command to the domain's QEMU guest agent and returns the `return` member of its reply,
 * parsed (virDomainQemuAgentCommand).
 *
 * @param dom a running domain with a guest agent channel
 * @param request the command, `{ execute, arguments }`, or its JSON text
 * @param options timeoutSeconds
 * @returns the agent's `return` value (guest-ping: `{}`)
 * @throws {AgentUnresponsiveError} when the agent is not connected or does not answer in time
 * @throws {LibvirtError} when the agent rejects the command (libvirt's message carries the agent's) or
 *   the domain has no agent channel ({@link NotSupportedError}/{@link OperationInvalidError})
 * @throws {RangeError} for a bad timeout, {@link TypeError} for a request without `execute`
 * @example
 * ```ts ignore
 * const info = await qemuAgentCommand(dom, { execute: "guest-info" }, { timeoutSeconds: 10 });
 * ```
 */
export async function qemuAgentCommand<T = unknown>(
  dom: Domain,
  request: QemuAgentRequest | string,
  options: QemuAgentCommandOptions = {},
): Promise<T> {
  const text = typeof request === "string" ? request : encodeRequest(request, "execute", "qemuAgentCommand");
  const timeout = agentTimeout(options.timeoutSeconds);
  checkNoNul(text, "agent command");
  const name = typeof request === "string"
    ? "agent command"
    : `agent command ${JSON.stringify(request.execute)}`;
  const reply = await asOperation(dom, `run ${name} in`, () => dom.qemuAgentCommand(text, timeout, 0));
  const parsed = JSON.parse(reply || "null");
  return (parsed !== null && typeof parsed === "object" && "return" in parsed ? parsed.return : parsed) as T;
}

function checkNoNul(text: string, what: string): void {
  if (text.includes("\0")) {
    throw new TypeError(
      `Cannot pass ${what} ${JSON.stringify(text)} to libvirt: it contains a NUL character`,
    );
  }
}

function encodeRequest(request: { execute?: unknown }, field: string, caller: string): string {
  if (
    request === null || typeof request !== "object" || typeof request.execute !== "string" || !request.execute
  ) {
    throw new TypeError(`Cannot run ${caller}: the request needs a non-empty "${field}" string`);
  }
  return JSON.stringify(request);
}

/** Options for {@link qemuMonitorCommand}. */
export interface QemuMonitorCommandOptions {
  /** `VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP`: the command is human monitor text ("info status"). */
  hmp?: boolean;
}

/**
 * Runs a QEMU monitor command (virDomainQemuMonitorCommand): a QMP command (an object or its JSON
 * text) returns the parsed reply's `return` member; with `hmp`, the text of the human monitor's answer.
 * libvirt taints the domain ("custom-monitor"): use it for what libvirt has no API for.
 *
 * @param dom a running QEMU domain
 * @param command `{ execute: "query-status" }`, its JSON, or HMP text with `hmp: true`
 * @param options hmp
 * @returns the QMP `return` value, or the HMP output text
 * @throws {LibvirtError} when QEMU rejects the command or the domain is not running
 * @example
 * ```ts ignore
 * const status = await qemuMonitorCommand(dom, { execute: "query-status" });
 * const text = await qemuMonitorCommand(dom, "info status", { hmp: true });
 * ```
 */
export async function qemuMonitorCommand<T = unknown>(
  dom: Domain,
  command: QemuAgentRequest | string,
  options: QemuMonitorCommandOptions = {},
): Promise<T> {
  const text = typeof command === "string"
    ? command
    : encodeRequest(command, "execute", "qemuMonitorCommand");
  const flags = options.hmp ? QemuMonitorCommandFlag.HMP : 0;
  checkNoNul(text, "monitor command");
  const reply = await asOperation(dom, "run a monitor command in", () => dom.qemuMonitorCommand(text, flags));
  if (options.hmp) return reply as T;
  const parsed = JSON.parse(reply);
  return (parsed !== null && typeof parsed === "object" && "return" in parsed ? parsed.return : parsed) as T;
}

/** What {@link qemuMonitorCommandWithFiles} returns. */
export interface QemuMonitorReply<T> {
  /** The QMP `return` value (or the HMP text). */
  result: T;
  /** File descriptors QEMU passed back; the caller owns (and must close) them. */
  outFiles: number[];
}

/**
 * {@link qemuMonitorCommand} passing file descriptors along (virDomainQemuMonitorCommandWithFiles,
 * libvirt >= 8.2.0), e.g. for `add-fd` / `getfd`.
 *
 * @param dom a running QEMU domain
 * @param command the QMP command (object or JSON text), or HMP text with `hmp: true`
 * @param inFiles file descriptors to pass to QEMU
 * @param options hmp
 * @returns the reply and the descriptors QEMU returned
 * @throws {NotSupportedError} when the installed libvirt is older than 8.2.0
 * @throws {LibvirtError} when QEMU rejects the command
 * @example
 * ```ts ignore
 * const { result } = await qemuMonitorCommandWithFiles(dom, { execute: "query-fdsets" }, []);
 * ```
 */
export async function qemuMonitorCommandWithFiles<T = unknown>(
  dom: Domain,
  command: QemuAgentRequest | string,
  inFiles: readonly number[],
  options: QemuMonitorCommandOptions = {},
): Promise<QemuMonitorReply<T>> {
  for (const fd of inFiles) {
    if (!Number.isSafeInteger(fd) || fd < 0) throw new RangeError(`Invalid file descriptor ${fd} in inFiles`);
  }
  const text = typeof command === "string"
    ? command
    : encodeRequest(command, "execute", "qemuMonitorCommandWithFiles");
  checkNoNul(text, "monitor command");
  const flags = options.hmp ? QemuMonitorCommandFlag.HMP : 0;
  const { result: reply, outfiles: outFiles } = await asOperation(
    dom,
    "run a monitor command with files in",
    () => dom.qemuMonitorCommandWithFiles(text, inFiles, flags),
  );
  if (options.hmp) return { result: reply as T, outFiles };
  const parsed = JSON.parse(reply);
  return {
    result:
      (parsed !== null && typeof parsed === "object" && "return" in parsed ? parsed.return : parsed) as T,
    outFiles,
  };
}

/**
 * Attaches libvirt to a QEMU process started outside libvirt (virDomainQemuAttach). Deprecated by
 * libvirt: the QEMU driver of current releases refuses it with {@link NotSupportedError}.
 *
 * @param connection a qemu:// connection
 * @param pid the QEMU process id
 * @returns the new domain
 * @throws {NotSupportedError} on libvirt releases that dropped the feature
 * @example
 * ```ts ignore
 * using dom = await qemuAttach(conn, 4242);
 * ```
 */
export async function qemuAttach(connection: Connection, pid: number): Promise<Domain> {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0xffffffff) {
    throw new RangeError(`Invalid pid ${pid}: pass a positive process id`);
  }
  const operation = `attach to QEMU process ${pid} on ${JSON.stringify(connection.uri)}`;
  try {
    using attached = await connection.qemuAttach(pid, 0);
    // through the finder, so that the handle takes its place in the connection's handle cache
    return await lookupDomain(connection, attached.uuid);
  } catch (error) {
    throw reattribute(error, operation);
  }
}

// ---------------------------------------------------------------------------------------------------
// QEMU monitor events (virConnectDomainQemuMonitorEventRegister), registered in the event loop's worker.

/** One QEMU monitor (QMP) event, e.g. `STOP`, `RESUME`, `BLOCK_JOB_COMPLETED`. */
export interface QemuMonitorEvent {
  /** The domain it came from. */
  domain: { name: string; uuid: string };
  /** The QMP event name. */
  event: string;
  /** When QEMU emitted it (QEMU's seconds and microseconds). */
  timestamp: Date;
  /** The event's `data` member, parsed (null when it has none). */
  details: unknown;
}

/** Options for {@link qemuMonitorEvents}. */
export interface QemuMonitorEventOptions {
  /** Only this domain's events (default: every domain of the connection). */
  domain?: Domain;
  /** Only this event name (default: all); with `regex`, a POSIX extended regular expression. */
  event?: string;
  /** `VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX`: `event` is a regular expression. */
  regex?: boolean;
  /** `VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE`: match `event` case-insensitively. */
  nocase?: boolean;
  /** Events kept while nobody reads; older ones are dropped beyond it. Default 1,000. */
  bufferSize?: number;
  /** Ends the subscription (the iteration then ends). */
  signal?: AbortSignal;
}

const monitorSubscribers = new Map<number, QemuMonitorEventStream>();
const routedLoops = new WeakSet<EventLoop>();
let nextMonitorId = 1 + Math.floor(Math.random() * 2 ** 30);

/**
 * A subscription to QEMU monitor events, as an async iterable. Close it (or `await using`) to
 * deregister; it also ends when its signal aborts.
 */
export class QemuMonitorEventStream implements AsyncIterableIterator<QemuMonitorEvent> {
  readonly #connection: Connection;
  readonly #loop: EventLoop;
  readonly #id: number;
  readonly #bufferSize: number;
  readonly #queue: QemuMonitorEvent[] = [];
  #waiter: ((result: IteratorResult<QemuMonitorEvent>) => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Events dropped because the buffer was full. */
  dropped = 0;

  /** @internal */
  constructor(connection: Connection, loop: EventLoop, id: number, bufferSize: number) {
    this.#connection = connection;
    this.#loop = loop;
    this.#id = id;
    this.#bufferSize = bufferSize;
  }

  /** @internal */
  push(raw: RawQemuMonitorEvent): void {
    if (this.#closed) return;
    let details: unknown = null;
    try {
      details = raw.details === null ? null : JSON.parse(raw.details);
    } catch {
      details = raw.details;
    }
    const event: QemuMonitorEvent = {
      domain: raw.domain,
      event: raw.event,
      timestamp: new Date(raw.seconds * 1000 + Math.floor(raw.micros / 1000)),
      details,
    };
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#bufferSize) {
      this.#queue.shift();
      this.dropped++;
    }
    this.#queue.push(event);
  }

  /** The next event; waits (keeping the process alive) until one arrives or the stream closes. */
  async next(): Promise<IteratorResult<QemuMonitorEvent>> {
    const queued = this.#queue.shift();
    if (queued) return { value: queued, done: false };
    if (this.#closed) return { value: undefined, done: true };
    this.#loop.hold();
    try {
      return await new Promise((resolve) => this.#waiter = resolve);
    } finally {
      this.#loop.release();
    }
  }

  /** Ends the iteration and deregisters (virConnectDomainQemuMonitorEventDeregister). */
  async return(): Promise<IteratorResult<QemuMonitorEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Returns the stream itself, so `for await (const event of stream)` works. */
  [Symbol.asyncIterator](): QemuMonitorEventStream {
    return this;
  }

  /**
   * Deregisters the subscription (virConnectDomainQemuMonitorEventDeregister). Idempotent.
   *
   * @throws {LibvirtError} when libvirt refuses the deregistration
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#closed = true;
      monitorSubscribers.delete(this.#id);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.({ value: undefined, done: true });
      if (this.#connection.closed) return; // the registration went with the connection
      await this.#connection[kInternals].call(
        () => `stop QEMU monitor events on ${JSON.stringify(this.#connection.uri)}`,
        (conn) =>
          this.#loop.request({
            type: "qemu-monitor-unsubscribe",
            conn: String(Deno.UnsafePointer.value(conn)),
            id: this.#id,
          }),
        (reply) => !reply.ok, // the error is in the connection's slot: the gate reads it
      );
    })();
  }

  /** Deregisters (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Subscribes to QEMU monitor (QMP) events on a connection (virConnectDomainQemuMonitorEventRegister),
 * dispatched by the event loop's worker. The subscription lives on `connection`: it ends when that
 * connection closes.
 *
 * @param connection a qemu:// connection
 * @param options domain, event name (or regex), bufferSize, signal
 * @returns the subscription, an async iterable of {@link QemuMonitorEvent}
 * @throws {TypeError} when the event loop is disabled
 * @throws {LibvirtError} e.g. {@link NotSupportedError} on drivers without QEMU monitor events
 * @example
 * ```ts ignore
 * await using events = await qemuMonitorEvents(conn, { domain: dom, event: "STOP" });
 * for await (const e of events) { console.log(e.event, e.timestamp); break; }
 * ```
 */
export async function qemuMonitorEvents(
  connection: Connection,
  options: QemuMonitorEventOptions = {},
): Promise<QemuMonitorEventStream> {
  const loop = await eventLoop();
  if (loop === null) {
    throw new TypeError(
      "Cannot subscribe to QEMU monitor events: the event loop is disabled (setEventLoopEnabled(false))",
    );
  }
  if (!routedLoops.has(loop)) {
    routedLoops.add(loop);
    loop.listenQemuMonitor((raw) => monitorSubscribers.get(raw.id)?.push(raw));
  }
  const bufferSize = options.bufferSize ?? 1_000;
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) {
    throw new RangeError(`Invalid bufferSize ${bufferSize}: pass a positive integer`);
  }
  const qemuPath = libvirtQemu().path;
  const id = nextMonitorId++;
  const stream = new QemuMonitorEventStream(connection, loop, id, bufferSize);
  monitorSubscribers.set(id, stream);
  const flags = (options.regex ? 1 : 0) | (options.nocase ? 2 : 0);
  const operation = `subscribe to QEMU monitor events${
    options.event ? ` ${JSON.stringify(options.event)}` : ""
  } on ${JSON.stringify(connection.uri)}`;
  const subscribed = connection[kInternals].call(
    () => operation,
    (conn) =>
      loop.request({
        type: "qemu-monitor-subscribe",
        qemuPath,
        conn: String(Deno.UnsafePointer.value(conn)),
        domain: options.domain
          ? String(Deno.UnsafePointer.value(options.domain[kPointer]("subscribe to")))
          : undefined,
        event: options.event,
        flags,
        id,
      }),
    (reply) => !reply.ok, // the error is in the connection's slot: the gate reads it
  );
  try {
    await subscribed;
  } catch (error) {
    monitorSubscribers.delete(id);
    throw error;
  }
  options.signal?.addEventListener("abort", () => void stream.close().catch(() => {}), { once: true });
  return stream;
}

// ---------------------------------------------------------------------------------------------------
// Guest agent helpers: programs and files inside the guest (guest-exec, guest-file-*), no network.

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
  }, { timeoutSeconds: 30 });
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
    }>(dom, { execute: "guest-exec-status", arguments: { pid } }, { timeoutSeconds: 30 });
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
}

/**
 * Writes a file in the guest through its agent (guest-file-open, guest-file-write in chunks,
 * guest-file-close; the handle is closed on failure too). The file's mode is the agent's default
 * for new files: set another with a `chmod` through {@link guestExec}.
 *
 * @param dom a running domain whose guest agent is connected
 * @param path the guest path (its directory must exist)
 * @param data the content
 * @param options chunkBytes, openMode
 * @returns the number of bytes written
 * @throws {AgentUnresponsiveError} when the agent is not connected
 * @throws {LibvirtError} when the agent cannot open or write the file (libvirt's message carries why)
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
  const handle = await qemuAgentCommand<number>(dom, {
    execute: "guest-file-open",
    arguments: { path, mode: options.openMode ?? "w" },
  }, { timeoutSeconds: 30 });
  let written = 0;
  try {
    do {
      const part = data.subarray(written, written + chunk);
      const reply = await qemuAgentCommand<{ count: number }>(dom, {
        execute: "guest-file-write",
        arguments: { handle, "buf-b64": base64(part) },
      }, { timeoutSeconds: 60 });
      if (!(reply.count > 0) && part.length > 0) {
        throw new Error(`Cannot write ${JSON.stringify(path)} in the guest: the agent wrote 0 bytes`);
      }
      written += part.length > 0 ? reply.count : 0;
    } while (written < data.length);
  } finally {
    await qemuAgentCommand(dom, { execute: "guest-file-close", arguments: { handle } }, {
      timeoutSeconds: 30,
    })
      .catch(() => {});
  }
  return written;
}

/** Options for {@link guestFileRead}. */
export interface GuestFileReadOptions {
  /** Refuse files larger than this, bytes. Default 16 MiB. */
  maxBytes?: number;
}

/**
 * Reads a file of the guest through its agent (guest-file-open, guest-file-read until end of file,
 * guest-file-close).
 *
 * @param dom a running domain whose guest agent is connected
 * @param path the guest path
 * @param options maxBytes
 * @returns the content
 * @throws {AgentUnresponsiveError} when the agent is not connected
 * @throws {LibvirtError} when the agent cannot open or read it
 * @throws {RangeError} when the file is larger than `maxBytes`
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
  const handle = await qemuAgentCommand<number>(dom, {
    execute: "guest-file-open",
    arguments: { path, mode: "r" },
  }, { timeoutSeconds: 30 });
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const reply = await qemuAgentCommand<{ count: number; "buf-b64": string; eof: boolean }>(dom, {
        execute: "guest-file-read",
        arguments: { handle, count: 1024 * 1024 },
      }, { timeoutSeconds: 60 });
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
      timeoutSeconds: 30,
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
