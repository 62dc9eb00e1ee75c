// The embedded event store, Vigil's default sink: batches are appended to segment files
// (segment.ts, entry.ts) and write() resolves only after an fdatasync; concurrent writes share
// one fdatasync (group commit). Old segments go by age (retentionMs) and total size (maxBytes).
// A torn tail left by a crash is truncated on open. Each segment has an index (segment-index.ts):
// in memory while it is active, saved next to it when sealed (index-files.ts), rebuilt on open
// when missing or stale, removed with it by retention. Runs on Bun and Node.js (node:fs only).
import { mkdirSync, openSync, closeSync, writeSync, writevSync, fsyncSync, ftruncateSync, statSync, unlinkSync, fdatasync as fsFdatasync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../common/log.ts";
import type { AgentBatch, Sink } from "../sink.ts";
import { frameEntry, FRAME_HEADER_BYTES, listSegments, scanSegment, segmentFileName, segmentPath, SEGMENT_MAGIC, MAX_ENTRY_BYTES, type SegmentName } from "./segment.ts";
import { encodeEntry, frameWireParts, isWireBatch } from "./entry.ts";
import { peekDataTypes } from "./entry-peek.ts";
import { scanEvents, type EventQuery, type IndexView } from "./query.ts";
import { SegmentIndex } from "./segment-index.ts";
import { SealedIndexes } from "./sealed-indexes.ts";
import { lockDir } from "./dir-lock.ts";
import type { ReadEvent } from "./event-format.ts";

export type { EventQuery } from "./query.ts";

export interface StoreOptions {
  dir: string;
  retentionMs: number;
  maxBytes: number;
  log: Logger;
  /**
   * roll to a new segment past this size; default maxBytes/16 within [1 MiB, 16 MiB] (a reader in
   * another process reads the active segment without an index, so this bounds its cost)
   */
  segmentBytes?: number;
  /** keep per-segment indexes (default true); false reads every segment in order, as before them */
  index?: boolean;
  /** sealed segments' indexes kept in memory, by their estimated size (default 192 MiB) */
  indexCacheBytes?: number;
  /** how often retention runs besides every roll; default 60 s */
  retentionCheckMs?: number;
}

export interface StoredEvent {
  agent_id: string;
  hostname: string;
  data_type: number;
  /** unix ns (exact up to 2^53; the CLI prints exact digits) */
  timestamp: number;
  /** server receive time, unix ms */
  server_time: number;
  fields: Record<string, string>;
}

export interface StoreStats {
  segments: number;
  bytes: number;
  batchesWritten: number;
  recordsWritten: number;
  bytesWritten: number;
  /** fdatasync calls (group commits) */
  commits: number;
  writeErrors: number;
  /** writes refused: store closed or batch too large */
  writesRefused: number;
  tornBytesTruncated: number;
  segmentsDeletedAge: number;
  segmentsDeletedSize: number;
  queryCorrupt: number;
  /** sealed segments' index files rebuilt from the segment (missing, torn, corrupt or stale) */
  indexesRebuilt: number;
  /** index files that could not be written (queries then rebuild or read in order) */
  indexWriteErrors: number;
}

export interface EventStore extends Sink {
  readonly dir: string;
  query(q: EventQuery): Promise<StoredEvent[]>;
  stats(): StoreStats;
  /** run retention now (also runs on every roll and every retentionCheckMs) */
  enforceRetention(now?: number): void;
}

const DEFAULT_QUERY_LIMIT = 10_000;
const MiB = 1 << 20;
const MAX_DEFAULT_SEGMENT_BYTES = 16 * MiB;
const DEFAULT_INDEX_CACHE_BYTES = 192 * MiB;

interface Pending {
  /** the framed entry's buffers, written in order (the wire bytes are not copied) */
  parts: Buffer[];
  /** their total length */
  length: number;
  records: number;
  receivedAt: number;
  agentId: string;
  /** undefined: the batch's data types could not be read (indexed as unreadable) */
  dataTypes: ArrayLike<number> | undefined;
  resolve(): void;
  reject(e: Error): void;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write buf at position, synchronously: one pwrite of a group commit into the page cache costs
 * tens of µs, while Bun's callback fs.write (a thread-pool round trip per call) showed up as
 * about 13% of the AC's main thread under load. The fdatasync stays asynchronous. Measured again
 * with fs.writev (callback) per group commit: the copy into the page cache is ~5% of the main
 * thread (perf), but at 10,000 agents the async writev made the durable rate fall from ~102k to
 * 53k records/s with event-loop lag near 1 s: keep it synchronous.
 */
function writeAll(fd: number, buf: Buffer, position: number): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

const whole = (b: Buffer): { parts: Buffer[]; length: number } => ({ parts: [b], length: b.length });

/** writeAll of the group's buffers with pwritev (no concatenated copy), 1,024 at a time (IOV_MAX). */
function writeGroup(fd: number, bufs: Buffer[], position: number): number {
  let off = 0;
  for (let i = 0; i < bufs.length; i += 1024) {
    const slice = bufs.length <= 1024 ? bufs : bufs.slice(i, i + 1024);
    let want = 0;
    for (const b of slice) want += b.length;
    const n = writevSync(fd, slice, position + off);
    if (n < want) writeAll(fd, Buffer.concat(slice).subarray(n), position + off + n); // short write: the rest
    off += want;
  }
  return off;
}

/** The data_type of each record of a batch, without decoding a WireBatch's records. */
function dataTypesOf(batch: AgentBatch): ArrayLike<number> | undefined {
  const given = (batch as { dataTypes?: ArrayLike<number> }).dataTypes;
  if (given) return given;
  if (!isWireBatch(batch)) return batch.records.map((r) => r.dataType ?? 0);
  try {
    return peekDataTypes(batch.wire);
  } catch {
    return undefined;
  }
}

const fdatasync = (fd: number) => new Promise<void>((resolve, reject) => fsFdatasync(fd, (e) => (e ? reject(e) : resolve())));

class SegmentStore implements EventStore {
  readonly name = "store";
  private readonly segmentBytes: number;
  private active!: SegmentName & { fd: number; size: number; ix: SegmentIndex };
  /** undefined when the store keeps no indexes (StoreOptions.index false) */
  private readonly sealed: SealedIndexes | undefined;
  private durable = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private releaseLock: () => void;
  private readonly s: StoreStats = { segments: 0, bytes: 0, batchesWritten: 0, recordsWritten: 0, bytesWritten: 0, commits: 0, writeErrors: 0, writesRefused: 0, tornBytesTruncated: 0, segmentsDeletedAge: 0, segmentsDeletedSize: 0, queryCorrupt: 0, indexesRebuilt: 0, indexWriteErrors: 0 };

  constructor(private readonly o: StoreOptions) {
    this.segmentBytes = o.segmentBytes ?? Math.min(MAX_DEFAULT_SEGMENT_BYTES, Math.max(MiB, Math.floor(o.maxBytes / 16)));
    if (o.index ?? true) this.sealed = new SealedIndexes(o.dir, o.log, this.s, o.indexCacheBytes ?? DEFAULT_INDEX_CACHE_BYTES);
    mkdirSync(o.dir, { recursive: true });
    this.releaseLock = lockDir(o.dir);
    try {
      this.recover();
      this.roll(Date.now());
      this.enforceRetention();
      this.sealed?.prepare(this.active.index);
    } catch (e) {
      this.releaseLock();
      throw e;
    }
    this.timer = setInterval(() => this.enforceRetention(), o.retentionCheckMs ?? 60_000);
    this.timer.unref?.();
  }

  get dir(): string {
    return this.o.dir;
  }

  /** Truncate a torn tail of the newest segment (the only one that was being appended). */
  private recover(): void {
    const segs = listSegments(this.o.dir);
    const last = segs.at(-1);
    if (!last) return;
    const p = segmentPath(this.o.dir, last);
    const r = scanSegment(p);
    if (!r.validHeader) {
      this.o.log.warn("removing a segment without a valid header (torn at creation)", { file: p, bytes: r.tornBytes });
      this.s.tornBytesTruncated += r.tornBytes;
      unlinkSync(p);
    } else if (r.tornBytes > 0) {
      this.o.log.warn("truncating a torn tail after an unclean stop", { file: p, good_bytes: r.goodBytes, torn_bytes: r.tornBytes, entries: r.entries });
      const fd = openSync(p, "r+");
      try {
        ftruncateSync(fd, r.goodBytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.s.tornBytesTruncated += r.tornBytes;
    }
  }

  private roll(now: number): void {
    const segs = listSegments(this.o.dir);
    const index = (segs.at(-1)?.index ?? 0) + 1;
    // names must sort by creation time too (query skips segments by it)
    const createdMs = Math.max(now, segs.at(-1)?.createdMs ?? 0);
    const file = segmentFileName(index, createdMs);
    const fd = openSync(join(this.o.dir, file), "wx", 0o640);
    writeSync(fd, SEGMENT_MAGIC);
    fsyncSync(fd);
    fsyncDir(this.o.dir);
    const prev = this.active;
    const ix = new SegmentIndex();
    ix.coveredBytes = SEGMENT_MAGIC.length;
    this.active = { file, index, createdMs, fd, size: SEGMENT_MAGIC.length, ix };
    this.durable = SEGMENT_MAGIC.length;
    this.s.segments++;
    this.s.bytes += SEGMENT_MAGIC.length;
    if (prev) {
      closeSync(prev.fd);
      this.sealed?.seal(prev, prev.ix);
    }
  }

  write(batch: AgentBatch): Promise<void> {
    if (this.closed) {
      this.s.writesRefused++;
      return Promise.reject(new Error(`event store ${this.o.dir} is closed`));
    }
    const wire = isWireBatch(batch);
    const framed = wire ? frameWireParts(batch) : whole(frameEntry(encodeEntry(batch)));
    if (framed.length - FRAME_HEADER_BYTES > MAX_ENTRY_BYTES) {
      this.s.writesRefused++;
      return Promise.reject(new Error(`batch of ${framed.length - FRAME_HEADER_BYTES} bytes exceeds the store's entry limit of ${MAX_ENTRY_BYTES}`));
    }
    const records = wire ? batch.recordCount : batch.records.length;
    const dataTypes = this.sealed ? dataTypesOf(batch) : undefined;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ parts: framed.parts, length: framed.length, records, receivedAt: batch.receivedAt, agentId: batch.agentId, dataTypes, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // let the batches read in this turn of the event loop join the first group
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const seg = this.active;
      try {
        const start = seg.size;
        const bytes = writeGroup(seg.fd, group.length === 1 ? group[0].parts : group.flatMap((p) => p.parts), start);
        seg.size += bytes;
        await fdatasync(seg.fd);
        if (this.sealed) {
          // indexed once durable: a failed write leaves the index as the file is cut back to
          for (let p = 0, off = start; p < group.length; off += group[p].length, p++) {
            const g = group[p];
            seg.ix.add(off, g.length, g.receivedAt, g.dataTypes && g.agentId, g.dataTypes ?? []);
          }
        }
        this.durable = seg.size;
        this.s.commits++;
        this.s.batchesWritten += group.length;
        this.s.bytesWritten += bytes;
        this.s.bytes += bytes;
        for (const p of group) {
          this.s.recordsWritten += p.records;
          p.resolve();
        }
      } catch (e) {
        this.s.writeErrors += group.length;
        this.o.log.error("event store write failed", { file: seg.file, error: e as Error, batches: group.length });
        for (const p of group) p.reject(new Error(`event store write failed: ${(e as Error).message}`));
        // what reached the file is unknown: cut back to the durable length, else start afresh
        try {
          ftruncateSync(seg.fd, this.durable);
          seg.size = this.durable;
        } catch {
          try { this.roll(Date.now()); } catch {}
        }
      }
      if (this.active.size >= this.segmentBytes && !this.closed) {
        try {
          this.roll(Date.now());
          this.enforceRetention();
        } catch (e) {
          this.o.log.error("event store cannot start a new segment", { error: e as Error });
        }
      }
    }
    this.flushing = null;
  }

  enforceRetention(now = Date.now()): void {
    const segs = listSegments(this.o.dir);
    const sizes = segs.map((s) => {
      try {
        return statSync(segmentPath(this.o.dir, s)).size;
      } catch {
        return 0;
      }
    });
    let total = sizes.reduce((a, b) => a + b, 0);
    const del = (i: number, why: "age" | "size") => {
      try {
        unlinkSync(segmentPath(this.o.dir, segs[i]));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      // after its segment: a crash in between leaves an orphan index, removed at the next open
      this.sealed?.remove(segs[i]);
      total -= sizes[i];
      why === "age" ? this.s.segmentsDeletedAge++ : this.s.segmentsDeletedSize++;
      this.o.log.info("event store retention removed a segment", { file: segs[i].file, reason: why, bytes: sizes[i] });
    };
    let i = 0;
    // segment i's newest entry was written before segment i+1 was created
    for (; i < segs.length - 1 && segs[i].index !== this.active.index; i++) {
      if (segs[i + 1].createdMs < now - this.o.retentionMs) del(i, "age");
      else if (total > this.o.maxBytes) del(i, "size");
      else break;
    }
    this.s.segments = segs.length - i;
    this.s.bytes = total;
  }

  async query(q: EventQuery): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    const active = this.active;
    const durable = this.durable;
    const sealed = this.sealed;
    const index = sealed !== undefined && ((seg: SegmentName): IndexView => (seg.file === active.file ? { index: active.ix, maxOffset: durable } : { index: sealed.get(seg), maxOffset: Infinity }));
    const r = scanEvents(this.o.dir, { ...q, limit: q.limit ?? DEFAULT_QUERY_LIMIT }, (e: ReadEvent) => {
      out.push({ agent_id: e.agentId, hostname: e.hostname, data_type: e.dataType, timestamp: Number(e.tsNs), server_time: e.serverTime, fields: e.fields });
    }, { durableBytes: (file) => (file === active.file ? durable : undefined), index });
    this.s.queryCorrupt += r.corrupt;
    return out;
  }

  stats(): StoreStats {
    return { ...this.s };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    while (this.flushing) await this.flushing;
    closeSync(this.active.fd);
    // the next open starts a new segment: this one is sealed now (and readable by its index)
    this.sealed?.seal(this.active, this.active.ix);
    this.releaseLock();
  }
}

export async function openEventStore(o: StoreOptions): Promise<EventStore> {
  if (!(o.retentionMs > 0)) throw new Error(`event store retention must be > 0 ms, not ${o.retentionMs}`);
  if (!(o.maxBytes > 0)) throw new Error(`event store max size must be > 0 bytes, not ${o.maxBytes}`);
  return new SegmentStore(o);
}
