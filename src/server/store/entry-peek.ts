// What the store's index (segment-index.ts) needs of one entry, read without decoding its batch:
// the PackagedData's agent_id (the last one wins, as in protobuf and in entry.ts's appended id)
// and each record's data_type. A hand-rolled pass over the protobuf wire format of
// proto/transfer.proto (PackagedData.records = 1, agent_id = 2; EncodedRecord.data_type = 1),
// which must agree with entry.ts's layout. Malformed bytes throw EntryError.
import { EntryError, ENTRY_BODY_HEADER, entryReceivedAt } from "./entry.ts";

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const PD_RECORDS = 1;
const PD_AGENT_ID = 2;
const REC_DATA_TYPE = 1;

export interface EntryKeys {
  receivedAt: number;
  agentId: string;
  /** data_type of each record, in order (0 when a record has none) */
  dataTypes: number[];
}

const dec = new TextDecoder();

// the cursor of the one peek running (synchronous, never re-entered): module state rather than
// an object per record, which showed in the ingest profile
let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
/** low 32 bits of the last varint read */
let low32 = 0;

function varint(end: number): number {
  let v = 0;
  let mul = 1;
  let lo = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new EntryError("truncated varint");
    const c = buf[pos++];
    if (i < 5) lo |= (c & 0x7f) << (7 * i);
    v += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) {
      low32 = lo;
      return v;
    }
  }
  throw new EntryError("varint longer than 10 bytes");
}

function skip(wt: number, end: number): void {
  if (wt === WIRE_VARINT) varint(end);
  else if (wt === WIRE_I64) pos += 8;
  else if (wt === WIRE_I32) pos += 4;
  else if (wt === WIRE_LEN) {
    const len = varint(end); // before reading pos: `pos += varint()` would add to the old pos
    pos += len;
  } else throw new EntryError(`unsupported protobuf wire type ${wt}`);
  if (pos > end) throw new EntryError("field runs past the end of its message");
}

/** The data_types of the records of a PackagedData's wire bytes. */
export function peekDataTypes(pd: Uint8Array, out: number[] = []): number[] {
  peek(pd, 0, pd.length, out);
  return out;
}

/** agent_id of the PackagedData in b[start, end); with dts, each record's data_type too. */
function peek(b: Uint8Array, start: number, end: number, dts: number[] | undefined): string {
  buf = b;
  pos = start;
  let idStart = -1;
  let idEnd = -1;
  while (pos < end) {
    const tag = varint(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === PD_RECORDS && wt === WIRE_LEN) {
      const recEnd = varint(end) + pos;
      if (recEnd > end) throw new EntryError("record runs past the end of its batch");
      if (!dts) {
        pos = recEnd;
        continue;
      }
      let dt = 0;
      while (pos < recEnd) {
        const t = varint(recEnd);
        if (t >>> 3 === REC_DATA_TYPE && (t & 7) === WIRE_VARINT) {
          varint(recEnd);
          dt = low32 | 0;
        } else skip(t & 7, recEnd);
      }
      dts.push(dt);
    } else if (field === PD_AGENT_ID && wt === WIRE_LEN) {
      const len = varint(end);
      idStart = pos;
      idEnd = pos + len;
      if (idEnd > end) throw new EntryError("agent_id runs past the end of its batch");
      pos = idEnd;
    } else skip(wt, end);
  }
  buf = EMPTY;
  return idStart < 0 ? "" : dec.decode(b.subarray(idStart, idEnd));
}

const EMPTY = new Uint8Array();

/** agent_id of one entry body, skipping over its records (cheaper than peekEntry). */
export function peekEntryAgent(body: Uint8Array): string {
  entryReceivedAt(body);
  return peek(body, ENTRY_BODY_HEADER, body.length, undefined);
}

/** Receive time, agent_id and record data_types of one entry body. */
export function peekEntry(body: Uint8Array): EntryKeys {
  const receivedAt = entryReceivedAt(body);
  const dataTypes: number[] = [];
  const agentId = peek(body, ENTRY_BODY_HEADER, body.length, dataTypes);
  return { receivedAt, agentId, dataTypes };
}
