// The body of one store entry = one agent batch: u8 version, f64le receive time (unix ms), then
// the batch as a protobuf grpc.PackagedData (records keep their serialized Payload bytes, so
// ingest never decodes them). Decoding happens only at query time (query.ts). A WireBatch (the
// AC's, src/server/ac/packaged.ts) is stored as the PackagedData bytes it arrived as, with
// agent_id appended when the message did not carry it (protobuf: the last value of a field wins).
import { grpc } from "../../common/proto.ts";
import type { AgentBatch } from "../sink.ts";
import { crc32c, crc32cRange } from "../../common/crc32c.ts";
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

/**
 * The framed entry (segment.ts frame header + body) of a WireBatch as the buffers to write in
 * order: a 17-byte head (frame header, version, receive time), the wire bytes themselves (not
 * copied: the store writes them with pwritev) and, when the wire lacks the agent id, its field.
 */
export function frameWireParts(b: WireBatch): { parts: Buffer[]; length: number } {
  const o = FRAME_HEADER_BYTES;
  const head = Buffer.allocUnsafe(o + HEADER);
  head[o] = ENTRY_VERSION;
  head.writeDoubleLE(b.receivedAt, o + 1);
  const wire = Buffer.isBuffer(b.wire) ? b.wire : Buffer.from(b.wire.buffer, b.wire.byteOffset, b.wire.length);
  const parts = [head, wire];
  let crc = crc32c(wire, crc32cRange(head, o, o + HEADER));
  let bodyLen = HEADER + wire.length;
  if (!b.wireHasAgentId) {
    const id = Buffer.from(b.agentId, "utf8");
    const tail = Buffer.allocUnsafe(1 + varintLen(id.length) + id.length);
    let p = 0;
    tail[p++] = AGENT_ID_TAG;
    for (let n = id.length; ; ) {
      if (n < 0x80) {
        tail[p++] = n;
        break;
      }
      tail[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    tail.set(id, p);
    parts.push(tail);
    crc = crc32c(tail, crc);
    bodyLen += tail.length;
  }
  head.writeUInt32LE(bodyLen, 0);
  head.writeUInt32LE(crc, 4);
  return { parts, length: o + bodyLen };
}

/** The framed entry of a WireBatch in one buffer (frameWireParts joined). */
export function frameWireEntry(b: WireBatch): Buffer {
  const { parts, length } = frameWireParts(b);
  return Buffer.concat(parts, length);
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
