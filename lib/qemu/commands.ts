/**
 * The libvirt-qemu calls themselves: a guest agent command, a QEMU monitor command (with or without file
 * descriptors) and attaching to a QEMU process, with their requests checked and their replies parsed.
 * The helpers of lib/qemu/guest.ts build on {@link qemuAgentCommand}.
 *
 * @module
 */
import { asOperation, reattribute } from "../_handle.ts";
import type { Connection } from "../connection.ts";
import { type Domain, lookupDomain } from "../domain.ts";
import { QemuAgentCommandTimeout, QemuMonitorCommandFlag } from "../ffi/constants.ts";

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
   * How long libvirt waits for the agent's reply, in milliseconds (libvirt counts whole seconds: it is
   * rounded up, at least 1 s), or "block" (forever) or "default" (libvirt's default, 5 s unless the
   * domain's agent timeout is set). Default "default". libvirt's NOWAIT (0) is not offered: its success
   * and its failure both return NULL, so a failure would pass unnoticed.
   */
  timeoutMs?: number | "block" | "default";
  /**
   * The same in whole seconds, as libvirt takes it.
   *
   * @deprecated use `timeoutMs`, the name every other timeout in the library has
   */
  timeoutSeconds?: number | "block" | "default";
}

function agentTimeout(options: QemuAgentCommandOptions): number {
  const { timeoutMs, timeoutSeconds } = options;
  if (timeoutMs !== undefined && timeoutSeconds !== undefined) {
    throw new TypeError("Cannot take both timeoutMs and timeoutSeconds: pass timeoutMs alone");
  }
  const value = timeoutMs ?? timeoutSeconds;
  if (value === undefined || value === "default") return QemuAgentCommandTimeout.DEFAULT;
  if (value === "block") return QemuAgentCommandTimeout.BLOCK;
  if (timeoutMs !== undefined) {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 2 ** 31 * 1000) {
      throw new RangeError(
        `Invalid timeoutMs ${
          JSON.stringify(value)
        }: pass a positive number of milliseconds, or "block" or "default"`,
      );
    }
    return Math.max(1, Math.ceil(value / 1000));
  }
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(
      `Invalid timeoutSeconds ${
        JSON.stringify(value)
      }: pass a whole number of seconds >= 1, or "block" or "default"`,
    );
  }
  return value as number;
}

/**
 * Sends a command to the domain's QEMU guest agent and returns the `return` member of its reply,
 * parsed (virDomainQemuAgentCommand).
 *
 * @param dom a running domain with a guest agent channel
 * @param request the command, `{ execute, arguments }`, or its JSON text
 * @param options timeoutMs
 * @returns the agent's `return` value (guest-ping: `{}`)
 * @throws {AgentUnresponsiveError} when the agent is not connected or does not answer in time
 * @throws {LibvirtError} when the agent rejects the command (libvirt's message carries the agent's) or
 *   the domain has no agent channel ({@link NotSupportedError}/{@link OperationInvalidError})
 * @throws {RangeError} for a bad timeout, {@link TypeError} for a request without `execute`
 * @example
 * ```ts
 * import { type Domain, qemuAgentCommand } from "@deno-libvirt/deno-libvirt";
 * // the agent's version, or undefined when the guest has no agent (yet)
 * async function agentVersion(dom: Domain): Promise<string | undefined> {
 *   try {
 *     const info = await qemuAgentCommand<{ version: string }>(dom, { execute: "guest-info" }, {
 *       timeoutMs: 10_000,
 *     });
 *     return info.version;
 *   } catch (error) {
 *     if (error instanceof Error && error.name === "AgentUnresponsiveError") return undefined;
 *     throw error;
 *   }
 * }
 * console.log(typeof agentVersion); // "function"
 * ```
 */
export async function qemuAgentCommand<T = unknown>(
  dom: Domain,
  request: QemuAgentRequest | string,
  options: QemuAgentCommandOptions = {},
): Promise<T> {
  const text = typeof request === "string" ? request : encodeRequest(request, "execute", "qemuAgentCommand");
  const timeout = agentTimeout(options);
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
 * ```ts
 * import { type Domain, qemuMonitorCommand } from "@deno-libvirt/deno-libvirt";
 * // what QEMU itself says (QMP), and the same in the human monitor's words (HMP)
 * async function qemuStatus(dom: Domain): Promise<[string, string]> {
 *   const { status } = await qemuMonitorCommand<{ status: string }>(dom, { execute: "query-status" });
 *   const text = await qemuMonitorCommand<string>(dom, "info status", { hmp: true });
 *   return [status, text.trim()]; // ["running", "VM status: running"]
 * }
 * console.log(typeof qemuStatus); // "function"
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
 * ```ts
 * import { type Domain, qemuMonitorCommandWithFiles } from "@deno-libvirt/deno-libvirt";
 * async function fdSets(dom: Domain): Promise<unknown[]> {
 *   const { result, outFiles } = await qemuMonitorCommandWithFiles<unknown[]>(
 *     dom,
 *     { execute: "query-fdsets" },
 *     [], // no descriptors to pass in
 *   );
 *   console.assert(outFiles.length === 0); // query-fdsets passes none back
 *   return result;
 * }
 * console.log(typeof fdSets); // "function"
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
 * ```ts
 * import { Connection, NotSupportedError, qemuAttach } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default");
 * // current libvirt releases (and the test driver) refuse it
 * await qemuAttach(conn, 4242).then((dom) => dom.free(), (error) => {
 *   console.log(error instanceof NotSupportedError); // true
 * });
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
