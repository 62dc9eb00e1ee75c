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
  });
});
