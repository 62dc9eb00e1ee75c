// The HPACK codec (src/server/ac/h2/hpack.ts): every RFC 7541 Appendix C example, including the
// dynamic table after each block; encodeHeaders round trips; Huffman decoding of every octet
// against a test-only encoder built from a separate copy of the Appendix B code lengths; blocks
// from an independent encoder (Go's golang.org/x/net/http2/hpack, test/server/ac/h2/hpack-go)
// with Huffman, a shared dynamic table and table size updates; and malformed blocks.
import { test, expect, describe } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HpackDecoder, HpackError, encodeHeaders } from "../../../../src/server/ac/h2/hpack.ts";

type Field = [string, string];
const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
/** A string's octets (each char code must be < 256). */
const octets = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** A seeded PRNG (mulberry32), so every run and every failure is reproducible. */
function prng(seed: number) {
  return (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

interface Step { wire: string; fields: Field[]; table: Field[]; size: number }

function decodeSteps(decoder: HpackDecoder, steps: Step[]) {
  for (const s of steps) {
    expect(decoder.decode(hex(s.wire))).toEqual(s.fields);
    expect(decoder.tableForTest()).toEqual(s.table);
    expect(decoder.tableSize).toBe(s.size);
  }
}

describe("RFC 7541 Appendix C", () => {
  test("C.2.1 literal header field with indexing", () => {
    decodeSteps(new HpackDecoder(), [{
      wire: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
      fields: [["custom-key", "custom-header"]], table: [["custom-key", "custom-header"]], size: 55,
    }]);
  });

  test("C.2.2 literal header field without indexing", () => {
    decodeSteps(new HpackDecoder(), [{ wire: "040c 2f73 616d 706c 652f 7061 7468", fields: [[":path", "/sample/path"]], table: [], size: 0 }]);
  });

  test("C.2.3 literal header field never indexed", () => {
    decodeSteps(new HpackDecoder(), [{ wire: "1008 7061 7373 776f 7264 0673 6563 7265 74", fields: [["password", "secret"]], table: [], size: 0 }]);
  });

  test("C.2.4 indexed header field", () => {
    decodeSteps(new HpackDecoder(), [{ wire: "82", fields: [[":method", "GET"]], table: [], size: 0 }]);
  });

  const authority: Field = [":authority", "www.example.com"];
  const noCache: Field = ["cache-control", "no-cache"];
  const customValue: Field = ["custom-key", "custom-value"];
  const requests = (wires: string[]): Step[] => [
    { wire: wires[0], fields: [[":method", "GET"], [":scheme", "http"], [":path", "/"], authority], table: [authority], size: 57 },
    { wire: wires[1], fields: [[":method", "GET"], [":scheme", "http"], [":path", "/"], authority, noCache], table: [noCache, authority], size: 110 },
    {
      wire: wires[2], fields: [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], authority, customValue],
      table: [customValue, noCache, authority], size: 164,
    },
  ];

  test("C.3 requests without Huffman coding, one decoder", () => {
    decodeSteps(new HpackDecoder(), requests([
      "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]));
  });

  test("C.4 requests with Huffman coding, one decoder", () => {
    decodeSteps(new HpackDecoder(), requests([
      "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]));
  });

  const location: Field = ["location", "https://www.example.com"];
  const private_: Field = ["cache-control", "private"];
  const date21: Field = ["date", "Mon, 21 Oct 2013 20:13:21 GMT"];
  const date22: Field = ["date", "Mon, 21 Oct 2013 20:13:22 GMT"];
  const gzip: Field = ["content-encoding", "gzip"];
  const cookie: Field = ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"];
  const responses = (wires: string[]): Step[] => [
    { wire: wires[0], fields: [[":status", "302"], private_, date21, location], table: [location, date21, private_, [":status", "302"]], size: 222 },
    // ":status: 307" evicts ":status: 302"
    { wire: wires[1], fields: [[":status", "307"], private_, date21, location], table: [[":status", "307"], location, date21, private_], size: 222 },
    { wire: wires[2], fields: [[":status", "200"], private_, date22, location, gzip, cookie], table: [cookie, gzip, date22], size: 215 },
  ];

  test("C.5 responses without Huffman coding, 256-octet table, eviction", () => {
    decodeSteps(new HpackDecoder({ maxTableSize: 256 }), responses([
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
       546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      "4803 3330 37c1 c0bf",
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
       6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
       2076 6572 7369 6f6e 3d31`,
    ]));
  });

  test("C.6 responses with Huffman coding, 256-octet table, eviction", () => {
    decodeSteps(new HpackDecoder({ maxTableSize: 256 }), responses([
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7
       8f0b 97c8 e9ae 82ae 43d3`,
      "4883 640e ffc1 c0bf",
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
       dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ]));
  });
});

describe("encodeHeaders", () => {
  const grpcResponse: Field[] = [[":status", "200"], ["content-type", "application/grpc"], ["grpc-accept-encoding", "identity,gzip,snappy"]];
  const grpcTrailers: Field[] = [["grpc-status", "0"], ["grpc-message", "some text with spaces %20"]];

  test("gRPC response headers and trailers decode back with a fresh decoder", () => {
    for (const fields of [grpcResponse, grpcTrailers]) expect(new HpackDecoder().decode(encodeHeaders(fields))).toEqual(fields);
  });

  test("exact static entries are one indexed byte; known names are a static name index", () => {
    expect(toHex(encodeHeaders([[":status", "200"]]))).toBe("88");
    expect(toHex(encodeHeaders([[":method", "POST"], [":scheme", "https"], [":status", "500"], ["accept", ""]]))).toBe("83878e93");
    // content-type is static index 31: 0000 1111 then 31 - 15 = 16; value raw, length 16
    expect(toHex(encodeHeaders([["content-type", "application/grpc"]]))).toBe("0f10" + "10" + toHex(octets("application/grpc")));
    // :status 418 is not a static entry: name index 8, literal value
    expect(toHex(encodeHeaders([[":status", "418"]]))).toBe("0803343138");
    // an unknown name is a literal name (index 0)
    expect(toHex(encodeHeaders([["te", "trailers"]]))).toBe("0002746508" + toHex(octets("trailers")));
  });

  test("never touches a dynamic table: decoding adds nothing, repeat blocks are identical", () => {
    const d = new HpackDecoder();
    const block = encodeHeaders([...grpcResponse, ...grpcTrailers, ["x-custom", "v"]]);
    expect(d.decode(block)).toEqual([...grpcResponse, ...grpcTrailers, ["x-custom", "v"]]);
    expect(d.tableForTest()).toEqual([]);
    expect(encodeHeaders([...grpcResponse, ...grpcTrailers, ["x-custom", "v"]])).toEqual(block);
  });

  test("long values, multi-byte integers, octets 0x80-0xff and case are kept", () => {
    const long = "x".repeat(70_000);
    const high = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const fields: Field[] = [["X-Mixed-Case", high], ["grpc-message", long], ["", ""]];
    const block = encodeHeaders(fields);
    expect(new HpackDecoder({ maxHeaderListSize: 1 << 20 }).decode(block)).toEqual(fields);
  });

  test("refuses characters above 0xff", () => {
    expect(() => encodeHeaders([["grpc-message", "caf\u00e9 \u20ac"]])).toThrow(/U\+20ac/);
  });
});

// Appendix B bit lengths, symbols 0..255 then EOS, written separately from hpack.ts's table. The
// HPACK code is canonical (codes of one length are consecutive, in symbol order, after all
// shorter ones), so the lengths alone give every code; the asserts below pin some to the RFC.
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

function canonicalCodes(lengths: number[]): number[] {
  const order = lengths.map((len, sym) => [len, sym]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const codes: number[] = [];
  let code = 0, prev = order[0][0];
  for (const [len, sym] of order) {
    code *= 2 ** (len - prev);
    prev = len;
    codes[sym] = code++;
  }
  return codes;
}
const HUFFMAN_CODES = canonicalCodes(HUFFMAN_LENGTHS);

/** Test-only Huffman encoder: codes MSB first, the last octet padded with 1 bits (EOS prefix). */
function huffmanEncode(data: Uint8Array): Uint8Array {
  const bits: number[] = [];
  for (const sym of data) for (let i = HUFFMAN_LENGTHS[sym] - 1; i >= 0; i--) bits.push(Math.floor(HUFFMAN_CODES[sym] / 2 ** i) % 2);
  while (bits.length % 8) bits.push(1);
  const out = new Uint8Array(bits.length / 8);
  bits.forEach((b, i) => { out[i >> 3] |= b << (7 - (i & 7)); });
  return out;
}

/** RFC 7541 5.1 integer with a 7-bit prefix, and 5.2 string literal, written again for the tests. */
function stringLiteral(body: Uint8Array, huffman: boolean): Uint8Array {
  const len = [(huffman ? 0x80 : 0) | Math.min(body.length, 127)];
  if (body.length >= 127) {
    let v = body.length - 127;
    for (; v >= 128; v = Math.floor(v / 128)) len.push(0x80 | (v % 128));
    len.push(v);
  }
  return Uint8Array.from([...len, ...body]);
}

/** A literal without indexing with name "h" and a Huffman-coded value of these octets. */
const huffmanBlock = (value: Uint8Array) => Uint8Array.from([0x00, 0x01, 0x68, ...stringLiteral(huffmanEncode(value), true)]);

describe("Huffman", () => {
  test("the test's canonical codes are the RFC's (Kraft sum 1, spot checks)", () => {
    expect(HUFFMAN_LENGTHS.length).toBe(257);
    expect(HUFFMAN_LENGTHS.reduce((s, len) => s + 2 ** -len, 0)).toBe(1);
    const spot: [number, number][] = [[0, 0x1ff8], [10, 0x3ffffffc], [32, 0x14], [48, 0x0], [97, 0x3], [122, 0x7b], [127, 0xffffffc],
      [128, 0xfffe6], [200, 0x3ffffe2], [255, 0x3ffffee], [256, 0x3fffffff]];
    for (const [sym, code] of spot) expect([sym, HUFFMAN_CODES[sym]]).toEqual([sym, code]);
  });

  test("the encoder above reproduces RFC 7541 C.4.1's www.example.com", () => {
    expect(toHex(huffmanEncode(octets("www.example.com")))).toBe("f1e3c2e5f23a6ba0ab90f4ff");
  });

  test("every single octet value, and all 256 in order", () => {
    const d = new HpackDecoder();
    for (let b = 0; b < 256; b++) expect(d.decode(huffmanBlock(Uint8Array.of(b)))).toEqual([["h", String.fromCharCode(b)]]);
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(d.decode(huffmanBlock(all))).toEqual([["h", latin1(all)]]);
  });

  test("random strings of all octet values (1000, seeded)", () => {
    const rnd = prng(7541);
    const d = new HpackDecoder();
    for (let i = 0; i < 1000; i++) {
      const value = Uint8Array.from({ length: rnd(120) }, () => rnd(256));
      const block = huffmanBlock(value);
      expect(d.decode(block)).toEqual([["h", latin1(value)]]);
    }
  });

  test("an empty Huffman string is the empty string", () => {
    expect(new HpackDecoder().decode(hex("00 0168 80"))).toEqual([["h", ""]]);
  });
});

describe("malformed blocks throw HpackError", () => {
  const cases: [string, string, RegExp, HpackDecoder?][] = [
    ["index 0", "80", /index 0/],
    ["indexed field beyond the tables", "82 bf", /index 63 is beyond the dynamic table \(0 entries\)/],
    ["name index beyond the tables", "40 0161 0162 7f03 0162", /index 66 is beyond the dynamic table \(1 entries\)/],
    ["truncated integer", "7f", /truncated in an integer/],
    ["truncated integer continuation", "ff ff", /truncated in an integer/],
    ["integer overflow", "7f ffffffffffff", /integer is larger than 2\^31/],
    ["integer with too many continuation bytes", "7f 8080808080 00", /more than 5 continuation bytes/],
    ["block ends before a name string", "00", /truncated before a string/],
    ["block ends before a value string", "04", /truncated before a string/],
    ["string length beyond the block", "40 0a 6162", /string length 10 exceeds the 2 bytes left/],
    ["Huffman string length beyond the block", "04 85 ffff", /string length 5 exceeds the 2 bytes left/],
    // 'a' (00011) then 11 one bits
    ["Huffman padding of 8+ bits", "00 0168 82 1fff", /padding is 11 bits, longer than 7/],
    // eight one bits alone, not a symbol
    ["Huffman padding of a whole octet", "00 0168 81 ff", /padding is 8 bits/],
    // 'a' (00011) then 110
    ["Huffman padding with a zero bit", "00 0168 81 1e", /padding is not all 1 bits/],
    // 'a', then EOS (30 one bits), then 5 one bits of padding
    ["EOS inside a Huffman string", "00 0168 85 1fffffffff", /EOS/],
    ["table size update above the limit", "3f e1 1f", /size update to 4096 exceeds the limit 256/, new HpackDecoder({ maxTableSize: 256 })],
    ["table size update above the default limit", "3f e2 1f", /size update to 4097 exceeds the limit 4096/],
    ["table size update after a field", "82 20", /size update after a header field/],
    ["header list over maxHeaderListSize", "82 82 82", /header list size exceeds 100 \(at field 3\)/, new HpackDecoder({ maxHeaderListSize: 100 })],
  ];
  for (const [name, wire, message, decoder] of cases) {
    test(name, () => {
      let err: unknown;
      try {
        (decoder ?? new HpackDecoder()).decode(hex(wire));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HpackError);
      expect((err as Error).message).toMatch(message);
    });
  }

  test("the same shapes just inside the limits decode", () => {
    expect(new HpackDecoder({ maxTableSize: 256 }).decode(hex("3f e1 01 20 3f e1 01 82"))).toEqual([[":method", "GET"]]); // updates to 256, 0, 256
    expect(new HpackDecoder({ maxHeaderListSize: 84 }).decode(hex("82 82"))).toEqual([[":method", "GET"], [":method", "GET"]]);
    expect(new HpackDecoder().decode(hex("00 0168 81 1f"))).toEqual([["h", "a"]]); // 'a' + 3 padding bits
    // 2^31 - 1 as a string length parses as an integer, then fails only as longer than the block
    expect(() => new HpackDecoder().decode(hex("04 7f 80 ff ff ff 07"))).toThrow(/string length 2147483647 exceeds/);
  });

  test("a table size update evicts; an entry larger than the table empties it", () => {
    const d = new HpackDecoder();
    d.decode(hex("40 0161 0162  40 0163 0164")); // a: b, c: d (34 octets each)
    expect(d.tableForTest()).toEqual([["c", "d"], ["a", "b"]]);
    d.decode(hex("3f 04")); // size 35: a: b goes
    expect([d.tableForTest(), d.tableSize]).toEqual([[["c", "d"]], 34]);
    expect(() => new HpackDecoder().decode(hex("3f 04 be"))).toThrow(/index 62 is beyond the dynamic table \(0 entries\)/);
    d.decode(hex("40 0165 0266 66")); // e: ff is 35 octets: fits exactly, evicting c: d
    expect([d.tableForTest(), d.tableSize]).toEqual([[["e", "ff"]], 35]);
    expect(d.decode(hex("40 0167 0368 6868"))).toEqual([["g", "hhh"]]); // 36 > 35: table emptied, not added
    expect([d.tableForTest(), d.tableSize]).toEqual([[], 0]);
    d.decode(hex("3f 25  40 0161 0162  40 0163 0164")); // size 68: a: b and c: d fill it exactly, both stay
    expect([d.tableForTest(), d.tableSize]).toEqual([[["c", "d"], ["a", "b"]], 68]);
    d.decode(hex("3f 25")); // resizing to the current size evicts nothing
    expect(d.tableForTest().length).toBe(2);
  });
});

// The Go cross-check: random header sets through golang.org/x/net/http2/hpack's encoder (Huffman
// wherever it is shorter, one encoder for all blocks so its dynamic table is shared, some
// sensitive fields as never indexed, table size updates), decoded by one HpackDecoder.
const goDir = join(import.meta.dir, "hpack-go");
// where scripts/setup and scripts/build look for it: PATH, then the Go tarball's place
const go = Bun.which("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : null);
const hasGo = go !== null;
if (!hasGo) console.warn("hpack.test.ts: no `go` on PATH nor /usr/local/go/bin, skipping the cross-check against golang.org/x/net/http2/hpack");

interface GoBlock { size?: number; fields: { n: string; v: string; s: boolean }[] }

function randomBlocks(): { blocks: GoBlock[]; expected: Field[][]; repeatAt: number } {
  const rnd = prng(2024);
  const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)];
  const chars = (n: number, lo: number, hi: number) => String.fromCharCode(...Array.from({ length: n }, () => lo + rnd(hi - lo + 1)));
  const names = [":path", ":authority", "content-type", "user-agent", "grpc-timeout", "grpc-encoding", "te", "x-trace-id",
    "x-custom-1", "x-custom-2", "X-Upper-Case", "authorization", "cookie", "grpc-status", "grpc-message"];
  const values = ["/grpc.Transfer/Transfer", "application/grpc", "trailers", "gzip", "1S", "grpc-go/1.85.0", "", "0"];
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
  const value = (): string => {
    switch (rnd(7)) {
      case 0: return pick(values);
      case 1: return printable; // every octet 0x20-0x7e
      case 2: return chars(200 + rnd(3000), 0x20, 0x7e); // long: some larger than a small table
      case 3: return chars(rnd(40), 0x20, 0x7e) + chars(1 + rnd(10), 0x80, 0xff); // raw: shorter than Huffman
      case 4: return chars(100 + rnd(200), 0x20, 0x7e) + chars(1 + rnd(2), 0x80, 0xff) + chars(rnd(50), 0x20, 0x7e); // Huffman
      default: return chars(rnd(60), 0x20, 0x7e);
    }
  };
  const sizes: Record<number, number> = { 50: 256, 80: 0, 81: 4096, 120: 64, 121: 1000, 160: 4096 };
  const blocks: GoBlock[] = [], expected: Field[][] = [];
  const repeatAt = 30; // block 31 repeats block 30, whose fields are small enough to stay indexed
  for (let i = 0; i < 200; i++) {
    let fields: Field[];
    if (i === repeatAt) fields = [[":path", "/grpc.Transfer/Transfer"], ["x-custom-1", "abc"], ["X-Upper-Case", "\xff\x80"]];
    else if (i === repeatAt + 1) fields = expected[repeatAt];
    else fields = Array.from({ length: 1 + rnd(12) }, (): Field => [rnd(8) ? pick(names) : chars(1 + rnd(20), 0x61, 0x7a), value()]);
    const block: GoBlock = { fields: fields.map(([n, v]) => ({ n: toHex(octets(n)), v: toHex(octets(v)), s: rnd(10) === 0 })) };
    if (i === repeatAt || i === repeatAt + 1) for (const f of block.fields) f.s = false;
    if (i in sizes) block.size = sizes[i];
    blocks.push(block);
    expected.push(fields);
  }
  return { blocks, expected, repeatAt };
}

test.skipIf(!hasGo)("decodes blocks from Go's golang.org/x/net/http2/hpack encoder", () => {
  const { blocks, expected, repeatAt } = randomBlocks();
  const run = spawnSync(go!, ["run", "."], {
    cwd: goDir,
    input: blocks.map((b) => JSON.stringify(b)).join("\n") + "\n",
    env: { ...process.env, GOFLAGS: "-mod=mod -buildvcs=false", GOTOOLCHAIN: "local" },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  expect(run.error).toBeUndefined();
  expect(run.stderr + `exit ${run.status}`).toBe(`exit 0`);
  const wires = run.stdout.trim().split("\n").map(hex);
  expect(wires.length).toBe(blocks.length);

  const d = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  let entries = 0;
  wires.forEach((wire, i) => {
    const size = blocks[i].size;
    if (size !== undefined) expect(wire[0] & 0xe0).toBe(0x20); // starts with a table size update
    expect([i, d.decode(wire)]).toEqual([i, expected[i]]);
    if (size !== undefined) expect(d.tableSize).toBeLessThanOrEqual(size);
    entries = Math.max(entries, d.tableForTest().length);
  });
  // Go did Huffman-code: ":path" as an incrementally indexed literal with a static name index
  // (Go picks index 5, ":path: /index.html"), then a value with the H bit
  expect([wires[repeatAt][0], wires[repeatAt][1] & 0x80]).toEqual([0x45, 0x80]);
  // the repeated block is three one-octet references into the dynamic table
  expect(wires[repeatAt + 1].length).toBe(3);
  expect(wires[repeatAt + 1].every((b) => b >= 0x80 + 62)).toBe(true);
  expect(entries).toBeGreaterThan(10);
}, 180_000);
