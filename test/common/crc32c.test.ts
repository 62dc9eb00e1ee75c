// CRC-32C: the native version (accel.ts, SSE4.2) and the JavaScript fallback against RFC 3720's
// test vectors and against each other on random data, lengths, alignments and continuations.
import { test, expect } from "bun:test";
import { crc32c, crc32cJs } from "../../src/common/crc32c.ts";
import { accel } from "../../src/common/accel.ts";

let seed = 11;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) % n;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rnd(256)));

const native = (b: Uint8Array, prev = 0) => accel()!.crc32c(prev, b, b.length);

test("RFC 3720 B.4 vectors and '123456789', by both implementations", () => {
  expect(accel()).not.toBeNull();
  const vectors: [Uint8Array, number][] = [
    [Buffer.from("123456789"), 0xe3069283],
    [Buffer.alloc(32), 0x8a9136aa],
    [Buffer.alloc(32, 0xff), 0x62a8ab43],
    [Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    [Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ];
  for (const [b, want] of vectors) {
    expect(crc32cJs(b)).toBe(want);
    expect(native(b)).toBe(want);
    expect(crc32c(b)).toBe(want);
  }
});

test("native and JavaScript agree at every length 1-600, at odd offsets into a buffer, with a prior CRC", () => {
  const big = bytes(4096);
  for (let len = 1; len <= 600; len++) {
    const off = rnd(64);
    const view = big.subarray(off, off + len); // a view: its byteOffset must be honoured
    const prev = rnd(0x7fffffff) * 2 + rnd(2);
    expect(native(view, prev)).toBe(crc32cJs(view, prev));
    expect(crc32c(view)).toBe(crc32cJs(view));
  }
});

test("continuation: crc(a+b) = crc32c(b, crc32c(a)), across the native threshold", () => {
  for (let i = 0; i < 200; i++) {
    const a = bytes(rnd(300)), b = bytes(1 + rnd(300));
    const whole = crc32cJs(Buffer.concat([a, b]));
    expect(crc32c(b, crc32c(a))).toBe(whole);
    expect(crc32cJs(b, crc32cJs(a))).toBe(whole);
  }
});

test("1 MiB: one call equals the JavaScript loop", () => {
  const b = bytes(1 << 20);
  expect(crc32c(b)).toBe(crc32cJs(b));
});

test("VIGIL_NO_NATIVE=1 selects the JavaScript versions, with the same results", () => {
  const code = `import { accelStatus } from "./src/common/accel.ts"; import { crc32c } from "./src/common/crc32c.ts";
    console.log(accelStatus() + "|" + crc32c(Buffer.alloc(1000, 7)));`;
  const r = Bun.spawnSync([process.execPath, "-e", code], { cwd: `${import.meta.dir}/../..`, env: { ...process.env, VIGIL_NO_NATIVE: "1" }, stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.stdout.toString().trim()).toBe(`JavaScript: VIGIL_NO_NATIVE=1|${crc32cJs(Buffer.alloc(1000, 7))}`);
});
