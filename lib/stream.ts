/**
 * libvirt data streams (`virStreamPtr`) as web streams: a guest's console or channel, a storage
 * volume's upload or download, a screenshot.
 *
 * A {@link Stream} never holds its connection for its whole life. Each `virStreamSend`/`virStreamRecv`
 * is one short call through the connection's one-call-at-a-time gate (so a failure is read from the
 * connection's own error slot, exactly). A nonblocking stream (the default while the event loop runs)
 * answers "would block" (-2) instead of waiting; the stream then waits, without holding the gate, for
 * the readiness notice the event loop's worker posts from its `virStreamEventCallback`. A console
 * session can so stay open for hours while other calls go on over the same connection.
 *
 * The object and its one-call methods are in lib/objects/stream.ts, the calls that attach a stream to
 * a domain or a volume in lib/objects/stream_attach.ts; this module re-exports them and holds the
 * whole-volume transfers ({@link uploadVolume}, {@link downloadVolume}) built on them.
 *
 * @example
 * ```ts
 * import { Connection, lookupDomain, newStream } from "@deno-libvirt/deno-libvirt";
 * await using conn = await Connection.open("test:///default"); // consoles: qemu:///system, dom.openConsole()
 * using dom = await lookupDomain(conn, "test");
 * await using stream = newStream(conn);
 * console.log(await dom.screenshot(stream)); // "image/png"
 * const image = new Uint8Array(await new Response(stream.readable).arrayBuffer());
 * console.log(new TextDecoder().decode(image.subarray(1, 4))); // "PNG"
 * ```
 *
 * @module
 */
import type { ObjectHandle } from "./_handle.ts";
import {
  newStream,
  type Stream,
  STREAM_CHUNK_BYTES,
  StreamEventType,
  StreamStatus,
} from "./objects/stream.ts";
import type { VolumeStreamOptions } from "./objects/stream_attach.ts";
import { openUploadFile, UploadSender } from "./stream/_upload.ts";
import { sendChunks } from "./objects/_stream_send.ts";

export {
  newStream,
  type NewStreamOptions,
  type RecvFlagsOptions,
  Stream,
  STREAM_CHUNK_BYTES,
  StreamEventType,
  StreamStatus,
} from "./objects/stream.ts";
export {
  domainOpenChannel,
  domainOpenConsole,
  domainScreenshot,
  type OpenChannelOptions,
  type OpenConsoleOptions,
  volumeDownload,
  type VolumeStreamOptions,
  volumeUpload,
} from "./objects/stream_attach.ts";

/** Options for {@link sendAll}. */
export interface SendAllOptions {
  /**
   * Stops the transfer: no chunk is sent after the abort, a wait for the stream to become writable
   * ends at once, and `sendAll` rejects with the signal's reason. The stream stays open (what was sent
   * is sent): abort it (`stream.abort()`, or `await using`) to cancel the transfer on libvirt's side.
   */
  signal?: AbortSignal;
}

/**
 * Sends all of `data` over a stream: `stream.send()` in chunks of at most {@link STREAM_CHUNK_BYTES},
 * waiting (`stream.waitReady(StreamEventType.WRITABLE)`, without holding the connection) whenever a
 * nonblocking stream would block. This loop replaces virStreamSendAll, whose callback libvirt would
 * call on its own thread.
 *
 * @param stream an open stream, attached to what it feeds (`vol.upload(stream, ...)`)
 * @param data the bytes
 * @param options a `signal` to stop the transfer
 * @throws {TypeError} when the stream is no longer open
 * @throws {LibvirtError} when libvirt fails
 * @throws the signal's reason on abort
 * @example
 * ```ts
 * import { newStream, sendAll, type StorageVolume } from "@deno-libvirt/deno-libvirt";
 * // the test driver cannot transfer volumes: give it a volume of qemu:///system
 * export async function writeAll(vol: StorageVolume, data: Uint8Array, signal?: AbortSignal): Promise<void> {
 *   await using stream = newStream(vol.connection);
 *   await vol.upload(stream, 0, data.length);
 *   await sendAll(stream, data, { signal });
 *   await stream.finish();
 * }
 * ```
 */
export async function sendAll(stream: Stream, data: Uint8Array, options: SendAllOptions = {}): Promise<void> {
  await sendChunks(stream, data, options.signal);
}

// ---------------------------------------------------------------------------------------------------
// Whole-volume transfers: the loops virStreamSendAll/RecvAll/SparseSendAll/SparseRecvAll run in C,
// here in JavaScript (libvirt's versions call back into the caller for every chunk, on libvirt's thread).

