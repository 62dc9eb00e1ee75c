// Sidecar index files of sealed segments: <index>-<created ms>.idx next to its .seg, holding a
// SegmentIndex (segment-index.ts) as "VGLIDX01", u32le payload length, u32le CRC-32C(payload),
// payload. An index is used only when its CRC holds and it describes exactly the segment's
// current length; anything else (torn, corrupt, missing, stale) is rebuilt by the writer and
// ignored by readers, which then read that segment in order. Written to a temporary file and
// renamed, so a reader never sees half of one.
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../../common/crc32c.ts";
import { SegmentIndex, type AgentLookup, type AgentPostings } from "./segment-index.ts";
import type { SegmentName } from "./segment.ts";

export const INDEX_MAGIC = Buffer.from("VGLIDX01", "latin1");
const HEAD = INDEX_MAGIC.length + 8;
const INDEX_RE = /^(\d{10}-\d+)\.idx(\.tmp)?$/;

export function indexFileName(seg: SegmentName): string {
  return seg.file.replace(/\.seg$/, ".idx");
}

export function encodeIndex(ix: SegmentIndex): Buffer {
  const n = ix.entries;
  const ids = [...ix.agents.keys()].map((k) => Buffer.from(k, "utf8"));
  let size = 8 * 3 + 4 + 16 * n + 4 + 4 * ix.unreadable.length + 4;
  let i = 0;
  for (const a of ix.agents.values()) {
    size += 4 + ids[i++].length + 4 + 4 * a.all.length + 4;
    for (const l of a.byType.values()) size += 8 + 4 * l.length;
  }
  const out = Buffer.allocUnsafe(HEAD + size);
  let p = HEAD;
  const f64 = (v: number) => (p = out.writeDoubleLE(v, p));
  const u32 = (v: number) => (p = out.writeUInt32LE(v, p));
  const list = (l: ArrayLike<number>) => {
    u32(l.length);
    for (let j = 0; j < l.length; j++) u32(l[j]);
  };
  f64(ix.coveredBytes);
  f64(ix.minReceived);
  f64(ix.maxReceived);
  u32(n);
  for (let j = 0; j < n; j++) f64(ix.offsets[j]);
  for (let j = 0; j < n; j++) f64(ix.received[j]);
  list(ix.unreadable);
  u32(ix.agents.size);
  i = 0;
  for (const a of ix.agents.values()) {
    const id = ids[i++];
    u32(id.length);
    p += id.copy(out, p);
    list(a.all);
    u32(a.byType.size);
    for (const [dt, l] of a.byType) {
      p = out.writeInt32LE(dt, p);
      list(l);
    }
  }
  INDEX_MAGIC.copy(out, 0);
  out.writeUInt32LE(size, INDEX_MAGIC.length);
  out.writeUInt32LE(crc32c(out.subarray(HEAD)), INDEX_MAGIC.length + 4);
  return out;
}

class BadIndex extends Error {}

/** A list (u32le count, u32le entry numbers) at p, checked: ascending, below n. */
function readList(b: Buffer, p: number, n: number): Uint32Array {
  if (p + 4 > b.length) throw new BadIndex("index runs past its end");
  const k = b.readUInt32LE(p);
  if (p + 4 + 4 * k > b.length) throw new BadIndex("index runs past its end");
  const l = new Uint32Array(k);
  for (let j = 0; j < k; j++) {
    const e = b.readUInt32LE(p + 4 + 4 * j);
    if (e >= n || (j > 0 && e <= l[j - 1])) throw new BadIndex("index lists an entry out of order or range");
    l[j] = e;
  }
  return l;
}

/** One agent's postings in an index file's bytes (whose CRC held), parsed on first use. */
class LazyPostings implements AgentPostings {
  private parsed?: { all: Uint32Array; byType: Map<number, Uint32Array> };
  constructor(private readonly b: Buffer, private readonly at: number, private readonly n: number) {}
  private parse(): { all: Uint32Array; byType: Map<number, Uint32Array> } {
    if (this.parsed) return this.parsed;
    const b = this.b;
    const all = readList(b, this.at, this.n);
    const p = this.at + 4 + 4 * all.length;
    const byType = new Map<number, Uint32Array>();
    for (let t = b.readUInt32LE(p), q = p + 4; t > 0; t--) {
      const dt = b.readInt32LE(q);
      const l = readList(b, q + 4, this.n);
      byType.set(dt, l);
      q += 8 + 4 * l.length;
    }
    return (this.parsed = { all, byType });
  }
  get all(): Uint32Array {
    return this.parse().all;
  }
  get byType(): Map<number, Uint32Array> {
    return this.parse().byType;
  }
}

/** The agents of a decoded index: id -> where its postings start in the file's bytes, nothing else. */
class FileAgents implements AgentLookup {
  constructor(private readonly b: Buffer, private readonly n: number, private readonly at: Map<string, number>) {}
  get size(): number {
    return this.at.size;
  }
  get(agentId: string): AgentPostings | undefined {
    const p = this.at.get(agentId);
    return p === undefined ? undefined : new LazyPostings(this.b, p, this.n);
  }
  keys(): IterableIterator<string> {
    return this.at.keys();
  }
  *values(): IterableIterator<AgentPostings> {
    for (const p of this.at.values()) yield new LazyPostings(this.b, p, this.n);
  }
}

