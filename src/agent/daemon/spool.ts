// The agent's bounded on-disk spool of encoded batches (the heart of "no loss", DESIGN.md
// "Delivery guarantees"): every batch is appended here before it is sent and stays until the AC
// acknowledges its seq. Segment files of frames [u32 len][u32 crc32][u64 seq][u32 records]
// [payload]; a torn tail is cut off on open. Over the size limit the oldest segment is dropped
// (counted); if the disk fails, batches are kept in memory (bounded, counted) and sending goes on.
import {
  closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, readSync,
  renameSync, statSync, unlinkSync, writeFileSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";

export const FRAME_HEADER = 20;
const SEG_SUFFIX = ".seg";
const STATE_FILE = "spool.state";
/** Sequence numbers are reserved in blocks, so seq keeps increasing across crashes. */
const SEQ_RESERVE = 1000;
/** After a write error, the disk is tried again after this long. */
const DISK_RETRY_MS = 5000;
/** A frame longer than this is corruption, not a batch (batches are capped far below). */
const MAX_FRAME_PAYLOAD = 64 << 20;

export interface SpoolOptions {
  dir: string;
  /** Bytes on disk at most (segments); the oldest batches are dropped beyond it. */
  maxBytes: number;
  /** Size at which a new segment is started (default: maxBytes / 8, at most 8 MiB). */
  segmentBytes?: number;
  /** Recent payloads kept in memory so sending rarely reads the disk (default 16 MiB). */
  cacheBytes?: number;
  /** Batches kept only in memory (the disk failed) at most, in bytes (default 64 MiB). */
  memoryBytes?: number;
  now?: () => number;
}

export interface SpoolStats {
  /** unacknowledged batches held */
  depth: number;
  /** their payload bytes */
  bytes: number;
  diskBytes: number;
  memoryOnlyBatches: number;
  droppedBatches: number;
  droppedRecords: number;
  writeErrors: number;
  readErrors: number;
  stateErrors: number;
  tornTails: number;
  tornBytes: number;
  diskFailed: boolean;
  lastError: string;
  acked: number;
  lastSeq: number;
}

interface Segment {
  path: string;
  firstSeq: number;
  lastSeq: number;
  size: number;
}

export interface SpoolEntry {
  readonly seq: number;
  readonly records: number;
  readonly length: number;
  /** null: memory only */
  seg: Segment | null;
  off: number;
  data?: Uint8Array;
}

function segName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, "0")}${SEG_SUFFIX}`;
}

function frameCrc(frame: Uint8Array): number {
  return crc32(frame.subarray(8)) >>> 0;
}

export class Spool {
  private readonly segBytes: number;
  private readonly cacheLimit: number;
  private readonly memLimit: number;
  private readonly now: () => number;
  /** unacked entries in seq order; entries before `head` are gone */
  private entries: SpoolEntry[] = [];
  private head = 0;
  private segments: Segment[] = [];
  private cur: { seg: Segment; fd: number } | null = null;
  private diskBytes = 0;
  private cachedBytes = 0;
  private memOnlyBytes = 0;
  private memOnly = 0;
  private acked = 0;
  private nextSeq = 1;
  private reserved = 0;
  private diskRetryAt = 0;
  private stateDirty = false;
  private readonly st = { droppedBatches: 0, droppedRecords: 0, writeErrors: 0, readErrors: 0, stateErrors: 0, tornTails: 0, tornBytes: 0 };
  /** the last error, for the log and the heartbeat's state_detail */
  lastError = "";

  private constructor(private readonly opts: SpoolOptions) {
    this.segBytes = opts.segmentBytes ?? Math.max(64 << 10, Math.min(8 << 20, Math.floor(opts.maxBytes / 8)));
    this.cacheLimit = opts.cacheBytes ?? 16 << 20;
    this.memLimit = opts.memoryBytes ?? 64 << 20;
    this.now = opts.now ?? Date.now;
  }

  /** Open (creating the directory) and recover what a previous run left. Throws if the directory cannot be made. */
  static open(opts: SpoolOptions): Spool {
    mkdirSync(opts.dir, { recursive: true });
    const s = new Spool(opts);
    s.recover();
    return s;
  }

  private recover(): void {
    try {
      const st = JSON.parse(readFileSync(join(this.opts.dir, STATE_FILE), "utf8"));
      if (Number.isSafeInteger(st.acked) && st.acked >= 0) this.acked = st.acked;
      if (Number.isSafeInteger(st.reserved) && st.reserved >= 0) this.reserved = st.reserved;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.st.stateErrors++;
    }
    const files = readdirSync(this.opts.dir).filter((f) => /^\d{20}\.seg$/.test(f)).sort();
    let last = this.acked;
    for (const f of files) {
      const path = join(this.opts.dir, f);
      let buf: Buffer;
      try {
        buf = readFileSync(path);
      } catch (e) {
        this.st.readErrors++;
        this.lastError = `cannot read spool segment ${path}: ${(e as Error).message}`;
        continue;
      }
      const seg: Segment = { path, firstSeq: 0, lastSeq: 0, size: 0 };
      const found: SpoolEntry[] = [];
      let off = 0;
      while (off + FRAME_HEADER <= buf.length) {
        const len = buf.readUInt32LE(off);
        if (len > MAX_FRAME_PAYLOAD || off + FRAME_HEADER + len > buf.length) break;
        const frame = buf.subarray(off, off + FRAME_HEADER + len);
        if (frameCrc(frame) !== buf.readUInt32LE(off + 4)) break;
        const seq = Number(buf.readBigUInt64LE(off + 8));
        const records = buf.readUInt32LE(off + 16);
        if (seq > last) { // older or repeated seqs (acked, or a replayed copy) are skipped
          found.push({ seq, records, length: len, seg, off });
          last = seq;
        }
        off += FRAME_HEADER + len;
      }
      if (off < buf.length) { // torn or corrupt tail: cut it off, keep what was whole
        this.st.tornTails++;
        this.st.tornBytes += buf.length - off;
        try {
          const fd = openSync(path, "r+");
          try { ftruncateSync(fd, off); } finally { closeSync(fd); }
        } catch (e) {
          this.st.writeErrors++;
          this.lastError = `cannot truncate torn spool segment ${path}: ${(e as Error).message}`;
        }
      }
      if (found.length === 0) {
        this.unlink(path);
        continue;
      }
      seg.firstSeq = found[0].seq;
      seg.lastSeq = found[found.length - 1].seq;
      seg.size = off;
      this.segments.push(seg);
      this.diskBytes += off;
      this.entries.push(...found);
    }
    this.nextSeq = Math.max(this.reserved, last) + 1;
    this.reserveSeq();
  }

  /** The next batch sequence number (increasing, never reused, across restarts). */
  allocSeq(): number {
    const s = this.nextSeq++;
    if (this.nextSeq > this.reserved) this.reserveSeq();
    return s;
  }

  private reserveSeq(): void {
    this.reserved = this.nextSeq + SEQ_RESERVE;
    this.writeState();
  }

  /** Append one encoded batch. Never throws: disk errors are counted and the batch is kept in memory. */
  append(seq: number, data: Uint8Array, records: number): void {
    const e: SpoolEntry = { seq, records, length: data.length, seg: null, off: 0, data };
    if (!this.writeFrame(e, data)) {
      this.memOnly++;
      this.memOnlyBytes += data.length;
    } else {
      this.cachedBytes += data.length;
    }
    this.entries.push(e);
    this.enforceLimits();
  }

  private writeFrame(e: SpoolEntry, data: Uint8Array): boolean {
    if (this.diskRetryAt > this.now()) return false;
    const frame = Buffer.allocUnsafe(FRAME_HEADER + data.length);
    frame.writeUInt32LE(data.length, 0);
    frame.writeBigUInt64LE(BigInt(e.seq), 8);
    frame.writeUInt32LE(e.records, 16);
    frame.set(data, FRAME_HEADER);
    frame.writeUInt32LE(frameCrc(frame), 4);
    let cur: { seg: Segment; fd: number } | null = null;
    try {
      if (this.cur && this.cur.seg.size > 0 && this.cur.seg.size + frame.length > this.segBytes) this.closeSegment();
      if (!this.cur) {
        const seg: Segment = { path: join(this.opts.dir, segName(e.seq)), firstSeq: e.seq, lastSeq: e.seq, size: 0 };
        this.cur = { seg, fd: openSync(seg.path, "w") };
        this.segments.push(seg);
      }
      cur = this.cur;
      let done = 0;
      while (done < frame.length) done += writeSync(cur.fd, frame, done, frame.length - done);
    } catch (err) {
      this.st.writeErrors++;
      this.lastError = `spool write failed in ${this.opts.dir}: ${(err as Error).message}`;
      this.diskRetryAt = this.now() + DISK_RETRY_MS;
      if (cur) {
        try { ftruncateSync(cur.fd, cur.seg.size); } catch {} // drop the partial frame
      }
      this.closeSegment();
      return false;
    }
    e.seg = cur.seg;
    e.off = cur.seg.size;
    cur.seg.size += frame.length;
    cur.seg.lastSeq = e.seq;
    this.diskBytes += frame.length;
    this.diskRetryAt = 0;
    return true;
  }

  private closeSegment(): void {
    if (!this.cur) return;
    const { seg, fd } = this.cur;
    this.cur = null;
    try { fsyncSync(fd); } catch {}
    try { closeSync(fd); } catch {}
    if (seg.size === 0) {
      this.segments = this.segments.filter((s) => s !== seg);
      this.unlink(seg.path);
    }
  }

  private enforceLimits(): void {
    // disk: drop the oldest segment (never the one being written) while over the limit
    while (this.diskBytes > this.opts.maxBytes && this.segments.length > 0) {
      const victim = this.segments[0];
      if (this.cur?.seg === victim) {
        if (this.segments.length === 1) this.closeSegment(); // one huge segment: let it go too
        else break;
      }
      this.dropSegment(victim);
    }
    // memory-only batches (disk failing): drop the oldest beyond the limit
    if (this.memOnlyBytes > this.memLimit) {
      const keep: SpoolEntry[] = [];
      for (let i = this.head; i < this.entries.length; i++) {
        const e = this.entries[i];
        if (e.seg === null && this.memOnlyBytes > this.memLimit) {
          this.memOnlyBytes -= e.length;
          this.memOnly--;
          this.countDrop(e);
        } else keep.push(e);
      }
      this.entries = keep;
      this.head = 0;
    }
    // cache: forget payloads of the oldest disk-backed entries
    for (let i = this.head; i < this.entries.length && this.cachedBytes > this.cacheLimit; i++) {
      const e = this.entries[i];
      if (e.seg && e.data) {
        e.data = undefined;
        this.cachedBytes -= e.length;
      }
    }
  }

  private countDrop(e: SpoolEntry): void {
    this.st.droppedBatches++;
    this.st.droppedRecords += e.records;
  }

  private dropSegment(seg: Segment): void {
    const keep: SpoolEntry[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.seg === seg) {
        this.countDrop(e);
        if (e.data) this.cachedBytes -= e.length;
      } else keep.push(e);
    }
    this.entries = keep;
    this.head = 0;
    this.removeSegment(seg);
  }

  private removeSegment(seg: Segment): void {
    if (this.cur?.seg === seg) this.closeSegment();
    this.segments = this.segments.filter((s) => s !== seg);
    this.diskBytes -= seg.size;
    this.unlink(seg.path);
  }

  private unlink(path: string): void {
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.st.writeErrors++;
        this.lastError = `cannot remove ${path}: ${(e as Error).message}`;
      }
    }
  }

  /** Every batch with seq ≤ `seq` is durable on the server: forget it. */
  ack(seq: number): void {
    if (seq <= this.acked) return;
    this.acked = seq;
    while (this.head < this.entries.length && this.entries[this.head].seq <= seq) {
      const e = this.entries[this.head++];
      if (e.data) {
        if (e.seg) this.cachedBytes -= e.length;
        else { this.memOnlyBytes -= e.length; this.memOnly--; }
      }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    for (const seg of [...this.segments]) if (seg.lastSeq <= seq) this.removeSegment(seg);
    this.stateDirty = true;
  }

  /** Up to `max` unacked entries with seq > `after`, in order. */
  after(after: number, max: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let lo = this.head, hi = this.entries.length;
    while (lo < hi) { // first entry with seq > after
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].seq <= after) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.entries.length && out.length < max; i++) out.push(this.entries[i]);
    return out;
  }

  /** The entry's payload, from memory or disk; undefined (counted) if it cannot be read. */
  payload(e: SpoolEntry): Uint8Array | undefined {
    if (e.data) return e.data;
    if (!e.seg) return undefined;
    const buf = Buffer.allocUnsafe(e.length);
    try {
      const fd = openSync(e.seg.path, "r");
      try {
        let done = 0;
        while (done < e.length) {
          const n = readSync(fd, buf, done, e.length - done, e.off + FRAME_HEADER + done);
          if (n === 0) throw new Error("unexpected end of file");
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      this.st.readErrors++;
      this.lastError = `cannot read batch ${e.seq} from ${e.seg.path}: ${(err as Error).message}`;
      return undefined;
    }
    return buf;
  }

  /** Forget an entry that cannot be read (counted as dropped). */
  discard(e: SpoolEntry): void {
    const i = this.entries.indexOf(e, this.head);
    if (i < 0) return;
    this.entries.splice(i, 1);
    if (e.data) {
      if (e.seg) this.cachedBytes -= e.length;
      else { this.memOnlyBytes -= e.length; this.memOnly--; }
    }
    this.countDrop(e);
  }

  get lastSeq(): number {
    return this.entries.length > this.head ? this.entries[this.entries.length - 1].seq : this.acked;
  }

  get ackedSeq(): number {
    return this.acked;
  }

  get depth(): number {
    return this.entries.length - this.head;
  }

  stats(): SpoolStats {
    let bytes = 0;
    for (let i = this.head; i < this.entries.length; i++) bytes += this.entries[i].length;
    return {
      depth: this.depth, bytes, diskBytes: this.diskBytes, memoryOnlyBatches: this.memOnly, ...this.st,
      diskFailed: this.diskRetryAt > 0, lastError: this.lastError, acked: this.acked, lastSeq: this.lastSeq,
    };
  }

  /** Persist the ack position if it changed (the daemon calls this about every second). */
  sync(): void {
    if (this.stateDirty) this.writeState();
    if (this.cur) {
      try { fsyncSync(this.cur.fd); } catch {}
    }
  }

  private writeState(): void {
    this.stateDirty = false;
    const path = join(this.opts.dir, STATE_FILE);
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify({ acked: this.acked, reserved: this.reserved }) + "\n");
      renameSync(`${path}.tmp`, path);
    } catch (e) {
      this.st.stateErrors++;
      this.stateDirty = true;
      this.lastError = `cannot write ${path}: ${(e as Error).message}`;
    }
  }

  close(): void {
    // the next run starts after what this one handed out, without a gap of a whole reserve block
    this.reserved = this.nextSeq - 1;
    this.writeState();
    this.closeSegment();
  }
}

/** Size of a spool directory's segments on disk (for tests and `du`). */
export function spoolDiskBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) if (f.endsWith(SEG_SUFFIX)) n += statSync(join(dir, f)).size;
  return n;
}