/** A volume-like handle with the two stream calls (a StorageVolume). */
export interface TransferVolume extends ObjectHandle {
  /** Attaches `stream` to write into the volume from `offset` (bytes), `length` bytes (0: to the end). */
  upload(stream: Stream, offset?: number, length?: number, options?: VolumeStreamOptions): Promise<void>;
  /** Attaches `stream` to read the volume from `offset` (bytes), `length` bytes (0: to the end). */
  download(stream: Stream, offset?: number, length?: number, options?: VolumeStreamOptions): Promise<void>;
}

/** Progress of {@link uploadVolume}/{@link downloadVolume}. */
export interface TransferProgress {
  /** Bytes of data moved so far. */
  dataBytes: number;
  /** Bytes covered by holes so far (sparse transfers). */
  holeBytes: number;
  /** The total size, when known (a file or Uint8Array source). */
  totalBytes?: number;
}

/** A transfer's duration under its name and its deprecated one. */
function took(started: number): { tookMs: number; durationMs: number } {
  const ms = performance.now() - started;
  return { tookMs: ms, durationMs: ms };
}

/** What {@link uploadVolume}/{@link downloadVolume} moved. */
export interface TransferResult {
  /** Bytes of data that travelled. */
  dataBytes: number;
  /** Bytes that travelled as holes (0 unless sparse). */
  holeBytes: number;
  /** dataBytes + holeBytes: the logical size transferred. */
  totalBytes: number;
  /** Wall-clock duration in milliseconds. */
  tookMs: number;
  /**
   * The same as `tookMs`.
   *
   * @deprecated use `tookMs`, the name every other result in the library has
   */
  durationMs: number;
}

/** Options for {@link uploadVolume} and {@link downloadVolume}. */
export interface TransferOptions {
  /**
   * Keep holes: a sparse file's holes (found with SEEK_HOLE; for other sources, runs of zero
   * 64 KiB blocks) travel as holes, and a download to a file leaves them unallocated.
   */
  sparse?: boolean;
  /** Byte offset in the volume (default 0). */
  offset?: number;
  /** Bytes to transfer (default: the whole source for uploads, the rest of the volume for downloads). */
  length?: number;
  /** Called after each chunk. */
  onProgress?: (progress: TransferProgress) => void;
  /** Aborts the transfer (the stream is aborted; the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Use a nonblocking stream (see {@link NewStreamOptions.nonblocking}). Default false: during a bulk
   * transfer the next packet is never far, so a blocking recv holds the connection's gate only for
   * milliseconds, and it does not depend on the event loop's turns, which were slow under load
   * (docs/design.md has the measurements).
   */
  nonblocking?: boolean;
}

/**
 * Uploads a file, bytes or a web stream into a storage volume: virStorageVolUpload, then send (and
 * sendHole) until done, then virStreamFinish; on any failure or abort the stream is aborted.
 *
 * @param vol the target volume (its capacity must hold offset + the data)
 * @param source a file path, a Uint8Array, or a ReadableStream of bytes
 * @param options sparse, offset, length, onProgress, signal
 * @returns the bytes moved as data and as holes, and the duration
 * @throws {LibvirtError} when libvirt refuses the upload or the host fails to write
 * @throws the signal's reason when aborted
 * @example
 * ```ts
 * import { Connection, lookupStoragePool, lookupVolume, uploadVolume } from "@deno-libvirt/deno-libvirt";
 * // run with "qemu:///system": the test driver cannot transfer volumes
 * export async function uploadBase(uri: string, image: string): Promise<void> {
 *   await using conn = await Connection.open(uri);
 *   using pool = await lookupStoragePool(conn, "default");
 *   using vol = await lookupVolume(pool, "base.img");
 *   const result = await uploadVolume(vol, image, { sparse: true, signal: AbortSignal.timeout(600_000) });
 *   console.log(result.dataBytes, result.holeBytes, result.tookMs); // holes are skipped, not sent
 * }
 * ```
 */
