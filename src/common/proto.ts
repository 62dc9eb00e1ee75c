// The generated protobuf code for every wire message (proto/*.proto, built by scripts/build.ts
// into gen/), plus helpers for the Payload map that every record carries.
import "./protobuf-numbers.ts"; // first: before the generated code is evaluated
import { grpc, plugin, kafka } from "./gen/proto.js";

export { grpc, plugin, kafka };

/** Scratch for encodePayload, grown when a record needs more. */
let scratch = Buffer.allocUnsafe(64 << 10);
/** The same bytes as a plain Uint8Array: the JIT's byte stores are fastest on it. */
let scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);

function putVarint(b: Uint8Array, off: number, v: number): number {
  while (v > 0x7f) {
    b[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[off++] = v;
  return off;
}

const varintLen = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);

/**
 * Serialize a record's fields as a `Payload{1 map<string,string> fields}`: the same bytes as
 * protobufjs (each entry `1: {1: key, 2: value}`, both always written, in the object's key
 * order), written straight into one buffer. protobufjs' fork/ldelim per entry cost ~10 us
 * per event record, this ~1 us.
 */
export function encodePayload(fields: Record<string, string>): Uint8Array {
  let buf = scratch;
  let b = scratchBytes;
  let off = 0;
  for (const k in fields) {
    const v = fields[k];
    if (typeof v !== "string") throw new TypeError(`field "${k}" is not a string`);
    // Nearly every key and value is ASCII: its byte length is its length, and a JS loop writes
    // it faster than a native call per string.
    const ka = isAscii(k), va = isAscii(v);
    const kl = ka ? k.length : Buffer.byteLength(k, "utf8");
    const vl = va ? v.length : Buffer.byteLength(v, "utf8");
    const entry = 1 + varintLen(kl) + kl + 1 + varintLen(vl) + vl;
    const need = off + 1 + varintLen(entry) + entry;
    if (need > b.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, b.length * 2));
      buf.copy(grown, 0, 0, off);
      buf = scratch = grown;
      b = scratchBytes = new Uint8Array(grown.buffer, grown.byteOffset, grown.length);
    }
    b[off++] = 0x0a;
    off = putVarint(b, off, entry);
    b[off++] = 0x0a;
    off = putVarint(b, off, kl);
    off = ka ? putAscii(b, off, k) : off + buf.write(k, off, kl, "utf8");
    b[off++] = 0x12;
    off = putVarint(b, off, vl);
    off = va ? putAscii(b, off, v) : off + buf.write(v, off, vl, "utf8");
  }
  return b.slice(0, off); // a copy: the scratch is reused
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function putAscii(b: Uint8Array, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[off++] = s.charCodeAt(i);
  return off;
}

/** Parse `Payload` bytes; throws on malformed protobuf. */
export function decodePayload(bytes: Uint8Array): Record<string, string> {
  return grpc.Payload.decode(bytes).fields ?? {};
}
