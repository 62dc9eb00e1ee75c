// Turns raw ring records (struct vigil_hdr + body + string tail, see bpf/events.h) into
// Elkeid-named string fields, table-driven from the EventSpecs. Malformed and unknown records
// are counted, never thrown.
import { readlinkSync } from "node:fs";
import type { EventSpec, FieldSpec, DeriveContext } from "./events/types.ts";
import type { Enricher, EventIdentity } from "./enrich/index.ts";
import { BY_DT } from "./catalog.ts";
import { HDR, SOCKADDR, VE_MAX } from "./layouts.ts";
import { RING_BUSY, RING_DISCARD, RING_HDR } from "./ring-protocol.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Buffer's native string slices (Bun and Node.js have both; @types/node does not declare them). */
interface SliceBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** One Buffer (no copy) over the batch being decoded: a string then costs no view of its own. */
let batchAb: ArrayBufferLike | undefined;
let batchBuf: SliceBuffer = Buffer.alloc(0) as SliceBuffer;
let batchBytes: Uint8Array = new Uint8Array(0);
let batchWords: Int32Array = new Int32Array(0);
function bufferOf(ab: ArrayBufferLike): SliceBuffer {
  if (ab !== batchAb) {
    batchAb = ab;
    batchBuf = Buffer.from(ab as ArrayBuffer) as SliceBuffer;
    batchBytes = new Uint8Array(ab);
    batchWords = new Int32Array(ab, 0, ab.byteLength >> 2);
  }
  return batchBuf;
}

/**
 * Bytes [start, end) as text: ASCII (nearly every path and name) as latin1, which is the same
 * string at half utf8's cost; anything else as UTF-8 with U+FFFD for invalid sequences.
 */
function textAt(b: SliceBuffer, start: number, end: number): string {
  const u = batchBytes; // the same bytes: plain Uint8Array indexing is the JIT's fastest
  for (let i = start; i < end; i++) if (u[i] >= 0x80) return b.utf8Slice(start, end);
  return b.latin1Slice(start, end);
}

export interface DecodedEvent {
  data_type: number;
  event: string;
  /** Unix time in nanoseconds. */
  timestamp: bigint;
  fields: Record<string, string>;
}

export interface DecodeStats {
  decoded: Map<number, number>;
  unknownType: number;
  malformed: number;
}

/** Read a struct vigil_str at `off` of the record and return the string it points to. */
export function readStr(rec: DataView, off: number): string {
  const soff = rec.getUint16(off, true);
  const slen = rec.getUint16(off + 2, true);
  if (slen === 0 || soff < HDR.SIZE || soff + slen > rec.byteLength) return "";
  const start = rec.byteOffset + soff;
  return textAt(bufferOf(rec.buffer), start, start + slen);
}

/** A fixed char[] field (NUL-terminated within max bytes). */
export function readCStr(rec: DataView, off: number, max: number): string {
  const b = bufferOf(rec.buffer);
  const u = batchBytes;
  const start = rec.byteOffset + off;
  let end = start;
  while (end < start + max && u[end] !== 0) end++;
  return textAt(b, start, end);
}

export function ipString(family: number, b: Uint8Array): string {
  if (family === 2) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (family === 10) {
    // ::ffff:a.b.c.d stays in its usual form
    if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
      return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    }
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
    // compress the longest run of zeros
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (parts[i] !== "0") { i++; continue; }
      let j = i;
      while (j < 8 && parts[j] === "0") j++;
      if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
      i = j;
    }
    if (best < 0) return parts.join(":");
    return `${parts.slice(0, best).join(":")}::${parts.slice(best + bestLen).join(":")}`;
  }
  if (family === 1) {
    let n = b.indexOf(0);
    if (n < 0) n = b.length;
    return utf8.decode(b.subarray(0, n));
  }
  return "";
}

function fieldValue(rec: DataView, f: FieldSpec): string {
  switch (f.kind) {
    case "u8": return String(rec.getUint8(f.off));
    case "u16": return String(rec.getUint16(f.off, true));
    case "u32": return String(rec.getUint32(f.off, true));
    case "i32": return String(rec.getInt32(f.off, true));
    case "u64": return rec.getBigUint64(f.off, true).toString();
    case "i64": return rec.getBigInt64(f.off, true).toString();
    case "octal": return rec.getUint32(f.off, true).toString(8);
    case "hex": return `0x${rec.getBigUint64(f.off, true).toString(16)}`;
    case "hex32": return `0x${rec.getUint32(f.off, true).toString(16)}`;
    case "str": return readStr(rec, f.off);
    case "sa_family": return String(rec.getUint16(f.off + SOCKADDR.family, true));
    case "sa_port": return String(rec.getUint16(f.off + SOCKADDR.port, true));
    case "sa_ip": {
      const fam = rec.getUint16(f.off + SOCKADDR.family, true);
      return ipString(fam, new Uint8Array(rec.buffer, rec.byteOffset + f.off + SOCKADDR.addr, 16));
    }
  }
}

