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
 * ```ts
 * import { Connection, lookupDomain, qemuAgentCommand } from "@deno-libvirt/deno-libvirt";
 * async function agentVersion(uri: string, name: string): Promise<string> {
 *   await using conn = await Connection.open(uri); // e.g. "qemu:///system"
 *   using dom = await lookupDomain(conn, name);
 *   const info = await qemuAgentCommand<{ version: string }>(dom, { execute: "guest-info" });
 *   return info.version;
 * }
 * console.log(typeof agentVersion); // "function"
 * ```
 *
 * The module re-exports its parts: lib/qemu/commands.ts (agent and monitor commands, attach),
 * lib/qemu/monitor_events.ts (QMP events) and lib/qemu/guest.ts (programs and files in the guest).
 *
 * @module
 */
export { QemuAgentCommandTimeout } from "./ffi/constants.ts";
export {
  qemuAgentCommand,
  type QemuAgentCommandOptions,
  type QemuAgentRequest,
  qemuAttach,
  qemuMonitorCommand,
  type QemuMonitorCommandOptions,
  qemuMonitorCommandWithFiles,
  type QemuMonitorReply,
} from "./qemu/commands.ts";
export {
  type QemuMonitorEvent,
  type QemuMonitorEventOptions,
  qemuMonitorEvents,
  QemuMonitorEventStream,
} from "./qemu/monitor_events.ts";
export {
  guestExec,
  type GuestExecOptions,
  type GuestExecResult,
  guestFileRead,
  type GuestFileReadOptions,
  guestFileWrite,
  type GuestFileWriteOptions,
} from "./qemu/guest.ts";
