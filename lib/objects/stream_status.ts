/**
 * libvirt's stream return conventions (end of stream, would block, at a hole) and the largest payload
 * of one stream packet: what `Stream`'s one-call methods return and how much each moves.
 *
 * @module
 */
/** libvirt's return conventions for stream calls (beyond a byte count). */
export const StreamStatus = {
  /** virStreamRecv: end of stream. */
  EOF: 0,
  /** virStreamSend/Recv on a nonblocking stream: nothing can move now; wait for readiness. */
  WOULD_BLOCK: -2,
  /** virStreamRecvFlags with `stopAtHole`: the stream is at a hole; read its length with recvHole. */
  HOLE: -3,
} as const;

/** The largest payload libvirt moves in one stream packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
export const STREAM_CHUNK_BYTES = 262_120;
