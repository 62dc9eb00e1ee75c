// The AC's PackagedData scanner (src/server/ac/packaged.ts) against protobufjs's decode: same
// identity fields, seq and records; heartbeat payload found; malformed input throws.
import { test, expect, describe } from "bun:test";
import { grpc, encodePayload, decodePayload } from "../../../src/common/proto.ts";
import { scanPackagedData } from "../../../src/server/ac/packaged.ts";
import { DataType } from "../../../src/common/wire.ts";

const msg = (over: Partial<grpc.PackagedData.$Properties> = {}) => Buffer.from(grpc.PackagedData.encode({
  agentId: "a-1", hostname: "host", version: "1.2.3", product: "vigil-agent",
  intranetIpv4: ["10.0.0.1", "10.0.0.2"], extranetIpv4: ["1.2.3.4"], intranetIpv6: ["fe80::1"], extranetIpv6: [],
  seq: 2 ** 40 + 7,
  records: [
    { dataType: 59, timestamp: 1_700_000_000, data: encodePayload({ exe: "/bin/sh" }) },
    { dataType: DataType.AgentHeartbeat, timestamp: 1_700_000_001, data: encodePayload({ cpu: "0.5" }) },
    { dataType: 42, timestamp: 0, data: new Uint8Array() },
  ],
  ...over,
}).finish());

describe("scanPackagedData", () => {
  test("reads what decode reads, records lazily", () => {
    const wire = msg();
    const d = grpc.PackagedData.decode(wire);
    const s = scanPackagedData(wire);
    for (const k of ["agentId", "hostname", "version", "product", "intranetIpv4", "extranetIpv4", "intranetIpv6", "extranetIpv6"] as const) expect(s[k]).toEqual(d[k]);
    expect(s.seq).toBe(Number(d.seq));
    expect(s.recordCount).toBe(3);
    expect([...s.dataTypes]).toEqual([59, 1000, 42]);
    expect([...s.dataBytes]).toEqual(d.records.map((r) => r.data?.length ?? 0));
    expect(decodePayload(s.heartbeat!)).toEqual({ cpu: "0.5" });
    expect(s.records.map((r) => r.dataType)).toEqual([59, 1000, 42]);
    expect(s.wire).toBe(wire);
  });

  test("an empty message and unknown fields are fine", () => {
    expect(scanPackagedData(Buffer.alloc(0)).recordCount).toBe(0);
    const withUnknown = Buffer.concat([msg(), Buffer.from([0xa8, 0x1f, 0x05])]); // field 501 varint
    expect(scanPackagedData(withUnknown).agentId).toBe("a-1");
  });

  test("malformed protobuf throws", () => {
    expect(() => scanPackagedData(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))).toThrow();
    const wire = msg();
    expect(() => scanPackagedData(wire.subarray(0, wire.length - 3))).toThrow();
    expect(() => scanPackagedData(Buffer.from([0x0f]))).toThrow(); // wire type 7
    // a string field whose length runs past the message (protobufjs's string() would cut it short)
    expect(() => scanPackagedData(Buffer.from([0x3a, 0x05, 0x68, 0x6f]))).toThrow(RangeError);
  });

  test("a stream's memo: repeated identity strings are the same objects; any changed byte is read anew", () => {
    const memo = {};
    const a = scanPackagedData(msg(), memo);
    const b = scanPackagedData(msg(), memo);
    expect(b.agentId).toBe("a-1");
    expect(Object.is(a.agentId, b.agentId) && Object.is(a.intranetIpv4[1], b.intranetIpv4[1])).toBe(true);
    // same lengths, one byte different; fields in another order; a multi-byte UTF-8 name; fewer addresses
    const c = scanPackagedData(msg({ hostname: "hosu", version: "1.2.4", intranetIpv4: ["10.0.0.9"] }), memo);
    expect([c.agentId, c.hostname, c.version, c.intranetIpv4, c.extranetIpv4, c.intranetIpv6]).toEqual(["a-1", "hosu", "1.2.4", ["10.0.0.9"], ["1.2.3.4"], ["fe80::1"]]);
    const reordered = Buffer.from(grpc.PackagedData.encode({ hostname: "a-1", agentId: "host" }).finish());
    const d = scanPackagedData(reordered, memo);
    expect([d.agentId, d.hostname]).toEqual(["host", "a-1"]);
    const e = scanPackagedData(msg({ hostname: "höst-名前" }), memo);
    expect(e.hostname).toBe("höst-名前");
    expect(scanPackagedData(msg({ hostname: "höst-名前" }), memo).hostname).toBe("höst-名前");
    // every field equal to a fresh decode after all of that
    const f = scanPackagedData(msg(), memo);
    const ref = grpc.PackagedData.decode(msg());
    for (const k of ["agentId", "hostname", "version", "product", "intranetIpv4", "extranetIpv4", "intranetIpv6", "extranetIpv6"] as const) expect(f[k]).toEqual(ref[k]);
  });
});
