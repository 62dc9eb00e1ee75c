// The canary proves kernel → ring → reader Worker → decoder end to end with exact counts.
import { test, expect, describe } from "bun:test";
import { readFileSync } from "node:fs";
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

  test("records wake a sleeping reader only once an eighth of the ring is waiting", async () => {
    // With an idle poll of a minute, only a kernel wakeup (or stop) ends the reader's sleep:
    // a few records must not wake it (a wakeup per record costs the producer an IPI), a
    // burst that fills an eighth of the ring (128 KiB of 1 MiB) must, well before the minute.
    const seen: bigint[] = [];
    const decoder = new Decoder({ bootToUnixNs: 0n });
    const c = new Collector({
      events: [BY_NAME.get("canary")!], ringSize: 1 << 20, agentTgid: process.pid, idlePollMs: 60_000,
      onBatch: (buf) => decoder.forEach(buf, (rec, spec) => { seen.push(BigInt(decoder.fields(rec, spec).seq)); }),
    });
    c.start();
    try {
      await Bun.sleep(1500); // quiet: the reader now sleeps in its 60 s poll
      for (let i = 0n; i < 10n; i++) libc().lseek(-1, 0x7a00n + i, CANARY_WHENCE);
      await Bun.sleep(1500);
      expect(seen.length).toBe(0);
      // 2,000 more canary records of 168 ring bytes each: 336 KB, past the 128 KiB boundary
      for (let i = 10n; i < 2010n; i++) libc().lseek(-1, 0x7a00n + i, CANARY_WHENCE);
      expect(await waitFor(() => seen.length >= 2010, 20_000)).toBe(true);
      expect(seen).toEqual(Array.from({ length: 2010 }, (_, i) => 0x7a00n + BigInt(i)));
      expect(c.drops().size).toBe(0);
    } finally {
      await c.stop();
    }
  });

  test("a trickle is taken in batches a quarter of a second apart, none lost", async () => {
    // 20 events/s for 2 s: every wakeup of the reader costs ~0.3 ms of CPU, so a trickle must
    // not be taken record by record (40 batches) nor every 100 ms (~20), but every 250 ms.
    const seen: bigint[] = [];
    const decoder = new Decoder({ bootToUnixNs: 0n });
    const c = new Collector({
      events: [BY_NAME.get("canary")!], ringSize: 1 << 20, agentTgid: process.pid,
      onBatch: (buf) => decoder.forEach(buf, (rec, spec) => { seen.push(BigInt(decoder.fields(rec, spec).seq)); }),
    });
    c.start();
    try {
      await Bun.sleep(300);
      for (let i = 0n; i < 40n; i++) {
        libc().lseek(-1, 0x7c00n + i, CANARY_WHENCE);
        await Bun.sleep(50);
      }
      expect(await waitFor(() => seen.length >= 40)).toBe(true);
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => 0x7c00n + BigInt(i)));
    } finally {
      await c.stop();
    }
    const stats = c.readerStats!;
    expect(stats.records).toBe(40);
    expect(stats.batches).toBeGreaterThanOrEqual(2);
    expect(stats.batches).toBeLessThanOrEqual(13); // ~2.3 s / 250 ms, plus the first and last
  });

  // IRQ work interrupts so far, summed over CPUs (null where the kernel does not count them).
  const irqWork = (): number | null => {
    const line = readFileSync("/proc/interrupts", "utf8").split("\n").find((l) => l.trimStart().startsWith("IWI:"));
    if (!line) return null;
    return line.trim().split(/\s+/).slice(1).filter((x) => /^\d+$/.test(x)).reduce((a, x) => a + Number(x), 0);
  };

  test("a reader that falls behind is woken once per eighth of the ring, not once per record", async () => {
    // Each wakeup is an irq_work self-IPI on the producing CPU. 8,000 records written while
    // this thread is too busy to take batches (so the reader soon runs out of credits) leave
    // well over an eighth of the 4 MiB ring waiting; a wakeup per record past that point is
    // hundreds of IRQ work interrupts, one per eighth a handful.
    const before = irqWork();
    if (before === null) return; // no IWI line: nothing to count on this kernel
    let n = 0;
    const decoder = new Decoder({ bootToUnixNs: 0n });
    const c = new Collector({
      events: [BY_NAME.get("canary")!], ringSize: 4 << 20, agentTgid: process.pid,
      onBatch: (buf) => decoder.forEach(buf, () => { n++; }),
    });
    c.start();
    try {
      await Bun.sleep(300);
      const i0 = irqWork()!;
      for (let i = 0n; i < 8000n; i++) libc().lseek(-1, i, CANARY_WHENCE);
      const i1 = irqWork()!;
      expect(await waitFor(() => n >= 8000)).toBe(true);
      expect(n).toBe(8000);
      expect(c.drops().size).toBe(0);
      // other sources included; measured here: 1 (a wakeup per record while behind: 658)
      expect(i1 - i0).toBeLessThan(100);
    } finally {
      await c.stop();
    }
  });

  test("a record's header size is the aligned record size", () => {
    expect(HDR.SIZE % 8).toBe(0);
  });
});
