// The collector: loads the BPF programs for a selection of events and streams raw record
// batches from the ring. Lifecycle: start() → batches via onBatch → stop() (drains, detaches).
import { BpfCollector, type LoadOptions } from "./loader.ts";
import { RingReader } from "./ring-reader.ts";
import { programsFor } from "./catalog.ts";
import { MAPS } from "./layouts.ts";
import type { EventSpec } from "./events/types.ts";

export interface CollectorOptions {
  events: readonly EventSpec[];
  ringSize: number;
  agentTgid: number;
  rateLimitPerSec?: number;
  exeAllow?: string[];
  /** Records per batch at most (the reader's cap per drain). */
  batchCap?: number;
  /** The reader's poll timeout once the ring has been empty for a second (default 1000 ms). */
  idlePollMs?: number;
  /** A view of the batch's bytes, valid until the callback (or its promise) returns. */
  onBatch: (batch: Uint8Array, records: number) => void | Promise<void>;
  onError?: (message: string) => void;
  onLog?: LoadOptions["onLog"];
  /** A BPF object to load instead of the embedded one (tests of partial builds). */
  object?: Uint8Array;
}

export class Collector {
  readonly bpf: BpfCollector;
  private reader?: RingReader;

  constructor(private readonly opts: CollectorOptions) {
    this.bpf = new BpfCollector({
      programs: programsFor(opts.events),
      enabled: [...opts.events.map((e) => e.dt), 999],
      ringSize: opts.ringSize,
      agentTgid: opts.agentTgid,
      rateLimitPerSec: opts.rateLimitPerSec,
      exeAllow: opts.exeAllow,
      onLog: opts.onLog,
    });
  }

  start(): void {
    this.bpf.load(this.opts.object);
    this.reader = new RingReader({
      fd: this.bpf.mapFd(MAPS.events),
      size: this.opts.ringSize,
      cap: this.opts.batchCap,
      idlePollMs: this.opts.idlePollMs,
      onBatch: this.opts.onBatch,
      onError: this.opts.onError,
    });
  }

  /**
   * Stop producing (every event switched off in the kernel: instant, unlike detaching, which
   * costs the kernel an RCU grace period per tracepoint, about 50 ms each here), drain what is
   * in the ring and freeze the counters. close() then detaches and frees everything.
   */
  async drain(): Promise<void> {
    if (this.lastCounters) return;
    for (const e of this.opts.events) this.bpf.setEnabled(e.dt, false);
    this.bpf.setEnabled(999, false);
    this.lastCounters = { drops: this.bpf.drops(), limited: this.bpf.rateLimited() };
    if (this.reader) this.readerStats = await this.reader.stop();
  }

  /** What the reader took from the ring, once drained ({-1, -1}: it did not answer the stop). */
  readerStats?: { records: number; batches: number };

  close(): void {
    this.bpf.close();
  }

  async stop(): Promise<void> {
    await this.drain();
    this.close();
  }

  lastCounters?: { drops: Map<number, number>; limited: Map<number, number> };

  drops(): Map<number, number> {
    return this.lastCounters?.drops ?? this.bpf.drops();
  }

  rateLimited(): Map<number, number> {
    return this.lastCounters?.limited ?? this.bpf.rateLimited();
  }
}
