// The canary proves kernel → ring → reader Worker → decoder end to end with exact counts.
import { test, expect, describe } from "bun:test";
import { ptr } from "bun:ffi";
import { canLoadBpf, waitFor } from "../harness.ts";
import { Collector } from "../../src/agent/collector/index.ts";
import { Decoder } from "../../src/agent/collector/decode.ts";
import { BY_NAME } from "../../src/agent/collector/catalog.ts";
import { libc, bootToUnixOffsetNs } from "../../src/agent/collector/libbpf.ts";
import { CANARY_WHENCE, HDR } from "../../src/agent/collector/layouts.ts";

describe.skipIf(!canLoadBpf)("canary", () => {
  test("every canary call arrives once, in order, with the caller's identity", async () => {
    const decoder = new Decoder({ bootToUnixNs: bootToUnixOffsetNs() });
    const seqs: bigint[] = [];
    let pid = 0, comm = "", ts = 0n;
    const c = new Collector({
      events: [BY_NAME.get("canary")!], ringSize: 1 << 20, agentTgid: process.pid,
      onBatch: (buf) => decoder.forEach(buf, (rec, spec) => {
        const f = decoder.fields(rec, spec);
        seqs.push(BigInt(f.seq));
        pid = Number(f.tgid); comm = f.comm; ts = decoder.timestamp(rec);
      }),
    });
    c.start();
    try {
      const before = BigInt(Date.now()) * 1_000_000n;
      const base = 0x5eed_0000_0000n;
      for (let i = 0n; i < 1000n; i++) libc().lseek(-1, base + i, CANARY_WHENCE);
      // an lseek that is not the canary must not fire it
      libc().lseek(-1, base, 0);
      expect(await waitFor(() => seqs.length >= 1000)).toBe(true);
      await Bun.sleep(100);
      expect(seqs.length).toBe(1000);
      expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => base + BigInt(i)));
      expect(pid).toBe(process.pid);
      expect(comm.length).toBeGreaterThan(0);
      const after = BigInt(Date.now()) * 1_000_000n;
      expect(ts >= before - 5_000_000_000n && ts <= after + 5_000_000_000n).toBe(true);
      expect(c.drops().size).toBe(0);
      expect(decoder.stats.malformed).toBe(0);
    } finally {
      await c.stop();
    }
  });

  test("a record's header size is the aligned record size", () => {
    expect(HDR.SIZE % 8).toBe(0);
  });
});
