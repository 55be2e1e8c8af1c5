// The web-stream faces of a Stream (`readable`, `writable`), built on its one-call methods with
// backpressure: no recv while the readable's queue is full, a write resolves once libvirt took the
// data. Private to lib/objects/stream.ts.
import { STREAM_CHUNK_BYTES, StreamStatus } from "./stream_status.ts";
import { StreamEventType } from "../ffi/constants.ts";

/** What the faces need of their stream. */
export interface StreamIo {
  /** True while the stream is open and not freed. */
  isOpen(): boolean;
  recv(buffer: Uint8Array): Promise<number>;
  sendAll(data: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  /** Waits until the stream is ready for `events`. */
  waitReady(events: number): Promise<void>;
  /** Aborts the stream, unless it already ended or failed. */
  abortQuietly(): Promise<void>;
}

/** One stream's readable and writable, made on first use. */
export class WebFaces {
  readonly #io: StreamIo;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #readDone = false;

  constructor(io: StreamIo) {
    this.#io = io;
  }

  /**
   * Reads the next chunk: recv until data, end (then finish) or, on a nonblocking stream, readiness.
   * Null at the end of the stream.
   */
  async #readChunk(buffer: Uint8Array): Promise<Uint8Array | null> {
    for (;;) {
      if (!this.#io.isOpen()) return null;
      const n = await this.#io.recv(buffer);
      if (n > 0) return n < buffer.length / 4 ? buffer.slice(0, n) : buffer.subarray(0, n);
      if (n === StreamStatus.EOF) {
        this.#readDone = true;
        if (this.#io.isOpen()) await this.#io.finish();
        return null;
      }
      await this.#io.waitReady(StreamEventType.READABLE);
    }
  }

  /** The incoming data; ends at the end of the stream, cancelling it aborts the stream. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let chunk: Uint8Array | null;
        try {
          chunk = await this.#readChunk(new Uint8Array(STREAM_CHUNK_BYTES));
        } catch (error) {
          await this.#io.abortQuietly();
          throw error;
        }
        if (chunk === null) {
          this.#readDone = true;
          controller.close();
        } else controller.enqueue(chunk);
      },
      cancel: async () => {
        this.#readDone = true;
        await this.#io.abortQuietly();
      },
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
  }

  /** The outgoing data; closing it finishes the stream unless the readable is still being read. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: async (chunk) => {
        try {
          await this.#io.sendAll(chunk);
        } catch (error) {
          await this.#io.abortQuietly();
          throw error;
        }
      },
      close: async () => {
        if (this.#io.isOpen() && (this.#readable === undefined || this.#readDone)) await this.#io.finish();
      },
      abort: async () => {
        await this.#io.abortQuietly();
      },
    }, new CountQueuingStrategy({ highWaterMark: 4 }));
  }
}
