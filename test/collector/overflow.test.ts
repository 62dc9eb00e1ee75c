// Overflow: with a tiny ring and a storm, every event is either delivered intact or counted as
// a drop, per type, and the two add up to exactly what was triggered.
import { test, expect, describe } from "bun:test";
import { canLoadBpf, collect, fixture, run } from "../harness.ts";
type Ran = Awaited<ReturnType<typeof run>>;

describe.skipIf(!canLoadBpf)("ring overflow", () => {
  test("delivered + dropped == triggered, and nothing delivered is corrupt", async () => {
    const storm = fixture("canary-storm");
    const c = collect(["canary"], { ringSize: 4096 });
    const N = 200_000;
    const base = 0x7000_0000n;
    let r!: Ran;
    try {
      r = await run([storm, String(N), `0x${base.toString(16)}`]);
      expect(r.code).toBe(0);
      await Bun.sleep(300);
    } finally {
      await c.stop();
    }
    const mine = c.events.filter((e) => e.fields.tgid === String(r.pid));
    const drops = c.collector.drops().get(999) ?? 0;
    // The storm outruns a 4 KiB ring: some events must have been dropped and counted.
    expect(drops).toBeGreaterThan(0);
    expect(mine.length + drops).toBe(N);
    // Every delivered event is a distinct, in-range sequence number, in increasing order.
    let prev = -1n;
    for (const e of mine) {
      const seq = BigInt(e.fields.seq) - base;
      expect(seq >= 0n && seq < BigInt(N)).toBe(true);
      expect(seq > prev).toBe(true);
      prev = seq;
      expect(e.fields.comm).toBe("canary-storm");
    }
    expect(c.decoder.stats.malformed).toBe(0);
    expect(c.decoder.stats.unknownType).toBe(0);
  });

  test("a roomy ring loses nothing under the same storm", async () => {
    const storm = fixture("canary-storm");
    const c = collect(["canary"], { ringSize: 64 << 20 });
    const N = 100_000;
    let r!: Ran;
    try {
      r = await run([storm, String(N), "0x100"]);
      await Bun.sleep(300);
    } finally {
      await c.stop();
    }
    const mine = c.events.filter((e) => e.fields.tgid === String(r.pid));
    expect(c.collector.drops().get(999) ?? 0).toBe(0);
    expect(mine.length).toBe(N);
  });
});
