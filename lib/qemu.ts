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
 * import { Connection, lookupDomain, qemuAgentCommand } from "../mod.ts";
 * await using conn = await Connection.open("qemu:///system");
 * using dom = await lookupDomain(conn, "web1");
 * const info = await qemuAgentCommand(dom, { execute: "guest-info" });
 * console.log(info.version);
 * ```
 *
 * @module
 */
import type { ObjectHandle } from "./_handle.ts";
import { kCall } from "./_handle.ts";
import type { Connection } from "./connection.ts";
import { kInternals } from "./connection.ts";
import { type Domain, lookupDomain } from "./domain.ts";
import { ErrorCode, ErrorDomain } from "./error_codes.ts";
import { NotSupportedError } from "./errors.ts";
import { cString, isNegative, isNull, OutSlot, takeCString } from "./ffi/c.ts";
import { libvirt, libvirtQemu } from "./ffi/library.ts";
import { QemuAgentCommandTimeout, QemuMonitorCommandFlag } from "./ffi/symbols_qemu.ts";

export { QemuAgentCommandTimeout };

/** A guest agent (QGA) command: `{ execute: "guest-ping" }`, `{ execute: "guest-exec", arguments: {...} }`. */
export interface QemuAgentRequest {
  execute: string;
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
  const command = cString(text, "agent command");
  const lib = libvirtQemu();
  const name = typeof request === "string"
    ? "agent command"
    : `agent command ${JSON.stringify(request.execute)}`;
  const pointer = await (dom as ObjectHandle)[kCall](
    `run ${name} in`,
    (h) => lib.virDomainQemuAgentCommandAsync(h, command, timeout, 0),
    isNull,
  );
  const parsed = JSON.parse(takeCString(pointer) ?? "null");
  return (parsed !== null && typeof parsed === "object" && "return" in parsed ? parsed.return : parsed) as T;
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
  const buffer = cString(text, "monitor command");
  const slot = new OutSlot();
  const lib = libvirtQemu();
  await (dom as ObjectHandle)[kCall](
    "run a monitor command in",
    (h) => lib.virDomainQemuMonitorCommandAsync(h, buffer, slot.buffer, flags),
    isNegative,
  );
  const reply = takeCString(slot.pointer) ?? "";
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
  const lib = libvirtQemu();
  const call = lib.virDomainQemuMonitorCommandWithFilesAsync;
  if (call === null || call === undefined) {
    throw new NotSupportedError("run a monitor command with files", {
      code: ErrorCode.NO_SUPPORT,
      domain: ErrorDomain.NONE,
      level: 2,
      message: "virDomainQemuMonitorCommandWithFiles needs libvirt >= 8.2.0",
    });
  }
  for (const fd of inFiles) {
    if (!Number.isSafeInteger(fd) || fd < 0) throw new RangeError(`Invalid file descriptor ${fd} in inFiles`);
  }
  const text = typeof command === "string"
    ? command
    : encodeRequest(command, "execute", "qemuMonitorCommandWithFiles");
  const flags = options.hmp ? QemuMonitorCommandFlag.HMP : 0;
  const fds = new Int32Array(Math.max(inFiles.length, 1));
  fds.set(inFiles);
  const outCount = new OutSlot();
  const outArray = new OutSlot();
  const result = new OutSlot();
  const buffer = cString(text, "monitor command");
  await (dom as ObjectHandle)[kCall](
    "run a monitor command with files in",
    (h) =>
      call(
        h,
        inFiles.length,
        new Uint8Array(fds.buffer),
        outCount.buffer,
        outArray.buffer,
        buffer,
        result.buffer,
        flags,
      ),
    isNegative,
  );
  const outFiles: number[] = [];
  const count = outCount.int32;
  const array = outArray.pointer;
  if (array !== null) {
    const view = new Deno.UnsafePointerView(array);
    for (let i = 0; i < count; i++) outFiles.push(view.getInt32(i * 4));
    libvirt().libc.free(array);
  }
  const reply = takeCString(result.pointer) ?? "";
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
  const lib = libvirtQemu();
  const pointer = await connection[kInternals].call(
    () => `attach to QEMU process ${pid} on ${JSON.stringify(connection.uri)}`,
    (conn) => lib.virDomainQemuAttachAsync(conn, pid, 0),
    isNull,
  );
  // The domain module owns the wrapping of handles: find the domain again by UUID.
  const uuid = new Uint8Array(37);
  libvirt().symbols.virDomainGetUUIDString(pointer!, uuid);
  libvirt().symbols.virDomainFree(pointer!);
  return await lookupDomain(connection, new TextDecoder().decode(uuid.subarray(0, 36)));
}
