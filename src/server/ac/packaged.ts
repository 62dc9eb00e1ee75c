// The AC's deserializer for grpc.PackagedData (proto/transfer.proto): one pass over the wire
// bytes with protobufjs's Reader (by tag, unknown fields skipped) that keeps the message as its
// bytes and reads only what the AC needs per batch: the identity fields, seq, and per record its
// data_type and payload size (plus the heartbeat's payload). Full decoding of the records happens
// only if someone asks for them (WireBatch.records). Malformed protobuf throws, as decode() did.
import $protobuf from "protobufjs/minimal.js";
import "../../common/protobuf-numbers.ts"; // 64-bit integers as numbers, before any Reader use
import { grpc } from "../../common/proto.ts";
import { DataType } from "../../common/wire.ts";
import type { AgentIdentity } from "../../common/agent-identity.ts";
import type { DecodeMemo } from "./h2/grpc.ts";

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Field numbers of PackagedData and EncodedRecord (proto/transfer.proto; never renumbered). */
const F = { records: 1, agentId: 2, intranetIpv4: 3, extranetIpv4: 4, intranetIpv6: 5, extranetIpv6: 6, hostname: 7, version: 8, product: 9, seq: 100 } as const;
const R = { dataType: 1, timestamp: 2, data: 3 } as const;

export interface ScannedPackagedData extends AgentIdentity {
  /** the message's protobuf bytes (the decompressed gRPC message) */
  wire: Buffer;
  seq: number;
  recordCount: number;
  /** data_type of each record, in order */
  dataTypes: Int32Array;
  /** payload (EncodedRecord.data) length of each record */
  dataBytes: Int32Array;
  /** the payload of the last agent heartbeat (1000) in the batch, a view into wire */
  heartbeat?: Uint8Array;
  /** every record, decoded on first use */
  readonly records: grpc.EncodedRecord.$Properties[];
}

let dtScratch = new Int32Array(64);
let bytesScratch = new Int32Array(64);

function scanRecord(r: $protobuf.Reader, end: number, i: number): Uint8Array | undefined {
  let dt = 0;
  let dataStart = -1;
  let dataLen = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === R.dataType && (tag & 7) === WIRE_VARINT) dt = r.int32();
    else if (field === R.data && (tag & 7) === WIRE_LEN) {
      const len = r.uint32();
      dataStart = r.pos;
      if (dataStart + len > end) throw new RangeError("record data runs past the end of its record");
      r.pos += len;
      dataLen = len;
    } else r.skipType(tag & 7);
  }
  if (r.pos !== end) throw new RangeError("record runs past its length");
  dtScratch[i] = dt;
  bytesScratch[i] = dataLen;
  if (dt !== DataType.AgentHeartbeat) return undefined;
  // a view only for heartbeats (one a minute per agent): allocating one per record cost measurably
  return dataStart < 0 ? new Uint8Array() : r.buf.subarray(dataStart, dataStart + dataLen);
}

class Scanned implements ScannedPackagedData {
  agentId = "";
  hostname = "";
  version = "";
  product = "";
  intranetIpv4: string[] = [];
  extranetIpv4: string[] = [];
  intranetIpv6: string[] = [];
  extranetIpv6: string[] = [];
  seq = 0;
  recordCount = 0;
  dataTypes!: Int32Array;
  dataBytes!: Int32Array;
  heartbeat?: Uint8Array;
  private decoded?: grpc.EncodedRecord.$Properties[];
  constructor(readonly wire: Buffer) {}
  get records(): grpc.EncodedRecord.$Properties[] {
    this.decoded ??= grpc.PackagedData.decode(this.wire).records;
    return this.decoded;
  }
}

/**
 * The identity strings of a stream's previous message, with their bytes: an agent repeats the
 * same agent_id, hostname, version, product and addresses in every batch, so a field whose bytes
 * match is the same string object (no UTF-8 decode, and Map lookups keyed by it reuse its hash).
 * Decoding them anew was ~1 µs of the AC's ~80 µs per batch (cpu profile: utf8Slice).
 */
class IdentityMemo {
  /** by occurrence in the message: [field, bytes, string] */
  private readonly seen: (readonly [number, Uint8Array, string])[] = [];

  /** keep: false for a one-off scan (no stream): strings are decoded and nothing is kept */
  constructor(private readonly keep: boolean) {}

  read(r: $protobuf.Reader, field: number, k: number): string {
    const len = r.uint32();
    const start = r.pos;
    const end = start + len;
    if (end > r.len) throw new RangeError(`index out of range: ${end} > ${r.len}`);
    r.pos = end;
    const buf = r.buf;
    const m = this.seen[k];
    if (m !== undefined && m[0] === field && m[1].length === len) {
      const b = m[1];
      let i = 0;
      while (i < len && buf[start + i] === b[i]) i++;
      if (i === len) return m[2];
    }
    const s = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString("utf8");
    if (this.keep && k < 16) this.seen[k] = [field, Uint8Array.from(buf.subarray(start, end)), s]; // a copy: a view would pin the message
    return s;
  }
}

const UNCACHED = new IdentityMemo(false);

/** Scan one PackagedData; throws on malformed protobuf. memo: the stream's (strings repeated from its previous message are reused). */
export function scanPackagedData(wire: Buffer, memo?: DecodeMemo): ScannedPackagedData {
  const r = $protobuf.Reader.create(wire);
  const out = new Scanned(wire);
  const ids = memo ? ((memo.decodeMemo as IdentityMemo | undefined) ??= new IdentityMemo(true)) : UNCACHED;
  let k = 0;
  let n = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === F.records && wt === WIRE_LEN) {
      const len = r.uint32();
      const end = r.pos + len;
      if (end > r.len) throw new RangeError(`index out of range: ${end} > ${r.len}`);
      if (n === dtScratch.length) {
        const d = new Int32Array(n * 2); d.set(dtScratch); dtScratch = d;
        const b = new Int32Array(n * 2); b.set(bytesScratch); bytesScratch = b;
      }
      const hb = scanRecord(r, end, n++);
      if (hb) out.heartbeat = hb;
    } else if (wt === WIRE_LEN && field >= F.agentId && field <= F.product) {
      const s = ids.read(r, field, k++);
      switch (field) {
        case F.agentId: out.agentId = s; break;
        case F.intranetIpv4: out.intranetIpv4.push(s); break;
        case F.extranetIpv4: out.extranetIpv4.push(s); break;
        case F.intranetIpv6: out.intranetIpv6.push(s); break;
        case F.extranetIpv6: out.extranetIpv6.push(s); break;
        case F.hostname: out.hostname = s; break;
        case F.version: out.version = s; break;
        case F.product: out.product = s; break;
      }
    } else if (field === F.seq && wt === WIRE_VARINT) {
      out.seq = Number(r.uint64());
    } else r.skipType(wt);
  }
  out.recordCount = n;
  out.dataTypes = dtScratch.slice(0, n);
  out.dataBytes = bytesScratch.slice(0, n);
  return out;
}
