// <libvirt/libvirt-qemu.h>: QEMU-specific calls (guest agent, monitor), in libvirt-qemu.so.0, which
// is loaded lazily on the first such call (lib/ffi/library.ts, libvirtQemu()). Hand-written for now;
// the generated tables will replace this file (the names are the C names).
import { cstr, fn, int, out, ptr, uint } from "./_types.ts";

export const qemuSymbols = {
  /**
   * char *virDomainQemuAgentCommand(virDomainPtr domain, const char *cmd, int timeout,
   *                                 unsigned int flags): the agent's JSON reply, caller frees
   */
  virDomainQemuAgentCommand: { parameters: [ptr, cstr, int, uint], result: ptr, io: true },
  /**
   * int virDomainQemuMonitorCommand(virDomainPtr domain, const char *cmd, char **result,
   *                                 unsigned int flags): *result caller frees
   */
  virDomainQemuMonitorCommand: { parameters: [ptr, cstr, out, uint], result: int, io: true },
  /**
   * int virDomainQemuMonitorCommandWithFiles(virDomainPtr domain, unsigned int ninfiles, int *infiles,
   *                                          unsigned int *noutfiles, int **outfiles, const char *cmd,
   *                                          char **result, unsigned int flags): since 8.2.0
   */
  virDomainQemuMonitorCommandWithFiles: {
    parameters: [ptr, uint, out, out, out, cstr, out, uint],
    result: int,
    io: true,
    optional: true,
  },
  /** virDomainPtr virDomainQemuAttach(virConnectPtr conn, unsigned int pid_value, unsigned int flags) */
  virDomainQemuAttach: { parameters: [ptr, uint, uint], result: ptr, io: true },
  /**
   * int virConnectDomainQemuMonitorEventRegister(virConnectPtr conn, virDomainPtr dom, const char *event,
   *     virConnectDomainQemuMonitorEventCallback cb, void *opaque, virFreeCallback freecb, unsigned int flags)
   */
  virConnectDomainQemuMonitorEventRegister: {
    parameters: [ptr, ptr, cstr, fn, ptr, fn, uint],
    result: int,
    io: true,
  },
  /** int virConnectDomainQemuMonitorEventDeregister(virConnectPtr conn, int callbackID) */
  virConnectDomainQemuMonitorEventDeregister: { parameters: [ptr, int], result: int, io: true },
} as const;

/** virDomainQemuAgentCommandTimeoutValues: special timeouts in seconds (>= 0 are plain seconds). */
export const QemuAgentCommandTimeout = { BLOCK: -2, DEFAULT: -1, NOWAIT: 0, SHUTDOWN: 60 } as const;
/** virDomainQemuMonitorCommandFlags */
export const QemuMonitorCommandFlag = { HMP: 1 << 0 } as const;