/** DecodeStats over the per-type counts: `decoded` is made when read (summaries, heartbeats). */
function makeStats(counts: Float64Array): DecodeStats {
  return {
    unknownType: 0,
    malformed: 0,
    get decoded(): Map<number, number> {
      const m = new Map<number, number>();
      for (let t = 0; t < counts.length; t++) if (counts[t]) m.set(t, counts[t]);
      return m;
    },
  };
}

function decodeCommon(rec: DataView, nodename?: string): CommonFields {
  const pid = rec.getUint32(HDR.pid, true), tgid = rec.getUint32(HDR.tgid, true);
  const ppid = rec.getUint32(HDR.ppid, true), uid = rec.getUint32(HDR.uid, true);
  const comm = readCStr(rec, HDR.comm, 16);
  return {
    uid: String(uid),
    pid: String(pid),
    ppid: String(ppid),
    pgid: String(rec.getUint32(HDR.pgid, true)),
    tgid: String(tgid),
    sid: String(rec.getUint32(HDR.sid, true)),
    comm,
    nodename: nodename ?? readCStr(rec, HDR.nodename, 64),
    sessionid: String(rec.getUint32(HDR.sessionid, true)),
    pns: String(rec.getUint32(HDR.pid_ns, true)),
    id: {
      pid, tgid, ppid, uid,
      exeIno: rec.getUint32(HDR.exe_ino, true),
      exeDev: rec.getUint32(HDR.exe_dev, true),
      cgroupId: 0n,
      comm,
    },
  };
}

function rootPidNs(): string {
  try {
    const l = readlinkSync("/proc/1/ns/pid"); // pid:[4026531836]
    return l.slice(l.indexOf("[") + 1, -1);
  } catch {
    return "";
  }
}

/** The header's bytes that the common fields come from: pid through nodename. */
const COMMON_FROM = HDR.pid;
const COMMON_WORDS = (HDR.SIZE - HDR.pid) / 4;
const NODENAME_WORDS = 64 / 4;
/** Threads whose last header is remembered (slot = pid % MEMO_SLOTS). */
const MEMO_SLOTS = 512;

/** The common fields of one header, decoded once and reused while a thread's header repeats. */
interface CommonFields {
  uid: string; pid: string; ppid: string; pgid: string; tgid: string; sid: string;
  comm: string; nodename: string; sessionid: string; pns: string;
  /** For the enricher; cgroupId is set per record (it is outside the compared bytes). */
  id: EventIdentity;
}

export interface DecoderOptions {
  bootToUnixNs: bigint;
  enricher?: Enricher;
}

export class Decoder {
  /** Records decoded per data_type (every known type is below VE_MAX). */
  private readonly counts = new Float64Array(VE_MAX);
  readonly stats: DecodeStats = makeStats(this.counts);
  private readonly rootPns = rootPidNs();
  private readonly ctx: DeriveContext;

  constructor(private readonly opts: DecoderOptions) {
    this.ctx = { enricher: opts.enricher, str: readStr };
  }

