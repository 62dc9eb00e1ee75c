// The body of one store entry = one agent batch: u8 version, f64le receive time (unix ms), then
// the batch as a protobuf grpc.PackagedData (records keep their serialized Payload bytes, so
// ingest never decodes them). Decoding happens only at query time (query.ts). A WireBatch (the
// AC's, src/server/ac/packaged.ts) is stored as the PackagedData bytes it arrived as, with
// agent_id appended when the message did not carry it (protobuf: the last value of a field wins).
import { grpc } from "../../common/proto.ts";
import type { AgentBatch } from "../sink.ts";
import { crc32c } from "../../common/crc32c.ts";
import { FRAME_HEADER_BYTES } from "./segment.ts";

export const ENTRY_VERSION = 1;
/** bytes before the PackagedData in an entry body (entry-peek.ts reads past them) */
export const ENTRY_BODY_HEADER = 9;
const HEADER = ENTRY_BODY_HEADER;
/** PackagedData.agent_id: field 2, length-delimited (proto/transfer.proto) */
const AGENT_ID_TAG = (2 << 3) | 2;

/** A batch that still has its PackagedData wire bytes: stored without re-encoding. */
export interface WireBatch extends AgentBatch {
  /** the batch's PackagedData as received (decompressed); its fields agree with the batch's */
  readonly wire: Uint8Array;
  /** whether wire already carries agent_id = agentId (else it is appended) */
  readonly wireHasAgentId: boolean;
  /** records in the batch (without decoding them) */
  readonly recordCount: number;
  /** each record's data_type, in order, when the receiver already scanned them (the AC does) */
  readonly dataTypes?: ArrayLike<number>;
}

export function isWireBatch(b: AgentBatch): b is WireBatch {
  return (b as Partial<WireBatch>).wire instanceof Uint8Array;
}

function varintLen(n: number): number {
  let l = 1;
  while (n >= 0x80) {
    n >>>= 7;
    l++;
  }
  return l;
}

/** The framed entry (segment.ts frame header + body) of a WireBatch, in one buffer and one copy. */
export function frameWireEntry(b: WireBatch): Buffer {
  const id = b.wireHasAgentId ? undefined : Buffer.from(b.agentId, "utf8");
  const extra = id ? 1 + varintLen(id.length) + id.length : 0;
  const bodyLen = HEADER + b.wire.length + extra;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLen);
  const o = FRAME_HEADER_BYTES;
  out[o] = ENTRY_VERSION;
  out.writeDoubleLE(b.receivedAt, o + 1);
  out.set(b.wire, o + HEADER);
  if (id) {
    let p = o + HEADER + b.wire.length;
    out[p++] = AGENT_ID_TAG;
    for (let n = id.length; ; ) {
      if (n < 0x80) {
        out[p++] = n;
        break;
      }
      out[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out.set(id, p);
  }
  out.writeUInt32LE(bodyLen, 0);
  out.writeUInt32LE(crc32c(out.subarray(o)), 4);
  return out;
}

export function encodeEntry(b: AgentBatch): Buffer {
  const pd = grpc.PackagedData.encode({
    records: b.records,
    agentId: b.agentId,
    hostname: b.hostname,
    version: b.version,
    product: b.product,
    intranetIpv4: b.intranetIpv4,
    extranetIpv4: b.extranetIpv4,
    intranetIpv6: b.intranetIpv6,
    extranetIpv6: b.extranetIpv6,
    seq: b.seq,
  }).finish();
  const out = Buffer.allocUnsafe(HEADER + pd.length);
  out[0] = ENTRY_VERSION;
  out.writeDoubleLE(b.receivedAt, 1);
  out.set(pd, HEADER);
  return out;
}

export class EntryError extends Error {}

/** Receive time of an entry without decoding the batch. */
export function entryReceivedAt(body: Uint8Array): number {
  if (body.length < HEADER || body[0] !== ENTRY_VERSION) throw new EntryError(`unknown store entry version ${body[0]}`);
  return Buffer.from(body.buffer, body.byteOffset, body.length).readDoubleLE(1);
}

export function decodeEntry(body: Uint8Array): { receivedAt: number; batch: grpc.PackagedData } {
  const receivedAt = entryReceivedAt(body);
  return { receivedAt, batch: grpc.PackagedData.decode(body.subarray(HEADER)) };
}
