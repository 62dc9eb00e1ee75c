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

  test("a reader idle for a while still delivers; stop ends even a long idle poll at once", async () => {
    const seen: bigint[] = [];
    const decoder = new Decoder({ bootToUnixNs: 0n });
    const collect = (idlePollMs?: number) => new Collector({
      events: [BY_NAME.get("canary")!], ringSize: 1 << 20, agentTgid: process.pid, idlePollMs,
      onBatch: (buf) => decoder.forEach(buf, (rec, spec) => { seen.push(BigInt(decoder.fields(rec, spec).seq)); }),
    });
    const a = collect();
    a.start();
    try {
      await Bun.sleep(1500); // quiet: the reader now polls with its idle timeout
      libc().lseek(-1, 0x1d1en, CANARY_WHENCE);
      expect(await waitFor(() => seen.length === 1)).toBe(true);
      expect(seen).toEqual([0x1d1en]);
    } finally {
      await a.stop();
    }
    expect(a.readerStats).toEqual({ records: 1, batches: 1 });
    // An idle poll of a minute: only the stop eventfd can end it before stop()'s 3 s fallback.
    const b = collect(60_000);
    b.start();
    try {
      await Bun.sleep(1500);
    } finally {
      await b.stop();
    }
    expect(b.readerStats).toEqual({ records: 0, batches: 0 });
  });

  test("a record's header size is the aligned record size", () => {
    expect(HDR.SIZE % 8).toBe(0);
  });
});
