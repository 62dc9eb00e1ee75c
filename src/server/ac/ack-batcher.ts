// Coalesces the AC's acknowledgements: ack_seq is cumulative (every batch ≤ ack_seq is durable),
// so a stream needs at most one Command{ack_seq} per interval instead of one per batch (10 per
// second per agent at Vigil's 100 ms batches; each is an HTTP/2 DATA frame, a TLS record and a
// write). One timer for all streams. intervalMs 0 sends every ack at once (one per batch).
export interface AckTarget {
  /** send Command{ack_seq: seq} on the stream */
  sendAck(seq: number): void;
}

export class AckBatcher {
  private readonly due = new Map<AckTarget, number>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly intervalMs: number) {
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.flushAll(), intervalMs);
      this.timer.unref?.();
    }
  }

  /** seq of `t` is durable (called in seq order per stream). */
  durable(t: AckTarget, seq: number): void {
    if (this.intervalMs <= 0) t.sendAck(seq);
    else this.due.set(t, seq);
  }

  /** Send t's pending ack now (before its stream ends). */
  flush(t: AckTarget): void {
    const seq = this.due.get(t);
    if (seq === undefined) return;
    this.due.delete(t);
    t.sendAck(seq);
  }

  /** Forget t's pending ack (its stream is gone). */
  drop(t: AckTarget): void {
    this.due.delete(t);
  }

  private flushAll(): void {
    if (this.due.size === 0) return;
    const due = [...this.due];
    this.due.clear();
    for (const [t, seq] of due) t.sendAck(seq);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flushAll();
  }
}
