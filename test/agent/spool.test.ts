// The agent's on-disk spool: order, removal on ack, replay after a restart, torn tails, the
// size limit (oldest dropped and counted) and a full disk (a tiny tmpfs): never a crash.
import { describe, expect, test } from "bun:test";
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Spool, FRAME_HEADER, spoolDiskBytes } from "../../src/agent/daemon/spool.ts";
import { isRoot, tempDir } from "../harness.ts";

const payload = (seq: number, size = 100) => {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, seq, true);
  for (let i = 4; i < size; i++) b[i] = (seq * 31 + i) & 255;
  return b;
};
const seqOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

function fill(s: Spool, n: number, size = 100): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = s.allocSeq();
    s.append(seq, payload(seq, size), 3);
    seqs.push(seq);
  }
  return seqs;
}

describe("spool", () => {
  test("keeps batches in order and forgets them once acknowledged", () => {
    using d = tempDir();
    const s = Spool.open({ dir: d.path, maxBytes: 64 << 20, segmentBytes: 1024 });
    const seqs = fill(s, 20);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(s.after(0, 100).map((e) => e.seq)).toEqual(seqs);
    expect(s.after(7, 3).map((e) => e.seq)).toEqual([8, 9, 10]);
    for (const e of s.after(0, 100)) expect(seqOf(s.payload(e)!)).toBe(e.seq);
    const segsBefore = readdirSync(d.path).filter((f) => f.endsWith(".seg")).length;
    expect(segsBefore).toBeGreaterThan(2);
    s.ack(12);
    expect(s.depth).toBe(8);
    expect(s.after(0, 100)[0].seq).toBe(13);
    expect(readdirSync(d.path).filter((f) => f.endsWith(".seg")).length).toBeLessThan(segsBefore);
    s.ack(5); // an older ack changes nothing
    expect(s.depth).toBe(8);
    s.ack(20);
    expect(s.depth).toBe(0);
    expect(spoolDiskBytes(d.path)).toBe(0);
    s.close();
  });

  test("replays unacknowledged batches after a restart, and seq keeps increasing", () => {
    using d = tempDir();
    const a = Spool.open({ dir: d.path, maxBytes: 64 << 20, segmentBytes: 2048 });
    fill(a, 30, 200);
    a.ack(10);
    a.close();
    const b = Spool.open({ dir: d.path, maxBytes: 64 << 20, segmentBytes: 2048 });
    expect(b.depth).toBe(20);
    const entries = b.after(0, 100);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    for (const e of entries) {
      const p = b.payload(e)!;
      expect(p).toEqual(payload(e.seq, 200));
      expect(e.records).toBe(3);
    }
    expect(b.allocSeq()).toBe(31);
    b.ack(30);
    b.close();
    // everything acknowledged and the segments gone: seq still does not restart
    const c = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    expect(c.depth).toBe(0);
    expect(c.allocSeq()).toBeGreaterThan(31);
    c.close();
  });

  test("a crash (no close) loses nothing and never reuses a seq", () => {
    using d = tempDir();
    const a = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    const seqs = fill(a, 5);
    // no a.close(): the process died
    const b = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    expect(b.after(0, 100).map((e) => e.seq)).toEqual(seqs);
    expect(b.allocSeq()).toBeGreaterThan(5);
    b.close();
  });

  test("a torn or corrupt tail is cut off; what was whole is kept", () => {
    using d = tempDir();
    const a = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    fill(a, 5);
    a.close();
    const seg = join(d.path, readdirSync(d.path).find((f) => f.endsWith(".seg"))!);
    const frame = FRAME_HEADER + 100;
    expect(statSync(seg).size).toBe(5 * frame);
    truncateSync(seg, 4 * frame + 30); // the last frame half-written
    const b = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    expect(b.after(0, 100).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(b.stats().tornTails).toBe(1);
    expect(b.stats().tornBytes).toBe(30);
    expect(statSync(seg).size).toBe(4 * frame);
    const next = b.allocSeq();
    b.append(next, payload(next), 1);
    b.close();

    // a flipped byte inside frame 3: frames 1-2 survive, the rest of that segment is cut
    const bytes = readFileSync(seg);
    bytes[2 * frame + FRAME_HEADER + 10] ^= 0xff;
    writeFileSync(seg, bytes);
    appendFileSync(seg, Buffer.from("garbage that is not a frame"));
    const c = Spool.open({ dir: d.path, maxBytes: 64 << 20 });
    const seqs = c.after(0, 100).map((e) => e.seq);
    expect(seqs.slice(0, 2)).toEqual([1, 2]);
    expect(seqs).not.toContain(3);
    expect(seqs).toContain(next); // it went to its own segment
    expect(c.stats().tornTails).toBe(1);
    c.close();
  });

  test("over the size limit the oldest batches are dropped and counted", () => {
    using d = tempDir();
    const s = Spool.open({ dir: d.path, maxBytes: 256 << 10, segmentBytes: 32 << 10 });
    fill(s, 200, 4000); // ~800 KB offered to a 256 KiB spool
    const st = s.stats();
    expect(st.droppedBatches).toBeGreaterThan(0);
    expect(st.droppedRecords).toBe(st.droppedBatches * 3);
    expect(st.droppedBatches + st.depth).toBe(200);
    expect(spoolDiskBytes(d.path)).toBeLessThanOrEqual(256 << 10);
    // what is left is the newest batches, contiguous, ending at the last one
    const seqs = s.after(0, 1000).map((e) => e.seq);
    expect(seqs[seqs.length - 1]).toBe(200);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 200 - seqs.length + 1 + i));
    for (const e of s.after(0, 1000)) expect(seqOf(s.payload(e)!)).toBe(e.seq);
    s.close();
  });

  test.skipIf(!isRoot)("a full disk (tiny tmpfs) is counted, batches stay in memory and can still be sent", async () => {
    using d = tempDir();
    const mnt = join(d.path, "tiny");
    Bun.spawnSync(["mkdir", "-p", mnt]);
    const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], { stderr: "pipe" });
    expect(m.exitCode).toBe(0);
    try {
      const s = Spool.open({ dir: join(mnt, "spool"), maxBytes: 16 << 20, segmentBytes: 1 << 20, memoryBytes: 200_000 });
      const seqs = fill(s, 30, 5000); // 150 KB into 64 KiB: the disk fills after about 12
      const st = s.stats();
      expect(st.writeErrors).toBeGreaterThan(0);
      expect(st.diskFailed).toBe(true);
      expect(st.lastError).toContain("spool write failed");
      expect(st.memoryOnlyBatches).toBeGreaterThan(0);
      expect(st.droppedBatches).toBe(0);
      expect(s.after(0, 100).map((e) => e.seq)).toEqual(seqs); // nothing lost, still in order
      for (const e of s.after(0, 100)) expect(seqOf(s.payload(e)!)).toBe(e.seq);
      // more than the memory bound: the oldest memory-only batches are dropped, counted
      fill(s, 40, 5000);
      const st2 = s.stats();
      expect(st2.droppedBatches).toBeGreaterThan(0);
      expect(st2.droppedBatches + st2.depth).toBe(70);
      s.ack(70);
      expect(s.depth).toBe(0);
      s.close(); // the state file may not fit either: counted, no throw
      // after a restart the disk-backed batches that were acked are gone
      const again = Spool.open({ dir: join(mnt, "spool"), maxBytes: 16 << 20 });
      expect(again.after(0, 100).every((e) => e.seq > 0)).toBe(true);
      again.close();
    } finally {
      Bun.spawnSync(["umount", "-l", mnt]);
    }
  });
});
