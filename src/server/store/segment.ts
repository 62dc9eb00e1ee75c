// On-disk format of the embedded event store: append-only segment files named
// <index>-<created unix ms>.seg, an 8-byte magic, then entries framed as
// u32le body length + u32le CRC-32C(body) + body. A torn tail (a crash mid-write) shows up as a
// short frame or a CRC mismatch; scanSegment stops there and openEventStore truncates it.
// Entry bodies are written by entry.ts. Readers in other processes use the same functions.
import { closeSync, openSync, readSync, readdirSync, fstatSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../../common/crc32c.ts";

export const SEGMENT_MAGIC = Buffer.from("VGLSEG01", "latin1");
export const FRAME_HEADER_BYTES = 8;
/** No single entry may be larger than this (a batch is at most one 10 MiB gRPC message). */
export const MAX_ENTRY_BYTES = 64 << 20;
const READ_CHUNK = 1 << 20;

export interface SegmentName {
  file: string;
  index: number;
  createdMs: number;
}

const NAME_RE = /^(\d{10})-(\d+)\.seg$/;

export function segmentFileName(index: number, createdMs: number): string {
  return `${String(index).padStart(10, "0")}-${createdMs}.seg`;
}

/** The segments of a store directory, oldest first. Other files are ignored. */
export function listSegments(dir: string): SegmentName[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: SegmentName[] = [];
  for (const file of names) {
    const m = NAME_RE.exec(file);
    if (m) out.push({ file, index: Number(m[1]), createdMs: Number(m[2]) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Frame one entry body. */
export function frameEntry(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32c(body), 4);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export interface ScanResult {
  /** offset just past the last good entry: where a torn tail starts */
  goodBytes: number;
  /** bytes after goodBytes that do not form a valid entry (0 for a clean file) */
  tornBytes: number;
  entries: number;
  /** false when the file does not start with the magic (too short or foreign) */
  validHeader: boolean;
}

/**
 * Read the entries of one segment in order, up to maxBytes (the durable length; default: the
 * file's size), calling onEntry(body, offset of its frame) (a view into a reused buffer: consume it during the call; return false
 * to stop). Stops at the first torn or corrupt frame. A file that
 * vanished (retention) scans as empty.
 */
export function scanSegment(path: string, onEntry?: (body: Buffer, offset: number) => boolean | void, maxBytes = Infinity): ScanResult {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { goodBytes: 0, tornBytes: 0, entries: 0, validHeader: false };
    throw e;
  }
  try {
    const size = Math.min(fstatSync(fd).size, maxBytes);
    const magic = Buffer.alloc(SEGMENT_MAGIC.length);
    if (size < magic.length || readSync(fd, magic, 0, magic.length, 0) < magic.length || !magic.equals(SEGMENT_MAGIC)) {
      return { goodBytes: 0, tornBytes: size, entries: 0, validHeader: false };
    }
    let pos = SEGMENT_MAGIC.length;
    let entries = 0;
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    let bufStart = 0; // file offset of buf[0]
    let bufLen = 0;
    // ensure buf holds [pos, pos+n) of the file; false when the file is shorter
    const ensure = (n: number): boolean => {
      if (pos + n > size) return false;
      if (pos >= bufStart && pos + n <= bufStart + bufLen) return true;
      if (n > buf.length) buf = Buffer.allocUnsafe(Math.max(n, buf.length * 2));
      bufStart = pos;
      bufLen = 0;
      const want = Math.min(buf.length, size - pos);
      while (bufLen < want) {
        const r = readSync(fd, buf, bufLen, want - bufLen, bufStart + bufLen);
        if (r === 0) break;
        bufLen += r;
      }
      return bufLen >= n;
    };
    while (pos < size) {
      if (!ensure(FRAME_HEADER_BYTES)) break;
      const o = pos - bufStart;
      const len = buf.readUInt32LE(o);
      const crc = buf.readUInt32LE(o + 4);
      if (len > MAX_ENTRY_BYTES || !ensure(FRAME_HEADER_BYTES + len)) break;
      const s = pos - bufStart + FRAME_HEADER_BYTES;
      const body = buf.subarray(s, s + len);
      if (crc32c(body) !== crc) break;
      const at = pos;
      pos += FRAME_HEADER_BYTES + len;
      entries++;
      if (onEntry && onEntry(body, at) === false) return { goodBytes: pos, tornBytes: 0, entries, validHeader: true };
    }
    return { goodBytes: pos, tornBytes: size - pos, entries, validHeader: true };
  } finally {
    closeSync(fd);
  }
}

export function segmentPath(dir: string, s: SegmentName): string {
  return join(dir, s.file);
}

/**
 * Random access to the entries of one segment (the index's offsets): reads a window around each
 * requested frame so that nearby entries cost no extra read. at() returns the body (a view into a
 * reused buffer, valid until the next call), or undefined when the frame there is short or its
 * CRC does not match. A file that vanished (retention) reads as empty.
 */
export class EntryReader {
  private fd = -1;
  private buf = Buffer.allocUnsafe(64 << 10);
  private bufStart = 0;
  private bufLen = 0;

  constructor(path: string, private readonly maxBytes = Infinity) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  private ensure(pos: number, n: number): boolean {
    if (pos + n > this.maxBytes) return false;
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.bufLen) return true;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
    this.bufStart = pos;
    this.bufLen = 0;
    while (this.bufLen < this.buf.length) {
      const r = readSync(this.fd, this.buf, this.bufLen, this.buf.length - this.bufLen, pos + this.bufLen);
      if (r === 0) break;
      this.bufLen += r;
    }
    return this.bufLen >= n;
  }

  at(offset: number): Buffer | undefined {
    if (this.fd < 0 || !this.ensure(offset, FRAME_HEADER_BYTES)) return undefined;
    const o = offset - this.bufStart;
    const len = this.buf.readUInt32LE(o);
    const crc = this.buf.readUInt32LE(o + 4);
    if (len > MAX_ENTRY_BYTES || !this.ensure(offset, FRAME_HEADER_BYTES + len)) return undefined;
    const s = offset - this.bufStart + FRAME_HEADER_BYTES;
    const body = this.buf.subarray(s, s + len);
    return crc32c(body) === crc ? body : undefined;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
