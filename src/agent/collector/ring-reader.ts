// Main-thread side of the ring reader: starts the Worker, hands each batch of raw records (one
// ArrayBuffer, records back to back, each starting with struct vigil_hdr) to a callback, and
// returns a credit when the callback is done, which bounds the memory held in flight.
import { ptr } from "bun:ffi";
import { libc } from "./libc.ts";
import type { WorkerIn, WorkerOut } from "./ring-protocol.ts";

const EFD_NONBLOCK = 0o4000, EFD_CLOEXEC = 0o2000000;
/** The u64 an eventfd write adds. */
const ONE = new BigUint64Array([1n]);

export interface RingReaderOptions {
  fd: number;
  size: number;
  /** Records per batch at most. */
  cap?: number;
  /** Batches in flight at most before the reader pauses. */
  credits?: number;
  /**
   * poll(2) timeout when the ring is empty (default 100 ms): the kernel side submits without a
   * wakeup until an eighth of the ring waits (bpf/lib/common.h), so this is the latency of a
   * quiet host's events; under load the wakeup comes at once.
   */
  pollMs?: number;
  /**
   * The timeout once the ring has been empty for a second (default 1000 ms): an idle agent
   * wakes once a second, not ten times (each wakeup of a Bun event loop costs ~0.3 ms of CPU),
   * and the first event after a quiet second waits up to this long. stop() ends it at once.
   */
  idlePollMs?: number;
  /** batch: a view of exactly the batch's bytes, valid until the callback (or its promise)
   * returns; the buffer behind it is then handed back to the reader and reused. */
  onBatch: (batch: Uint8Array, records: number) => void | Promise<void>;
  onError?: (message: string) => void;
}

/** Set by scripts/build.ts for compiled binaries: the worker's path inside the executable
 * (relative to the embedded root, the entry points' common directory). */
declare const VIGIL_RING_WORKER: string | undefined;

function workerEntry(): string {
  if (typeof VIGIL_RING_WORKER === "string") return VIGIL_RING_WORKER;
  return new URL("./ring-worker.ts", import.meta.url).href;
}

export class RingReader {
  private worker: Worker;
  private stopped: Promise<{ records: number; batches: number }>;

  constructor(private readonly opts: RingReaderOptions) {
    this.worker = new Worker(workerEntry());
    let resolveStopped!: (v: { records: number; batches: number }) => void;
    this.stopped = new Promise((r) => (resolveStopped = r));
    this.worker.onerror = (ev: ErrorEvent) => {
      opts.onError?.(`ring reader worker failed: ${ev.message}`);
    };
    this.worker.onmessage = async (ev: MessageEvent<WorkerOut>) => {
      const m = ev.data;
      if (m.type === "batch") {
        try {
          await opts.onBatch(new Uint8Array(m.buf, 0, m.bytes), m.records);
        } finally {
          this.send({ type: "credit", n: 1, buf: m.buf }, [m.buf]);
        }
      } else if (m.type === "error") {
        opts.onError?.(m.message);
      } else if (m.type === "stopped") {
        resolveStopped({ records: m.records, batches: m.batches });
      }
    };
    this.wakeFd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    this.send({
      type: "start", fd: opts.fd, size: opts.size, cap: opts.cap ?? 8192,
      credits: opts.credits ?? 64, pollMs: opts.pollMs ?? 100, idlePollMs: opts.idlePollMs ?? 1000,
      wakeFd: this.wakeFd,
    });
  }
  /** Ends the Worker's poll at once (stop); -1 if eventfd failed (then stop waits for it). */
  private readonly wakeFd: number;

  private send(m: WorkerIn, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Stop after the current turn; resolves once the Worker has unmapped the ring. */
  async stop(): Promise<{ records: number; batches: number }> {
    this.send({ type: "stop" });
    if (this.wakeFd >= 0) libc().write(this.wakeFd, ptr(ONE), 8);
    const res = await Promise.race([
      this.stopped,
      Bun.sleep(3000).then(() => ({ records: -1, batches: -1 })),
    ]);
    this.worker.terminate();
    if (this.wakeFd >= 0) libc().close(this.wakeFd);
    return res;
  }
}
