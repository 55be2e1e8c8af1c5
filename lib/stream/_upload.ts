// The sending side of uploadVolume (lib/stream.ts): where the bytes come from (a file, read by its data
// and hole segments when sparse; bytes in memory; a web stream), and how they go out (zero blocks as
// holes on a sparse upload), with the progress counted as they go. Private to lib/stream.ts.
import { fileSegments } from "../ffi/sparse.ts";
import { type Stream, STREAM_CHUNK_BYTES } from "../objects/stream.ts";
import { sendChunks } from "../objects/_stream_send.ts";

const ZERO_BLOCK = 65_536;

function isZero(bytes: Uint8Array): boolean {
  // 8 bytes at a time where aligned: the scan must keep up with the stream
  const head = (8 - (bytes.byteOffset % 8)) % 8;
  for (let i = 0; i < Math.min(head, bytes.length); i++) if (bytes[i] !== 0) return false;
  const words = Math.floor((bytes.length - head) / 8);
  if (words > 0) {
    const view = new BigUint64Array(bytes.buffer, bytes.byteOffset + head, words);
    for (let i = 0; i < words; i++) if (view[i] !== 0n) return false;
  }
  for (let i = head + words * 8; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** What an upload has moved so far (lib/stream.ts's TransferProgress). */
export interface Tally {
  dataBytes: number;
  holeBytes: number;
  totalBytes?: number;
}

/** A file to upload: open, with its data and hole segments (one data segment unless sparse). */
export interface UploadFile {
  file: Deno.FsFile;
  segments: { kind: "data" | "hole"; offset: number; length: number }[];
  size: number;
}

/** Opens `path` for an upload; with `sparse`, maps its holes first. */
export async function openUploadFile(path: string, sparse: boolean): Promise<UploadFile> {
  const map = sparse ? fileSegments(path) : undefined;
  const file = await Deno.open(path, { read: true });
  try {
    const size = map?.size ?? (await file.stat()).size;
    return { file, segments: map?.segments ?? [{ kind: "data", offset: 0, length: size }], size };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** Sends data and holes on an upload's stream, counting them and reporting progress after each. */
export class UploadSender<P extends Tally> {
  readonly #stream: Stream;
  readonly #progress: P;
  readonly #onProgress: ((progress: P) => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #sparse: boolean;

  constructor(
    stream: Stream,
    progress: P,
    options: { onProgress?: (progress: P) => void; signal?: AbortSignal; sparse?: boolean },
  ) {
    this.#stream = stream;
    this.#progress = progress;
    this.#onProgress = options.onProgress;
    this.#signal = options.signal;
    this.#sparse = options.sparse ?? false;
  }

  /** Sends bytes as they are. */
  async plain(bytes: Uint8Array): Promise<void> {
    this.#signal?.throwIfAborted();
    await sendChunks(this.#stream, bytes, this.#signal);
    this.#progress.dataBytes += bytes.length;
    this.#onProgress?.({ ...this.#progress });
  }

  /** Sends a hole of `bytes` bytes. */
  async hole(bytes: number): Promise<void> {
    this.#signal?.throwIfAborted();
    await this.#stream.sendHole(bytes);
    this.#progress.holeBytes += bytes;
    this.#onProgress?.({ ...this.#progress });
  }

  /** Sends bytes of unknown content: on a sparse upload, its zero blocks become holes. */
  async data(bytes: Uint8Array): Promise<void> {
    if (!this.#sparse) return await this.plain(bytes);
    let run = 0;
    for (let at = 0; at < bytes.length; at += ZERO_BLOCK) {
      const block = bytes.subarray(at, at + ZERO_BLOCK);
      if (isZero(block)) {
        run += block.length;
        continue;
      }
      if (run > 0) await this.hole(run);
      run = 0;
      await this.plain(block);
    }
    if (run > 0) await this.hole(run);
  }

  /** Sends a file's segments, up to `limit` bytes: its holes as holes, its data as read. */
  async file(path: string, { file, segments }: UploadFile, limit: number): Promise<void> {
    let remaining = limit;
    const buffer = new Uint8Array(4 * STREAM_CHUNK_BYTES);
    for (const segment of segments) {
      if (remaining <= 0) break;
      const take = Math.min(segment.length, remaining);
      remaining -= take;
      if (segment.kind === "hole") {
        await this.hole(take);
        continue;
      }
      await file.seek(segment.offset, Deno.SeekMode.Start);
      for (let left = take; left > 0;) {
        const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
        if (n === null) {
          throw new Error(`Cannot upload ${JSON.stringify(path)}: the file shrank while being read`);
        }
        await this.plain(buffer.subarray(0, n));
        left -= n;
      }
    }
  }

  /** Sends bytes from memory, up to `limit`. */
  async bytes(source: Uint8Array, limit: number): Promise<void> {
    const bytes = source.subarray(0, Math.min(source.length, limit));
    // 1 MiB steps, a multiple of the zero-block size: holes stay aligned with the source's
    for (let at = 0; at < bytes.length; at += 16 * ZERO_BLOCK) {
      await this.data(bytes.subarray(at, at + 16 * ZERO_BLOCK));
    }
  }

  /** Sends what a web stream yields, up to `limit` bytes. */
  async readable(source: ReadableStream<Uint8Array>, limit: number): Promise<void> {
    let remaining = limit;
    const reader = source.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || remaining <= 0) break;
        const part = value.subarray(0, Math.min(value.length, remaining));
        remaining -= part.length;
        await this.data(part);
      }
    } finally {
      reader.releaseLock();
    }
  }
}
