// The snappy framing format (github.com/google/snappy framing_format.txt), which Elkeid agents
// use as their gRPC "snappy" compression (golang/snappy NewBufferedWriter/NewReader). Block
// decompression is snappy-block.ts, compression snappyjs; this module adds the chunk framing and masked CRC-32C checks.
// decode() refuses a stream whose output would exceed maxBytes before decompressing more.
// @ts-ignore snappyjs ships no types; its API is compress(bytes) and uncompress(bytes, max)
import * as snappy from "snappyjs";
import { crc32c } from "./crc32c.ts";
import { uncompressBlock } from "./snappy-block.ts";

const STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // "sNaPpY"
const MAX_CHUNK_DATA = 65536;

function masked(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export class SnappyFrameError extends Error {
  constructor(msg: string) {
    super(`snappy framing: ${msg}`);
    this.name = "SnappyFrameError";
  }
}

/** Decompress a whole framed stream. Throws SnappyFrameError on any malformed input. */
export function decodeFramed(input: Uint8Array, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  let sawId = false;
  while (pos < input.length) {
    if (pos + 4 > input.length) throw new SnappyFrameError("truncated chunk header");
    const type = input[pos];
    const len = input[pos + 1] | (input[pos + 2] << 8) | (input[pos + 3] << 16);
    const start = pos + 4;
    const end = start + len;
    if (end > input.length) throw new SnappyFrameError(`chunk of ${len} bytes runs past the end`);
    pos = end;
    if (type === 0xff) {
      let same = len === 6;
      for (let i = 0; same && i < 6; i++) same = input[start + i] === STREAM_ID[4 + i];
      if (!same) throw new SnappyFrameError("bad stream identifier");
      sawId = true;
      continue;
    }
    if (!sawId) throw new SnappyFrameError("missing stream identifier");
    if (type === 0x00 || type === 0x01) {
      if (len < 4) throw new SnappyFrameError("data chunk shorter than its checksum");
      const want = (input[start] | (input[start + 1] << 8) | (input[start + 2] << 16) | (input[start + 3] << 24)) >>> 0;
      let data: Buffer;
      if (type === 0x00) {
        try {
          data = uncompressBlock(input, MAX_CHUNK_DATA, start + 4, end); // the total limit is checked below
        } catch (e) {
          throw new SnappyFrameError(`corrupt compressed chunk (${(e as Error).message})`);
        }
      } else {
        data = Buffer.from(input.subarray(start + 4, end));
        if (data.length > MAX_CHUNK_DATA) throw new SnappyFrameError("uncompressed chunk over 65536 bytes");
      }
      if (masked(data) !== want) throw new SnappyFrameError("checksum mismatch");
      total += data.length;
      if (total > maxBytes) throw new SnappyFrameError(`decompressed size exceeds ${maxBytes} bytes`);
      parts.push(data);
    } else if (type >= 0x02 && type <= 0x7f) {
      throw new SnappyFrameError(`reserved unskippable chunk type 0x${type.toString(16)}`);
    } // 0x80-0xfe: skippable (padding and reserved)
  }
  if (!sawId) throw new SnappyFrameError("empty stream");
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}

/** Compress into the framing format (what an Elkeid agent sends). */
export function encodeFramed(data: Uint8Array): Buffer {
  const out: Buffer[] = [STREAM_ID];
  for (let off = 0; off < data.length || (off === 0 && data.length === 0); off += MAX_CHUNK_DATA) {
    const chunk = data.subarray(off, off + MAX_CHUNK_DATA);
    const comp = Buffer.from(snappy.compress(chunk));
    const useComp = comp.length < chunk.length;
    const payload = useComp ? comp : Buffer.from(chunk);
    const hdr = Buffer.alloc(8);
    hdr[0] = useComp ? 0x00 : 0x01;
    hdr.writeUIntLE(payload.length + 4, 1, 3);
    hdr.writeUInt32LE(masked(chunk), 4);
    out.push(hdr, payload);
    if (data.length === 0) break;
  }
  return Buffer.concat(out);
}
