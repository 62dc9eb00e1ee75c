// The body of one store entry = one agent batch: u8 version, f64le receive time (unix ms), then
// the batch as a protobuf grpc.PackagedData (records keep their serialized Payload bytes, so
// ingest never decodes them). Decoding happens only at query time (query.ts).
import { grpc } from "../../common/proto.ts";
import type { AgentBatch } from "../sink.ts";

export const ENTRY_VERSION = 1;
const HEADER = 9;

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
