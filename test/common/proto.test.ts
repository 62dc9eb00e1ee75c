// encodePayload writes Payload{map<string,string> fields = 1} by hand: it must produce exactly
// protobufjs' bytes (Elkeid's decoders and ours read them) for every kind of string.
import { describe, expect, test } from "bun:test";
import { decodePayload, encodePayload, grpc } from "../../src/common/proto.ts";

const reference = (fields: Record<string, string>) => Buffer.from(grpc.Payload.encode({ fields }).finish());

const cases: Record<string, Record<string, string>> = {
  empty: {},
  ascii: { uid: "0", exe: "/usr/bin/cat", pid: "24937", file: "/etc/hostname" },
  "empty strings": { "": "", a: "", b: "x" },
  unicode: { file: "/tmp/naïve-文件", comm: "ç", emoji: "😀 ok", "ключ": "значение" },
  "integer-like keys (object order puts them first)": { z: "1", "10": "ten", "0": "zero" },
  "a value of 200 bytes (two-byte lengths)": { argv: "a".repeat(200) },
  "a value of 100 KB (the scratch grows)": { env: "x=".repeat(50_000), after: "y" },
};

describe("encodePayload", () => {
  for (const [name, fields] of Object.entries(cases)) {
    test(`same bytes as protobufjs: ${name}`, () => {
      const mine = Buffer.from(encodePayload(fields));
      expect(mine.equals(reference(fields))).toBe(true);
      expect(decodePayload(mine)).toEqual(fields);
    });
  }

  test("each result is its own copy: a later record never changes an earlier one", () => {
    const first = encodePayload({ a: "first" });
    const copy = Buffer.from(first);
    encodePayload({ a: "second, and longer" });
    encodePayload(cases["a value of 100 KB (the scratch grows)"]);
    expect(Buffer.from(first).equals(copy)).toBe(true);
    expect(decodePayload(encodePayload({ k: "v" }))).toEqual({ k: "v" });
  });

  test("a lone surrogate is written as U+FFFD (valid UTF-8), not dropped", () => {
    expect(decodePayload(encodePayload({ s: "a\ud800b" }))).toEqual({ s: "a\ufffdb" });
  });

  test("a value that is not a string is refused by name", () => {
    expect(() => encodePayload({ pid: 42 as unknown as string })).toThrow(/field "pid" is not a string/);
  });
});
