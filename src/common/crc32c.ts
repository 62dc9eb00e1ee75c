// CRC-32C (Castagnoli) by slicing-by-8, about four times faster than a byte at a time (a test
// checks them against each other). The store computes it over every entry it writes and reads,
// and snappy framing over every chunk an Elkeid agent sends: both are on the AC's hot path, where
// the native version (accel.ts: SSE4.2's crc32 instruction) takes over from 64 bytes up.
import { accel, type Accel } from "./accel.ts";

const POLY = 0x82f63b78;
// int32 throughout (Int32Array table, no >>> 0 in the loop): JSC keeps every value an int; with a
// Uint32Array table and unsigned intermediates it fell back to doubles (2.5 KB: 12 µs -> 2 µs)
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) for (let s = 1; s < 8; s++) T[s * 256 + n] = (T[(s - 1) * 256 + n] >>> 8) ^ T[T[(s - 1) * 256 + n] & 0xff];

/** below this many bytes the JavaScript loop beats the FFI call */
const NATIVE_MIN = 64;
let native: Accel["crc32c"] | null | undefined;

/** CRC-32C of b; pass the CRC of what precedes b as prev to continue it (crc(a+b) = crc32c(b, crc32c(a))). */
export function crc32c(b: Uint8Array, prev = 0): number {
  if (b.length >= NATIVE_MIN) {
    if (native === undefined) native = accel()?.crc32c ?? null;
    if (native) return native(prev, b, b.length);
  }
  return crc32cJs(b, prev);
}

/** The JavaScript implementation (the fallback; tests compare it with the native one). */
export function crc32cJs(b: Uint8Array, prev = 0): number {
  let c = prev ^ -1;
  let i = 0;
  const n = b.length;
  for (const end8 = n - (n & 7); i < end8; i += 8) {
    const lo = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    const hi = b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
    c = T[1792 + (lo & 0xff)] ^ T[1536 + ((lo >>> 8) & 0xff)] ^ T[1280 + ((lo >>> 16) & 0xff)] ^ T[1024 + (lo >>> 24)] ^
      T[768 + (hi & 0xff)] ^ T[512 + ((hi >>> 8) & 0xff)] ^ T[256 + ((hi >>> 16) & 0xff)] ^ T[hi >>> 24];
  }
  for (; i < n; i++) c = T[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** CRC-32C of b[start, end) continuing prev, for a few bytes inside a larger buffer (no view). */
export function crc32cRange(b: Uint8Array, start: number, end: number, prev = 0): number {
  let c = prev ^ -1;
  for (let i = start; i < end; i++) c = T[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
