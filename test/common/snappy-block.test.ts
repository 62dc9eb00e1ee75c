// Our snappy block decoders (native through accel.ts, and the JavaScript fallback) against
// snappyjs (an independent implementation) on data of every compressibility, and on corrupt
// blocks: each must throw SnappyBlockError, never misdecode, and the two must agree.
import { test, expect, describe } from "bun:test";
// @ts-ignore snappyjs ships no types
import * as snappy from "snappyjs";
import { uncompressBlock as nativeOrJs, uncompressBlockJs, SnappyBlockError } from "../../src/common/snappy-block.ts";
import { accelStatus } from "../../src/common/accel.ts";
import { decodeFramed, encodeFramed } from "../../src/common/snappy-framed.ts";

let seed = 7;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) % n;
/** data mixing runs, repeats at near and far offsets, and noise */
function sample(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; ) {
    const kind = rnd(4), l = Math.min(len - i, 1 + rnd(200));
    for (let j = 0; j < l; j++, i++) {
      b[i] = kind === 0 ? rnd(256) : kind === 1 ? 0x78 : kind === 2 && i > 300 ? b[i - 1 - rnd(300)] : 0x61 + (j % 7);
    }
  }
  return b;
}

test("the native decoder is the one in use (built by scripts/build)", () => {
  expect(accelStatus()).toStartWith("native");
});

for (const [impl, uncompressBlock] of [["native", nativeOrJs], ["JavaScript", uncompressBlockJs]] as const)
describe(`snappy block decoder (${impl})`, () => {
  test("decodes exactly what snappyjs compresses, at every size and compressibility", () => {
    for (const len of [0, 1, 15, 16, 17, 59, 60, 61, 255, 256, 1000, 4096, 65536, 70_000, 300_000]) {
      for (let k = 0; k < 3; k++) {
        const d = sample(len);
        const c = Buffer.from(snappy.compress(d));
        expect(uncompressBlock(c, 1 << 20).equals(d)).toBe(true);
      }
    }
  });

  test("a framed stream still round-trips (several chunks)", () => {
    const d = sample(200_000);
    expect(decodeFramed(encodeFramed(d), 1 << 20).equals(d)).toBe(true);
  });

  test("corrupt blocks throw SnappyBlockError and never decode wrongly", () => {
    const d = sample(5000);
    const good = Buffer.from(snappy.compress(d));
    const bad: [string, Buffer][] = [
      ["empty", Buffer.alloc(0)],
      ["preamble only, no data", Buffer.from([0x05])],
      ["unterminated preamble", Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ["copy before any output", Buffer.from([0x04, 0x01 | (0 << 2), 0x01])],
      ["offset 0", Buffer.from([0x08, 0x00, 0x61, 0x01, 0x00])],
      ["literal past the input", Buffer.from([0x0a, (9 << 2), 0x61])],
      ["literal past the stated length", Buffer.from([0x01, (3 << 2), 0x61, 0x62, 0x63, 0x64])],
      ["output shorter than stated", Buffer.from([0x09, 0x00, 0x61])],
      ["truncated", good.subarray(0, good.length - 3)],
    ];
    for (const [what, b] of bad) expect(() => uncompressBlock(b, 1 << 20), what).toThrow(SnappyBlockError);
    expect(() => uncompressBlock(good, 100)).toThrow(/over 100/);
    // random single-byte corruption: either an error or (rarely) other valid output, never a crash
    for (let i = 0; i < 500; i++) {
      const c = Buffer.from(good);
      c[2 + rnd(c.length - 2)] ^= 1 + rnd(255); // past the 2-byte preamble
      try {
        const out = uncompressBlock(c, 1 << 20);
        expect(out.length).toBe(d.length); // the preamble is intact, so a decode has its length
      } catch (e) {
        expect(e).toBeInstanceOf(SnappyBlockError);
      }
    }
  });
});

test("native and JavaScript decoders agree on 3,000 corrupted blocks: the same bytes or both an error", () => {
  const outcome = (f: typeof nativeOrJs, b: Buffer) => {
    try {
      return f(b, 1 << 20).toString("hex");
    } catch (e) {
      expect(e).toBeInstanceOf(SnappyBlockError);
      return "error";
    }
  };
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const good = Buffer.from(snappy.compress(sample(1 + rnd(3000))));
    const c = Buffer.from(good);
    for (let k = 1 + rnd(3); k > 0; k--) c[rnd(c.length)] ^= 1 + rnd(255);
    const cut = rnd(4) === 0 ? c.subarray(0, rnd(c.length)) : c;
    const js = outcome(uncompressBlockJs, cut);
    expect(outcome(nativeOrJs, cut)).toBe(js);
    if (js === "error") errors++;
  }
  expect(errors).toBeGreaterThan(1000); // the corruption did reach the decoders' checks
});

test("a block given as a range of a larger buffer decodes the same, by both; the bytes around it are not read", () => {
  const d = sample(4000);
  const c = Buffer.from(snappy.compress(d));
  // garbage that would be a literal running past the stated length, on both sides
  const framed = Buffer.concat([Buffer.alloc(7, 0xf0), c, Buffer.alloc(9, 0xf0)]);
  for (const f of [nativeOrJs, uncompressBlockJs]) {
    expect(f(framed, 1 << 20, 7, 7 + c.length).equals(d)).toBe(true);
    expect(() => f(framed, 1 << 20, 7, 7 + c.length + 1)).toThrow(SnappyBlockError);
    expect(() => f(framed, 1 << 20, 7, framed.length + 1)).toThrow(RangeError);
  }
});