/** One string per agent id across the cached indexes (each decoded index would hold its own copy). */
const interned = new Map<string, string>();
function intern(s: string): string {
  const have = interned.get(s);
  if (have !== undefined) return have;
  if (interned.size >= 200_000) interned.clear(); // bounded: a fleet's churn must not grow it forever
  interned.set(s, s);
  return s;
}

/** Parse an index file's bytes; throws BadIndex when they are torn, corrupt or inconsistent. */
export function decodeIndex(b: Buffer): SegmentIndex {
  if (b.length < HEAD || !b.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) throw new BadIndex("no index magic");
  const size = b.readUInt32LE(INDEX_MAGIC.length);
  if (b.length !== HEAD + size) throw new BadIndex(`index of ${b.length} bytes, its header says ${HEAD + size}`);
  if (crc32c(b.subarray(HEAD)) !== b.readUInt32LE(INDEX_MAGIC.length + 4)) throw new BadIndex("index CRC mismatch");
  let p = HEAD;
  const need = (k: number) => {
    if (p + k > b.length) throw new BadIndex("index runs past its end");
  };
  const f64 = () => (need(8), (p += 8), b.readDoubleLE(p - 8));
  const u32 = () => (need(4), (p += 4), b.readUInt32LE(p - 4));
  const coveredBytes = f64();
  const minReceived = f64();
  const maxReceived = f64();
  const n = u32();
  need(16 * n);
  const offsets = new Float64Array(n);
  const received = new Float64Array(n);
  for (let j = 0; j < n; j++) offsets[j] = b.readDoubleLE(p + 8 * j);
  p += 8 * n;
  for (let j = 0; j < n; j++) received[j] = b.readDoubleLE(p + 8 * j);
  p += 8 * n;
  const unreadable = readList(b, p, n);
  p += 4 + 4 * unreadable.length;
  // agents' postings are parsed when a query asks for that agent: a reader loads an index per
  // segment per query and needs one agent of thousands
  const at = new Map<string, number>();
  for (let a = u32(); a > 0; a--) {
    const len = u32();
    need(len);
    const id = intern(b.toString("utf8", p, p + len));
    p += len;
    const start = p;
    need(4);
    p += 4 + 4 * b.readUInt32LE(p);
    for (let t = u32(); t > 0; t--) {
      need(8);
      p += 8 + 4 * b.readUInt32LE(p + 4);
    }
    need(0);
    at.set(id, start);
  }
  const agents = new FileAgents(b, n, at);
  if (p !== b.length) throw new BadIndex("index has trailing bytes");
  // in memory: the file's bytes, the two number arrays, and per agent a map entry (ids interned)
  const bytes = b.length + 16 * n + 64 * agents.size;
  return new SegmentIndex({ offsets, received, agents, unreadable, minReceived, maxReceived, coveredBytes, bytes });
}

/**
 * The saved index of seg if it is sound and describes the segment as it is now; undefined when it
 * is missing, torn, corrupt or stale (why says which, for the log).
 */
export function readIndexFile(dir: string, seg: SegmentName, why?: (reason: string) => void): SegmentIndex | undefined {
  let b: Buffer;
  try {
    b = readFileSync(join(dir, indexFileName(seg)));
  } catch (e) {
    why?.((e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (e as Error).message);
    return undefined;
  }
  let ix: SegmentIndex;
  try {
    ix = decodeIndex(b);
  } catch (e) {
    why?.((e as Error).message);
    return undefined;
  }
  let size: number;
  try {
    size = statSync(join(dir, seg.file)).size;
  } catch {
    why?.("its segment is gone");
    return undefined;
  }
  if (size !== ix.coveredBytes) {
    why?.(`stale: describes ${ix.coveredBytes} bytes of a ${size}-byte segment`);
    return undefined;
  }
  return ix;
}

/** Save seg's index: a temporary file, fsync'ed, renamed over the old one. Returns its bytes. */
export function writeIndexFile(dir: string, seg: SegmentName, ix: SegmentIndex): Buffer {
  const final = join(dir, indexFileName(seg));
  const tmp = `${final}.tmp`;
  const buf = encodeIndex(ix);
  const fd = openSync(tmp, "w", 0o640);
  try {
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch {}
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, final);
  return buf;
}

export function removeIndexFile(dir: string, seg: SegmentName): void {
  try {
    unlinkSync(join(dir, indexFileName(seg)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** Remove index files (and leftover temporaries) whose segment is gone; returns how many. */
export function removeOrphanIndexes(dir: string, segs: SegmentName[]): number {
  const live = new Set(segs.map((s) => s.file.replace(/\.seg$/, "")));
  let n = 0;
  for (const f of readdirSync(dir)) {
    const m = INDEX_RE.exec(f);
    if (!m || (live.has(m[1]) && !m[2])) continue;
    try {
      unlinkSync(join(dir, f));
      n++;
    } catch {}
  }
  return n;
}

/**
 * A cheap check at open: the index file of seg is whole (its length agrees with its header) and
 * describes the segment's current length. Its CRC is checked when a query loads it.
 */
export function indexLooksCurrent(dir: string, seg: SegmentName): boolean {
  let fd: number;
  try {
    fd = openSync(join(dir, indexFileName(seg)), "r");
  } catch {
    return false;
  }
  try {
    const h = Buffer.alloc(HEAD + 8);
    if (readSync(fd, h, 0, h.length, 0) < h.length || !h.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) return false;
    if (fstatSync(fd).size !== HEAD + h.readUInt32LE(INDEX_MAGIC.length)) return false;
    return h.readDoubleLE(HEAD) === statSync(join(dir, seg.file)).size;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
