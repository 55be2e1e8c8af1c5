// <libvirt/libvirt-event.h>: the default event loop implementation (run in a Worker, see lib/event_loop.ts).
import { fn, int, ptr } from "./_types.ts";

export const eventSymbols = {
  /** int virEventRegisterDefaultImpl(void): once per process, before the first virConnectOpen */
  virEventRegisterDefaultImpl: { parameters: [], result: int },
  /** int virEventRunDefaultImpl(void): one iteration; blocks in poll() */
  virEventRunDefaultImpl: { parameters: [], result: int },
  /** int virEventAddTimeout(int timeout, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff) */
  virEventAddTimeout: { parameters: [int, fn, ptr, fn], result: int },
  /** int virEventRemoveTimeout(int timer) */
  virEventRemoveTimeout: { parameters: [int], result: int },
  /** int virConnectDomainEventDeregisterAny(virConnectPtr conn, int callbackID): for teardown at unload */
  virConnectDomainEventDeregisterAny: { parameters: [ptr, int], result: int },
  /** void virEventUpdateTimeout(int timer, int timeout) */
  virEventUpdateTimeout: { parameters: [int, int], result: "void" },
} as const;
