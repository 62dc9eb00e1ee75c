// The index's readers of raw bytes agree with the full decoders: entry-peek.ts with protobufjs
// on agent_id (last wins) and data_types, the store's slicing-by-8 CRC-32C with the common one.
import { test, expect, describe } from "bun:test";
import { randomBytes } from "node:crypto";
import { grpc, encodePayload } from "../../../src/common/proto.ts";
import { crc32c } from "../../../src/common/crc32c.ts";

/** CRC-32C one byte at a time, straight from the definition: what the fast one must equal */
function reference(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of buf) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
import { decodeEntry, frameWireEntry, type WireBatch } from "../../../src/server/store/entry.ts";
import { peekDataTypes, peekEntry, peekEntryAgent } from "../../../src/server/store/entry-peek.ts";
import { EntryError } from "../../../src/server/store/entry.ts";
import { makeBatch } from "./batches.ts";

describe("entry peek", () => {
  test("agent_id and data_types match protobufjs's decoding, also with an appended agent_id", () => {
    const dts = [0, 59, -1, 2_147_483_647, 1000, 300];
    const wire = grpc.PackagedData.encode({
      records: dts.map((dt, i) => ({ dataType: dt, timestamp: 1_700_000_000 + i, data: encodePayload({ big: "y".repeat(i * 100) }) })),
      agentId: "inner", hostname: "h", intranetIpv4: ["10.0.0.1"], seq: 2 ** 40,
    }).finish();
    expect(peekDataTypes(wire)).toEqual(dts);
    for (const [id, has] of [["inner", true], ["outer-é", false]] as const) {
      const framed = frameWireEntry({ ...makeBatch({ agentId: id }), receivedAt: 1234.5, wire, wireHasAgentId: has, recordCount: dts.length } as WireBatch);
      const body = framed.subarray(8);
      const full = decodeEntry(body);
      expect(peekEntry(body)).toEqual({ receivedAt: 1234.5, agentId: full.batch.agentId, dataTypes: full.batch.records.map((r) => r.dataType ?? 0) });
      expect(peekEntryAgent(body)).toBe(id);
    }
  });

  test("malformed bytes throw EntryError", () => {
    for (const bad of [[0x0a, 0x05, 0x08], [0x0a, 0x02, 0x08, 0xff], [0x0b], [0x12, 0x7f]]) {
      expect(() => peekDataTypes(new Uint8Array(bad))).toThrow(EntryError);
    }
  });

  test("CRC-32C: the fast one equals the reference at every length and alignment", () => {
    for (let n = 0; n < 300; n += 7) {
      const b = randomBytes(n + 3);
      for (const off of [0, 1, 3]) expect(crc32c(b.subarray(off, off + n))).toBe(reference(b.subarray(off, off + n)));
    }
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283); // the standard check value
  });
});
