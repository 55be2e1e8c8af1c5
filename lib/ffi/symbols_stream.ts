// <libvirt/libvirt-stream.h>: data streams (console, channel, volume upload/download, screenshot),
// plus the calls of libvirt-domain.h and libvirt-storage.h that attach a stream to an object.
// Hand-written for now; the generated tables will replace this file (the names are the C names).
// Sync entries without `io` are local; `io: true` entries also get a nonblocking `...Async` twin.
import { cstr, fn, int, out, ptr, uint, ulonglong } from "./_types.ts";

export const streamSymbols = {
  /** virStreamPtr virStreamNew(virConnectPtr conn, unsigned int flags): local */
  virStreamNew: { parameters: [ptr, uint], result: ptr },
  /** int virStreamRef(virStreamPtr stream): local */
  virStreamRef: { parameters: [ptr], result: int },
  /** int virStreamFree(virStreamPtr stream): local */
  virStreamFree: { parameters: [ptr], result: int },
  /**
   * int virStreamSend(virStreamPtr stream, const char *data, size_t nbytes): bytes sent, -2 when a
   * nonblocking stream would block, -1 on error
   */
  virStreamSend: { parameters: [ptr, out, "usize"], result: int, io: true },
  /**
   * int virStreamRecv(virStreamPtr stream, char *data, size_t nbytes): bytes read, 0 at end of
   * stream, -2 when a nonblocking stream would block, -1 on error
   */
  virStreamRecv: { parameters: [ptr, out, "usize"], result: int, io: true },
  /**
   * int virStreamRecvFlags(virStreamPtr stream, char *data, size_t nbytes, unsigned int flags): as
   * virStreamRecv, plus -3 at a hole with VIR_STREAM_RECV_STOP_AT_HOLE
   */
  virStreamRecvFlags: { parameters: [ptr, out, "usize", uint], result: int, io: true },
  /** int virStreamSendHole(virStreamPtr stream, long long length, unsigned int flags) */
  virStreamSendHole: { parameters: [ptr, "i64", uint], result: int, io: true },
  /** int virStreamRecvHole(virStreamPtr stream, long long *length, unsigned int flags) */
  virStreamRecvHole: { parameters: [ptr, out, uint], result: int, io: true },
  /** int virStreamFinish(virStreamPtr stream) */
  virStreamFinish: { parameters: [ptr], result: int, io: true },
  /** int virStreamAbort(virStreamPtr stream) */
  virStreamAbort: { parameters: [ptr], result: int, io: true },
  /**
   * int virStreamEventAddCallback(virStreamPtr stream, int events, virStreamEventCallback cb,
   *                               void *opaque, virFreeCallback ff): registered by the event worker
   */
  virStreamEventAddCallback: { parameters: [ptr, int, fn, ptr, fn], result: int },
  /** int virStreamEventUpdateCallback(virStreamPtr stream, int events): local */
  virStreamEventUpdateCallback: { parameters: [ptr, int], result: int },
  /** int virStreamEventRemoveCallback(virStreamPtr stream): local */
  virStreamEventRemoveCallback: { parameters: [ptr], result: int },

  /**
   * int virDomainOpenConsole(virDomainPtr dom, const char *dev_name, virStreamPtr st,
   *                          unsigned int flags): dev_name NULL for the first console
   */
  virDomainOpenConsole: { parameters: [ptr, cstr, ptr, uint], result: int, io: true },
  /** int virDomainOpenChannel(virDomainPtr dom, const char *name, virStreamPtr st, unsigned int flags) */
  virDomainOpenChannel: { parameters: [ptr, cstr, ptr, uint], result: int, io: true },
  /**
   * char *virDomainScreenshot(virDomainPtr domain, virStreamPtr stream, unsigned int screen,
   *                           unsigned int flags): the MIME type, caller frees
   */
  virDomainScreenshot: { parameters: [ptr, ptr, uint, uint], result: ptr, io: true },
  /**
   * int virStorageVolUpload(virStorageVolPtr vol, virStreamPtr stream, unsigned long long offset,
   *                         unsigned long long length, unsigned int flags)
   */
  virStorageVolUpload: { parameters: [ptr, ptr, ulonglong, ulonglong, uint], result: int, io: true },
  /**
   * int virStorageVolDownload(virStorageVolPtr vol, virStreamPtr stream, unsigned long long offset,
   *                           unsigned long long length, unsigned int flags)
   */
  virStorageVolDownload: { parameters: [ptr, ptr, ulonglong, ulonglong, uint], result: int, io: true },
} as const;

/** The virStreamEventCallback signature: void (*)(virStreamPtr stream, int events, void *opaque). */
export const streamEventCallbackDefinition = {
  parameters: [ptr, int, ptr],
  result: "void",
} as const;

/** virStreamFlags */
export const StreamFlag = { NONBLOCK: 1 << 0 } as const;
/** virStreamEventType */
export const StreamEventType = { READABLE: 1 << 0, WRITABLE: 1 << 1, ERROR: 1 << 2, HANGUP: 1 << 3 } as const;
/** virStreamRecvFlagsValues */
export const StreamRecvFlag = { STOP_AT_HOLE: 1 << 0 } as const;
/** virDomainConsoleFlags */
export const DomainConsoleFlag = { FORCE: 1 << 0, SAFE: 1 << 1 } as const;
/** virDomainChannelFlags */
export const DomainChannelFlag = { FORCE: 1 << 0 } as const;
/** virStorageVolUploadFlags */
export const StorageVolUploadFlag = { SPARSE_STREAM: 1 << 0 } as const;
/** virStorageVolDownloadFlags */
export const StorageVolDownloadFlag = { SPARSE_STREAM: 1 << 0 } as const;
