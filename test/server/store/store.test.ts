// The embedded event store: durable group commit, query filters, torn-tail recovery after a
// crash, retention by age and by size, the directory lock, bad input.
import { test, expect, describe } from "bun:test";
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync, openSync, writeSync, closeSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { isRoot, tempDir } from "../../harness.ts";
import { openEventStore } from "../../../src/server/store/index.ts";
import { listSegments } from "../../../src/server/store/segment.ts";
import { encodePayload } from "../../../src/common/proto.ts";
import { makeBatch, quietLog as log } from "./batches.ts";

const DAY = 86_400_000;

describe("event store", () => {
  test("concurrent writes share fdatasyncs and read back in order", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    const writes = Array.from({ length: 200 }, (_, i) => store.write(makeBatch({ seq: i + 1, n: 5, first: i * 5 })));
    await Promise.all(writes);
    const st = store.stats();
    expect(st.batchesWritten).toBe(200);
    expect(st.recordsWritten).toBe(1000);
    expect(st.commits).toBeGreaterThan(0);
    expect(st.commits).toBeLessThan(200); // group commit: far fewer fsyncs than writes
    const evs = await store.query({ limit: 5000 });
    expect(evs.length).toBe(1000);
    expect(evs.map((e) => Number(e.fields.n))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(evs[0]).toMatchObject({ agent_id: "agent-1", hostname: "host-1", data_type: 59, timestamp: 1_700_000_000 * 1e9 });
    await store.close();
  });

  test("query filters: agent, data type, time, limit; ts_ns wins over seconds", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    const t0 = Date.now();
    await store.write(makeBatch({ agentId: "a", n: 2, receivedAt: t0 - 60_000 }));
    await store.write(makeBatch({ agentId: "b", n: 3, dataType: 42, receivedAt: t0 }));
    await store.write(makeBatch({ agentId: "a", n: 1, dataType: 1000, receivedAt: t0, fields: { ts_ns: "1700000000123456789" } }));
    expect((await store.query({ agentId: "a" })).length).toBe(3);
    expect((await store.query({ agentId: "b" })).every((e) => e.data_type === 42)).toBe(true);
    expect((await store.query({ dataType: 42 })).length).toBe(3);
    expect((await store.query({ sinceMs: t0 - 1000 })).length).toBe(4);
    expect((await store.query({ untilMs: t0 - 1000 })).length).toBe(2);
    expect((await store.query({ limit: 2 })).length).toBe(2);
    expect((await store.query({ agentId: "nobody" })).length).toBe(0);
    const hb = await store.query({ dataType: 1000 });
    expect(hb[0].timestamp).toBe(Number(1700000000123456789n));
    await store.close();
  });

  test("a torn tail after a crash is truncated on open; good entries survive and writing resumes", async () => {
    using d = tempDir();
    let store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    for (let i = 0; i < 5; i++) await store.write(makeBatch({ seq: i + 1, n: 2, first: i * 2 }));
    await store.close();
    const [seg] = listSegments(d.path).slice(-1);
    const p = join(d.path, seg.file);
    const full = statSync(p).size;
    // a crash in the middle of the last entry
    truncateSync(p, full - 7);
    // and some garbage after it, as a torn page would leave
    appendFileSync(p, Buffer.from([1, 2, 3]));
    store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    expect(store.stats().tornBytesTruncated).toBeGreaterThan(0);
    expect(statSync(p).size).toBeLessThan(full - 7);
    await store.write(makeBatch({ seq: 6, n: 2, first: 100 }));
    const ns = (await store.query({})).map((e) => Number(e.fields.n));
    expect(ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 101]);
    await store.close();
  });

  test("a corrupted byte inside the last entry (CRC mismatch) is detected", async () => {
    using d = tempDir();
    let store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    await store.write(makeBatch({ n: 1, first: 0 }));
    await store.write(makeBatch({ n: 1, first: 1 }));
    await store.close();
    const seg = listSegments(d.path)[0];
    const p = join(d.path, seg.file);
    const fd = openSync(p, "r+");
    writeSync(fd, Buffer.from([0xee]), 0, 1, statSync(p).size - 3);
    closeSync(fd);
    store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    expect((await store.query({})).map((e) => e.fields.n)).toEqual(["0"]);
    await store.close();
  });

  test("a segment torn at creation (no header) is removed", async () => {
    using d = tempDir();
    writeFileSync(join(d.path, "0000000001-1000.seg"), Buffer.from("VGL"));
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    expect(store.stats().tornBytesTruncated).toBe(3);
    await store.write(makeBatch({}));
    expect((await store.query({})).length).toBe(3);
    await store.close();
  });

  test("retention by size removes the oldest segments, never the active one", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 256 * 1024, segmentBytes: 32 * 1024, log });
    const big = "x".repeat(1000);
    for (let i = 0; i < 400; i++) await store.write(makeBatch({ seq: i + 1, n: 1, first: i, fields: { pad: big } }));
    store.enforceRetention();
    const st = store.stats();
    expect(st.segmentsDeletedSize).toBeGreaterThan(0);
    const total = listSegments(d.path).reduce((a, s) => a + statSync(join(d.path, s.file)).size, 0);
    expect(total).toBeLessThanOrEqual(256 * 1024 + 32 * 1024);
    const ns = (await store.query({})).map((e) => Number(e.fields.n));
    expect(ns.at(-1)).toBe(399); // the newest are kept
    expect(ns[0]).toBeGreaterThan(0); // the oldest are gone
    await store.close();
  });

  test("retention by age removes segments whose records are all older than retentionMs", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: 60_000, maxBytes: 1 << 30, segmentBytes: 200, log });
    for (let i = 0; i < 10; i++) await store.write(makeBatch({ seq: i + 1, n: 3, first: i * 3 }));
    const before = listSegments(d.path).length;
    expect(before).toBeGreaterThan(2);
    store.enforceRetention(Date.now() + 10 * 60_000); // ten minutes later
    expect(store.stats().segmentsDeletedAge).toBe(before - 1);
    expect(listSegments(d.path).length).toBe(1);
    await store.close();
  });

  test("a second writer on the same directory is refused; a stale lock is taken over", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    await expect(openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log })).rejects.toThrow(/in use by process/);
    await store.close();
    writeFileSync(join(d.path, "LOCK"), "999999999\n"); // no such process
    const again = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    await again.close();
  });

  test("bad options and writes after close are refused with clear errors", async () => {
    using d = tempDir();
    await expect(openEventStore({ dir: d.path, retentionMs: 0, maxBytes: 1, log })).rejects.toThrow(/retention/);
    await expect(openEventStore({ dir: d.path, retentionMs: 1, maxBytes: 0, log })).rejects.toThrow(/max size/);
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    await store.close();
    await expect(store.write(makeBatch({}))).rejects.toThrow(/closed/);
    expect(store.stats().writesRefused).toBe(1);
  });

  test("records whose payload is not protobuf are skipped and counted at query time", async () => {
    using d = tempDir();
    const store = await openEventStore({ dir: d.path, retentionMs: DAY, maxBytes: 1 << 30, log });
    const b = makeBatch({ n: 1 });
    b.records.push({ dataType: 59, timestamp: 1, data: new Uint8Array([0xff, 0xff, 0xff]) });
    b.records.push({ dataType: 59, timestamp: 2, data: encodePayload({ n: "ok" }) });
    await store.write(b);
    expect((await store.query({})).map((e) => e.fields.n)).toEqual(["0", "ok"]);
    expect(store.stats().queryCorrupt).toBe(1);
    await store.close();
    expect(readdirSync(d.path)).not.toContain("LOCK");
  });

  test.skipIf(!isRoot)("a full disk (tiny tmpfs): the write is refused with ENOSPC, acked batches stay whole, writes resume once there is room", async () => {
    using d = tempDir();
    const mnt = join(d.path, "tiny");
    mkdirSync(mnt);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]).exitCode).toBe(0);
    try {
      const dir = join(mnt, "events");
      const store = await openEventStore({ dir, retentionMs: DAY, maxBytes: 1 << 30, segmentBytes: 64 << 20, log });
      const pad = "p".repeat(2000);
      let acked = 0;
      let refusal: Error | undefined;
      for (let i = 0; i < 200 && !refusal; i++) {
        try {
          await store.write(makeBatch({ seq: i + 1, n: 10, first: i * 10, fields: { pad } })); // ~20 KB
          acked = i + 1;
        } catch (e) {
          refusal = e as Error;
        }
      }
      expect(refusal?.message).toMatch(/^event store write failed: .*ENOSPC/);
      expect(acked).toBeGreaterThan(3);
      expect(store.stats().writeErrors).toBe(1);
      const ns = async () => (await store.query({ limit: 100_000 })).map((e) => Number(e.fields.n));
      expect(await ns()).toEqual(Array.from({ length: acked * 10 }, (_, i) => i)); // every acked record, nothing of the refused one
      expect(store.stats().queryCorrupt).toBe(0);
      // room again: the refused batch (the agent replays it) and a new one are stored after the others
      expect(Bun.spawnSync(["mount", "-o", "remount,size=8m", mnt]).exitCode).toBe(0);
      await store.write(makeBatch({ seq: acked + 1, n: 10, first: acked * 10, fields: { pad } }));
      await store.write(makeBatch({ seq: acked + 2, n: 10, first: acked * 10 + 10, fields: { pad } }));
      expect(await ns()).toEqual(Array.from({ length: (acked + 2) * 10 }, (_, i) => i));
      await store.close();
      // and a restart finds exactly the same, no torn tail to cut
      const again = await openEventStore({ dir, retentionMs: DAY, maxBytes: 1 << 30, log });
      expect((await again.query({ limit: 100_000 })).length).toBe((acked + 2) * 10);
      expect(again.stats().tornBytesTruncated).toBe(0);
      await again.close();
    } finally {
      Bun.spawnSync(["umount", "-l", mnt]);
    }
  });
});
