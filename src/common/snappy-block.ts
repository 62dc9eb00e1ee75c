// Snappy block decompression (github.com/google/snappy format_description.txt), written for
// the AC's hot path: every Elkeid batch arrives snappy-compressed. snappyjs copies every byte
// in a JS loop and allocates twice per block; this decodes into one Buffer of the stated length,
// with the native decoder (accel.ts) when it is loaded, else copying long literals and matches
// with set()/copyWithin(). Compression stays snappyjs's
// (only tests and the benchmark's baseline compress). Throws on anything malformed.

import { accel, SnappyCode, type Accel } from "./accel.ts";

export class SnappyBlockError extends Error {}

let native: Accel["snappyBlock"] | null | undefined;

/** Decompress one block; refuses one whose stated length exceeds maxLength. The elements are
 * decoded natively when accel.ts can (same results: test/common/snappy-block.test.ts). */
export function uncompressBlock(src: Uint8Array, maxLength: number, start = 0, end = src.length): Buffer {
  return decodeBlock(src, start, end, maxLength, true);
}

/** The JavaScript implementation only (the fallback; tests compare it with the native one). */
export function uncompressBlockJs(src: Uint8Array, maxLength: number, start = 0, end = src.length): Buffer {
  return decodeBlock(src, start, end, maxLength, false);
}

/** the block is src[start, end) (a range, not a view: the AC decodes chunks in place) */
function decodeBlock(src: Uint8Array, start: number, end: number, maxLength: number, allowNative: boolean): Buffer {
  if (start < 0 || end > src.length || start > end) throw new RangeError(`block range [${start}, ${end}) is outside ${src.length} bytes`);
  // preamble: the uncompressed length as a varint (at most 32 bits)
  let len = 0, shift = 0, ip = start;
  for (;;) {
    if (ip >= end || shift > 28) throw new SnappyBlockError("bad length preamble");
    const c = src[ip++];
    len += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
    shift += 7;
  }
  if (len > maxLength) throw new SnappyBlockError(`uncompressed length ${len} is over ${maxLength}`);
  if (len > 0x7fffffff) throw new SnappyBlockError(`uncompressed length ${len} is over 2^31`);
  const out = Buffer.allocUnsafe(len);
  const n = end;
  if (allowNative && ip < n && len > 0) {
    if (native === undefined) native = accel()?.snappyBlock ?? null;
    if (native) {
      const r = native(src, ip, n, out, len);
      if (r < 0) throw new SnappyBlockError(SnappyCode[r] ?? `corrupt block (code ${r})`);
      return out;
    }
  }
  let op = 0;
  while (ip < n) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let l = (tag >>> 2) + 1;
      if (l > 60) {
        const k = l - 60; // 1-4 length bytes
        if (ip + k > n) throw new SnappyBlockError("truncated literal length");
        l = 0;
        for (let j = 0; j < k; j++) l += src[ip + j] * 2 ** (8 * j);
        l += 1;
        ip += k;
      }
      if (ip + l > n || op + l > len) throw new SnappyBlockError("literal runs past the input or the output");
      if (l > 16) out.set(src.subarray(ip, ip + l), op);
      else for (let j = 0; j < l; j++) out[op + j] = src[ip + j];
      ip += l;
      op += l;
      continue;
    }
    let l: number, off: number;
    if (kind === 1) {
      if (ip >= n) throw new SnappyBlockError("truncated copy");
      l = 4 + ((tag >>> 2) & 7);
      off = ((tag >>> 5) << 8) | src[ip++];
    } else if (kind === 2) {
      if (ip + 2 > n) throw new SnappyBlockError("truncated copy");
      l = (tag >>> 2) + 1;
      off = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      if (ip + 4 > n) throw new SnappyBlockError("truncated copy");
      l = (tag >>> 2) + 1;
      off = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
      ip += 4;
    }
    if (off === 0 || off > op) throw new SnappyBlockError(`copy offset ${off} is outside the output so far (${op} bytes)`);
    if (op + l > len) throw new SnappyBlockError("copy runs past the stated length");
    if (off >= l && l > 16) out.copyWithin(op, op - off, op - off + l);
    else for (let j = 0; j < l; j++) out[op + j] = out[op - off + j]; // overlapping: a run, byte by byte
    op += l;
  }
  if (op !== len) throw new SnappyBlockError(`block decodes to ${op} bytes, its preamble says ${len}`);
  return out;
}
