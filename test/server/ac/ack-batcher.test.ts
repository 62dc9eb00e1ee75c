// The AC's ack coalescing: the newest durable seq of each stream goes out once per interval,
// streams spread over the interval's ticks, flush() before a stream ends, drop() after.
import { test, expect, describe } from "bun:test";
import { AckBatcher, SLOTS, type AckTarget } from "../../../src/server/ac/ack-batcher.ts";

const target = () => {
  const sent: number[] = [];
  return { sent, sendAck: (seq: number) => void sent.push(seq) } satisfies AckTarget & { sent: number[] };
};

describe("ack batcher", () => {
  test("one ack per stream per interval, the newest seq, spread over the ticks", () => {
    const b = new AckBatcher(1e9); // the timer never fires here: the test steps it
    const ts = Array.from({ length: 100 }, target);
    for (const t of ts) for (let seq = 1; seq <= 5; seq++) b.durable(t, seq);
    const perTick: number[] = [];
    for (let i = 0; i < SLOTS; i++) {
      const before = ts.reduce((n, t) => n + t.sent.length, 0);
      b.step();
      perTick.push(ts.reduce((n, t) => n + t.sent.length, 0) - before);
    }
    for (const t of ts) expect(t.sent).toEqual([5]);
    expect(Math.max(...perTick)).toBe(Math.ceil(100 / SLOTS)); // no tick carries them all
    // nothing new is durable: another interval sends nothing
    for (let i = 0; i < SLOTS; i++) b.step();
    for (const t of ts) expect(t.sent).toEqual([5]);
    b.stop();
  });

  test("flush sends a stream's pending ack at once; drop forgets it; stop flushes the rest", () => {
    const b = new AckBatcher(1e9);
    const [a, c, d] = [target(), target(), target()];
    b.durable(a, 7);
    b.durable(c, 3);
    b.durable(d, 9);
    b.flush(a);
    expect(a.sent).toEqual([7]);
    b.flush(a); // nothing pending any more
    expect(a.sent).toEqual([7]);
    b.drop(c);
    b.stop();
    expect(c.sent).toEqual([]);
    expect(d.sent).toEqual([9]);
  });

  test("interval 0 acks every batch as it becomes durable", () => {
    const b = new AckBatcher(0);
    const t = target();
    b.durable(t, 1);
    b.durable(t, 2);
    expect(t.sent).toEqual([1, 2]);
    b.stop();
  });

  test("with the real timer every pending ack goes out within about one interval", async () => {
    const b = new AckBatcher(100);
    const ts = Array.from({ length: 50 }, target);
    ts.forEach((t, i) => b.durable(t, i + 1));
    const deadline = Date.now() + 10_000;
    while (ts.some((t) => t.sent.length === 0) && Date.now() < deadline) await Bun.sleep(20);
    ts.forEach((t, i) => expect(t.sent).toEqual([i + 1]));
    b.stop();
  });
});
