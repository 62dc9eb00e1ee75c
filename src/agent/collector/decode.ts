// Turns raw ring records (struct vigil_hdr + body + string tail, see bpf/events.h) into
// Elkeid-named string fields, table-driven from the EventSpecs. Malformed and unknown records
// are counted, never thrown.
import { readlinkSync } from "node:fs";
import type { EventSpec, FieldSpec, DeriveContext } from "./events/types.ts";
import type { Enricher } from "./enrich/index.ts";
import { BY_DT } from "./catalog.ts";
import { HDR, SOCKADDR } from "./layouts.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false });

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
  return utf8.decode(new Uint8Array(rec.buffer, rec.byteOffset + soff, slen));
}

/** A fixed char[] field (NUL-terminated within max bytes). */
export function readCStr(rec: DataView, off: number, max: number): string {
  const b = new Uint8Array(rec.buffer, rec.byteOffset + off, max);
  let n = b.indexOf(0);
  if (n < 0) n = max;
  return utf8.decode(b.subarray(0, n));
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

function rootPidNs(): string {
  try {
    const l = readlinkSync("/proc/1/ns/pid"); // pid:[4026531836]
    return l.slice(l.indexOf("[") + 1, -1);
  } catch {
    return "";
  }
}

export interface DecoderOptions {
  bootToUnixNs: bigint;
  enricher?: Enricher;
}

export class Decoder {
  readonly stats: DecodeStats = { decoded: new Map(), unknownType: 0, malformed: 0 };
  private readonly rootPns = rootPidNs();
  private readonly ctx: DeriveContext;

  constructor(private readonly opts: DecoderOptions) {
    this.ctx = { enricher: opts.enricher, str: readStr };
  }

  /** Call fn for every well-formed record of a batch (a view over exactly that record). */
  forEach(buf: ArrayBuffer, fn: (rec: DataView, spec: EventSpec) => void): void {
    const all = new DataView(buf);
    let off = 0;
    while (off + HDR.SIZE <= buf.byteLength) {
      const type = all.getUint16(off + HDR.type, true);
      const size = all.getUint16(off + HDR.size, true);
      if (size < HDR.SIZE || off + size > buf.byteLength || size % 8 !== 0) {
        this.stats.malformed++;
        return; // the rest of the batch cannot be framed
      }
      const spec = BY_DT.get(type);
      if (!spec) this.stats.unknownType++;
      else if (size < spec.size) this.stats.malformed++;
      else {
        this.stats.decoded.set(type, (this.stats.decoded.get(type) ?? 0) + 1);
        fn(new DataView(buf, off, size), spec);
      }
      off += size;
    }
  }

  timestamp(rec: DataView): bigint {
    return rec.getBigUint64(HDR.ts, true) + this.opts.bootToUnixNs;
  }

  /** Elkeid's common fields, the event's own, then the enrichment. */
  fields(rec: DataView, spec: EventSpec): Record<string, string> {
    const tgid = rec.getUint32(HDR.tgid, true);
    const f: Record<string, string> = {
      uid: String(rec.getUint32(HDR.uid, true)),
      exe: "",
      pid: String(rec.getUint32(HDR.pid, true)),
      ppid: String(rec.getUint32(HDR.ppid, true)),
      pgid: String(rec.getUint32(HDR.pgid, true)),
      tgid: String(tgid),
      sid: String(rec.getUint32(HDR.sid, true)),
      comm: readCStr(rec, HDR.comm, 16),
      nodename: readCStr(rec, HDR.nodename, 64),
      sessionid: String(rec.getUint32(HDR.sessionid, true)),
      pns: String(rec.getUint32(HDR.pid_ns, true)),
      root_pns: this.rootPns,
    };
    for (const fs of spec.fields) f[fs.name] = fieldValue(rec, fs);
    spec.derive?.(rec, f, this.ctx);
    const en = this.opts.enricher;
    if (en) {
      const c = en.common({
        pid: rec.getUint32(HDR.pid, true),
        tgid,
        ppid: rec.getUint32(HDR.ppid, true),
        uid: rec.getUint32(HDR.uid, true),
        exeIno: rec.getUint32(HDR.exe_ino, true),
        exeDev: rec.getUint32(HDR.exe_dev, true),
        cgroupId: rec.getBigUint64(HDR.cgroup_id, true),
        comm: f.comm,
      });
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