  /**
   * Call fn for every well-formed record of a batch (a view over exactly that record). A batch
   * is a span of the ring as the kernel wrote it (ring-worker.ts copies it whole): each record
   * behind its 8-byte struct bpf_ringbuf_hdr (u32 len with the BUSY and DISCARD bits, u32
   * pg_off), padded to 8 bytes. Discarded records are skipped; a record whose own size
   * disagrees with the ring's length is counted malformed.
   */
  forEach(batch: Uint8Array | ArrayBuffer, fn: (rec: DataView, spec: EventSpec) => void): void {
    const view = batch instanceof Uint8Array ? batch : new Uint8Array(batch);
    const buf = view.buffer;
    const base = view.byteOffset;
    const all = new DataView(buf, base, view.byteLength);
    const total = view.byteLength;
    let off = 0;
    while (off + RING_HDR <= total) {
      const len = all.getUint32(off, true);
      const body = len & ~(RING_BUSY | RING_DISCARD);
      const at = off + RING_HDR;
      if (len & RING_BUSY || at + body > total) {
        this.stats.malformed++;
        return; // the rest of the batch cannot be framed
      }
      off = at + ((body + 7) & ~7);
      if (len & RING_DISCARD) continue;
      const type = all.getUint16(at + HDR.type, true);
      const size = all.getUint16(at + HDR.size, true);
      if (body < HDR.SIZE || size !== body) {
        this.stats.malformed++;
        continue;
      }
      const spec = BY_DT.get(type);
      if (!spec) this.stats.unknownType++;
      else if (size < spec.size) this.stats.malformed++;
      else {
        this.counts[type]++;
        fn(new DataView(buf, base + at, size), spec);
      }
    }
  }

  timestamp(rec: DataView): bigint {
    return rec.getBigUint64(HDR.ts, true) + this.opts.bootToUnixNs;
  }

  /**
   * The header's common fields. A thread's consecutive records mostly share every byte from
   * pid to nodename, so the last header of each thread slot is kept with its decoded strings
   * and reused when the bytes are equal (32 word compares instead of ten strings).
   */
  private common(rec: DataView): CommonFields {
    bufferOf(rec.buffer);
    const at = rec.byteOffset + COMMON_FROM;
    if ((at & 3) !== 0) return decodeCommon(rec); // not from forEach: no word view
    const w = batchWords, base = at >> 2;
    const slot = rec.getUint32(HDR.pid, true) & (MEMO_SLOTS - 1);
    const m = this.memoWords, mb = slot * COMMON_WORDS;
    const hit = this.memo[slot];
    if (hit) {
      let i = 0;
      while (i < COMMON_WORDS && m[mb + i] === w[base + i]) i++;
      if (i === COMMON_WORDS) return hit;
    }
    // A new thread: its host name is nearly always the last one decoded (one per UTS namespace).
    const nb = (rec.byteOffset + HDR.nodename) >> 2, nw = this.nodeWords;
    let k = 0;
    if (this.nodeStr !== undefined) while (k < NODENAME_WORDS && nw[k] === w[nb + k]) k++;
    const c = decodeCommon(rec, k === NODENAME_WORDS ? this.nodeStr : undefined);
    if (k !== NODENAME_WORDS) {
      nw.set(w.subarray(nb, nb + NODENAME_WORDS));
      this.nodeStr = c.nodename;
    }
    m.set(w.subarray(base, base + COMMON_WORDS), mb);
    this.memo[slot] = c;
    return c;
  }
  private readonly nodeWords = new Int32Array(NODENAME_WORDS);
  private nodeStr: string | undefined;
  private readonly memoWords = new Int32Array(MEMO_SLOTS * COMMON_WORDS);
  private readonly memo: (CommonFields | undefined)[] = new Array(MEMO_SLOTS).fill(undefined);

  /** Elkeid's common fields, the event's own, then the enrichment. */
  fields(rec: DataView, spec: EventSpec): Record<string, string> {
    const h = this.common(rec);
    const f: Record<string, string> = {
      uid: h.uid,
      exe: "",
      pid: h.pid,
      ppid: h.ppid,
      pgid: h.pgid,
      tgid: h.tgid,
      sid: h.sid,
      comm: h.comm,
      nodename: h.nodename,
      sessionid: h.sessionid,
      pns: h.pns,
      root_pns: this.rootPns,
    };
    for (const fs of spec.fields) if (!fs.hidden) f[fs.name] = fieldValue(rec, fs);
    spec.derive?.(rec, f, this.ctx);
    const en = this.opts.enricher;
    if (en) {
      h.id.cgroupId = rec.getBigUint64(HDR.cgroup_id, true);
      const c = en.common(h.id);
      f.exe = c.exe;
      if (f.argv === undefined) f.argv = c.argv;
      f.username = c.username;
      f.exe_hash = c.exe_hash;
      f.pid_tree = c.pid_tree;
      if (c.container_id) f.container_id = c.container_id;
      if (c.pod_name) f.pod_name = c.pod_name;
    }
    return f;
  }

  decode(rec: DataView, spec: EventSpec): DecodedEvent {
    return { data_type: spec.dt, event: spec.name, timestamp: this.timestamp(rec), fields: this.fields(rec, spec) };
  }
}
