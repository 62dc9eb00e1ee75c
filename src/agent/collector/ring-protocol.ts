// Messages between the ring reader Worker (ring-worker.ts) and the main thread (ring-reader.ts),
// and the ring's record framing both sides (and the decoder) read.

/** struct bpf_ringbuf_hdr in front of every record (u32 len, u32 pg_off), and its len bits. */
export const RING_HDR = 8;
export const RING_BUSY = 0x80000000;
export const RING_DISCARD = 0x40000000;
export type WorkerIn =
  /** wakeFd: an eventfd the main thread writes to end a poll at once (stop), or -1. */
  | { type: "start"; fd: number; size: number; cap: number; credits: number; pollMs: number; idlePollMs: number; wakeFd: number }
  /** A batch was consumed; its buffer comes back for reuse (no page faults, no GC churn). */
  | { type: "credit"; n: number; buf?: ArrayBuffer }
  | { type: "stop" };

export type WorkerOut =
  /** buf (a pooled chunk) holds the batch in its first `bytes` bytes. */
  | { type: "batch"; buf: ArrayBuffer; bytes: number; records: number }
  | { type: "error"; message: string }
  | { type: "stopped"; records: number; batches: number };
