// The loop that sends a whole buffer over a stream: `send` in chunks of at most STREAM_CHUNK_BYTES,
// waiting for readiness whenever a nonblocking stream would block (it replaces virStreamSendAll,
// whose callback libvirt would call on its own thread). Several libvirt calls, so not a method of the
// Stream (docs/design.md, "The API rule"): lib/stream.ts exports it as `sendAll(stream, data)`; the
// stream's writable face, the volume upload and the deprecated `Stream.sendAll()` share it here.
import { StreamEventType } from "../ffi/constants.ts";
import { STREAM_CHUNK_BYTES, StreamStatus } from "./stream_status.ts";

/** What the loop needs of a stream: its state, one send, and a readiness wait. */
export interface SendingStream {
  readonly state: "open" | "finished" | "aborted";
  readonly freed: boolean;
  readonly label: string;
  send(data: Uint8Array): Promise<number>;
  waitReady(events: number, options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * @internal Sends all of `data` over `stream`; `signal` is checked before every chunk and ends a
 * readiness wait at once (the stream stays open: the caller decides whether to abort it).
 *
 * @param stream the stream
 * @param data the bytes
 * @param signal stops the loop with the signal's reason
 * @throws {TypeError} when the stream is no longer open
 */
export async function sendChunks(
  stream: SendingStream,
  data: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    signal?.throwIfAborted();
    if (stream.state !== "open" || stream.freed) {
      throw new TypeError(
        `Cannot write to ${stream.label}: the stream is ${stream.freed ? "freed" : stream.state}`,
      );
    }
    const n = await stream.send(data.subarray(offset, offset + STREAM_CHUNK_BYTES));
    if (n === StreamStatus.WOULD_BLOCK) await stream.waitReady(StreamEventType.WRITABLE, { signal });
    else offset += n;
  }
  signal?.throwIfAborted();
}