export async function uploadVolume(
  vol: TransferVolume,
  source: string | Uint8Array | ReadableStream<Uint8Array>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const started = performance.now();
  options.signal?.throwIfAborted();
  const progress: TransferProgress = { dataBytes: 0, holeBytes: 0 };
  if (typeof source !== "string" && !(source instanceof Uint8Array) && !(source instanceof ReadableStream)) {
    throw new TypeError("Cannot upload: source must be a file path, a Uint8Array or a ReadableStream");
  }
  const file = typeof source === "string" ? await openUploadFile(source, options.sparse ?? false) : undefined;
  const size = file?.size ?? (source instanceof Uint8Array ? source.length : undefined);
  const length = options.length ?? size ?? 0;
  if (size !== undefined) progress.totalBytes = Math.min(size, length);
  try {
    await using stream = newStream(vol.connection, { nonblocking: options.nonblocking ?? false });
    await vol.upload(stream, options.offset ?? 0, length, { sparse: options.sparse });
    const send = new UploadSender(stream, progress, options);
    const limit = options.length ?? Infinity;
    if (file) await send.file(source as string, file, limit);
    else if (source instanceof Uint8Array) await send.bytes(source, limit);
    else await send.readable(source as ReadableStream<Uint8Array>, limit);
    options.signal?.throwIfAborted();
    await stream.finish();
  } finally {
    file?.file.close();
  }
  const total = progress.dataBytes + progress.holeBytes;
  return {
    dataBytes: progress.dataBytes,
    holeBytes: progress.holeBytes,
    totalBytes: total,
    ...took(started),
  };
}

/**
 * Downloads a storage volume into a file or a web stream: virStorageVolDownload, then recv (and, when
 * sparse, recvHole) until the end, then virStreamFinish. A sparse download into a file leaves the
 * holes unallocated (seeks over them and sets the final size); into a web stream, holes arrive as zeros.
 *
 * @param vol the volume to read
 * @param sink a file path (created or truncated) or a WritableStream of bytes
 * @param options sparse, offset, length, onProgress, signal
 * @returns the bytes moved as data and as holes, and the duration
 * @throws {LibvirtError} when libvirt refuses the download or the transfer fails
 * @throws the signal's reason when aborted
 * @example
 * ```ts
 * import { Connection, downloadVolume, lookupStoragePool, lookupVolume } from "@deno-libvirt/deno-libvirt";
 * // run with "qemu:///system": the test driver cannot transfer volumes
 * export async function backUp(uri: string, volume: string, file: string): Promise<void> {
 *   await using conn = await Connection.open(uri);
 *   using pool = await lookupStoragePool(conn, "default");
 *   using vol = await lookupVolume(pool, volume);
 *   const result = await downloadVolume(vol, file, { sparse: true }); // a sparse copy
 *   console.log(`${result.dataBytes} bytes of data, ${result.holeBytes} of holes`);
 * }
 * ```
 */
export async function downloadVolume(
  vol: TransferVolume,
  sink: string | WritableStream<Uint8Array>,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const started = performance.now();
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  if (typeof sink !== "string" && !(sink instanceof WritableStream)) {
    throw new TypeError("Cannot download: sink must be a file path or a WritableStream");
  }
  const progress: TransferProgress = { dataBytes: 0, holeBytes: 0 };
  await using stream = newStream(vol.connection, { nonblocking: options.nonblocking ?? false });
  await vol.download(stream, options.offset ?? 0, options.length ?? 0, { sparse: options.sparse });
  const file = typeof sink === "string"
    ? await Deno.open(sink, { write: true, create: true, truncate: true })
    : undefined;
  const writer = typeof sink === "string" ? undefined : sink.getWriter();
  let position = 0;
  let failed = true;
  try {
    const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
    const zeros = writer && options.sparse ? new Uint8Array(STREAM_CHUNK_BYTES * 4) : undefined;
    for (;;) {
      signal?.throwIfAborted();
      const n = await stream.recvFlags(buffer, { stopAtHole: options.sparse });
      if (n > 0) {
        const data = buffer.subarray(0, n);
        if (file) {
          for (let at = 0; at < n;) at += await file.write(data.subarray(at));
        } else await writer!.write(data.slice());
        position += n;
        progress.dataBytes += n;
        onProgress?.({ ...progress });
      } else if (n === StreamStatus.EOF) {
        break;
      } else if (n === StreamStatus.HOLE) {
        const hole = await stream.recvHole();
        if (file) await file.seek(hole, Deno.SeekMode.Current);
        else {
          for (let left = hole; left > 0; left -= zeros!.length) {
            await writer!.write(zeros!.slice(0, Math.min(left, zeros!.length)));
          }
        }
        position += hole;
        progress.holeBytes += hole;
        onProgress?.({ ...progress });
      } else {
        await stream.waitReady(StreamEventType.READABLE);
      }
    }
    await stream.finish();
    if (file) await file.truncate(position); // a trailing hole: the size without allocating it
    failed = false;
  } finally {
    file?.close();
    if (writer) {
      if (failed) await writer.abort().catch(() => {});
      else await writer.close();
    }
  }
  return {
    dataBytes: progress.dataBytes,
    holeBytes: progress.holeBytes,
    totalBytes: position,
    ...took(started),
  };
}
