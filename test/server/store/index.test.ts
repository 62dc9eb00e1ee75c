// The event store's per-segment index: queries through it return exactly what a full scan does
// (same filters, order, limits), in the writer and in a reader; index files are written when a
// segment is sealed, rebuilt when missing, torn, corrupt or stale, and removed with their segment.
import { test, expect, describe } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../harness.ts";
import { openEventStore, type EventQuery, type EventStore, type StoredEvent } from "../../../src/server/store/index.ts";
import { scanEvents } from "../../../src/server/store/query.ts";
import { listSegments } from "../../../src/server/store/segment.ts";
import { indexFileName } from "../../../src/server/store/index-files.ts";
import { encodePayload, grpc } from "../../../src/common/proto.ts";
import type { WireBatch } from "../../../src/server/store/entry.ts";
import { makeBatch, quietLog as log } from "./batches.ts";

const DAY = 86_400_000;
const T0 = 1_750_000_000_000;
const AGENTS = ["a", "b", "c", "d"];
const TYPES = [59, 42, 1000];

const open = (dir: string, extra: object = {}) => openEventStore({ dir, retentionMs: 1000 * DAY, maxBytes: 1 << 30, segmentBytes: 4096, log, ...extra });

/** 120 batches over 4 agents, mixed data types, receive times 1 s apart: many small segments. */
async function fill(store: EventStore, from = 0, count = 120): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const b = makeBatch({ agentId: AGENTS[i % 4], seq: i, n: 3, first: i * 3, receivedAt: T0 + i * 1000 });
    b.records.forEach((r, k) => (r.dataType = TYPES[(i + k) % (i % 3 === 0 ? 1 : 3)]));
    await store.write(b);
  }
}

const QUERIES: EventQuery[] = [
  {}, { agentId: "a" }, { agentId: "b", dataType: 42 }, { dataType: 1000 }, { agentId: "nobody" }, { dataType: 7 },
  { agentId: "c", sinceMs: T0 + 50_000 }, { agentId: "c", untilMs: T0 + 30_000 }, { dataType: 59, sinceMs: T0 + 20_000, untilMs: T0 + 90_000 },
  { agentId: "d", dataType: 59, limit: 5 }, { agentId: "a", limit: 1 }, { limit: 7 }, { sinceMs: T0 + 119_000 }, { agentId: "a", sinceMs: T0 + 10 * DAY },
];

/** What a full scan without any index returns, as the store's query() shapes it. */
function fullScan(dir: string, q: EventQuery): string[] {
  const out: string[] = [];
  scanEvents(dir, { ...q, limit: q.limit ?? 10_000 }, (e) => void out.push(`${e.agentId}/${e.dataType}/${e.fields.n}/${e.serverTime}`), { index: false });
  return out;
}
const keys = (evs: StoredEvent[]) => evs.map((e) => `${e.agent_id}/${e.data_type}/${e.fields.n}/${e.server_time}`);
function readerScan(dir: string, q: EventQuery): { got: string[]; entries: number; corrupt: number } {
  const got: string[] = [];
  const st = scanEvents(dir, { ...q, limit: q.limit ?? 10_000 }, (e) => void got.push(`${e.agentId}/${e.dataType}/${e.fields.n}/${e.serverTime}`));
  return { got, entries: st.entries, corrupt: st.corrupt };
}
const idxFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".idx")).sort();

describe("event store index", () => {
  test("writer and reader queries through the index equal a full scan (filters, order, limits)", async () => {
    using d = tempDir();
    const store = await open(d.path);
    await fill(store);
    expect(listSegments(d.path).length).toBeGreaterThan(5);
    for (const q of QUERIES) {
      const want = fullScan(d.path, q);
      expect(keys(await store.query(q))).toEqual(want);
      expect(readerScan(d.path, q).got).toEqual(want); // sealed by index file, active in order
    }
    expect(fullScan(d.path, { agentId: "b", dataType: 42 }).length).toBeGreaterThan(0);
    await store.close();
  });

  test("sealed segments get index files; a reader then reads only the entries they list", async () => {
    using d = tempDir();
    const store = await open(d.path);
    await fill(store);
    const segs = listSegments(d.path);
    expect(idxFiles(d.path)).toEqual(segs.slice(0, -1).map(indexFileName)); // all but the active one
    await store.close();
    expect(idxFiles(d.path)).toEqual(segs.map(indexFileName)); // close seals the last one
    const all = readerScan(d.path, {});
    expect(all.entries).toBe(120);
    const one = readerScan(d.path, { agentId: "b", dataType: 42 });
    expect(one.got).toEqual(fullScan(d.path, { agentId: "b", dataType: 42 }));
    expect(one.entries).toBeLessThanOrEqual(30); // agent b wrote 30 batches
    const recent = readerScan(d.path, { agentId: "b", sinceMs: T0 + 100_000 });
    expect(recent.entries).toBeLessThanOrEqual(5);
    expect(recent.got).toEqual(fullScan(d.path, { agentId: "b", sinceMs: T0 + 100_000 }));
  });

  test("missing, torn, corrupt and orphaned index files: rebuilt or removed on open, same answers", async () => {
    using d = tempDir();
    let store = await open(d.path);
    await fill(store);
    await store.close();
    const files = idxFiles(d.path);
    const [missing, torn, corrupt] = files;
    unlinkSync(join(d.path, missing));
    truncateSync(join(d.path, torn), statSync(join(d.path, torn)).size - 5);
    writeFileSync(join(d.path, "0000009999-1.idx"), "orphan");
    writeFileSync(join(d.path, `${files[3]}.tmp`), "left by a crash");
    // one flipped byte inside: whole by length, wrong by CRC (found when a query loads it)
    const b = readFileSync(join(d.path, corrupt));
    b[b.length - 3] ^= 0xff;
    writeFileSync(join(d.path, corrupt), b);
    // a reader meanwhile ignores the bad ones and reads those segments in order
    for (const q of QUERIES) expect(readerScan(d.path, q).got).toEqual(fullScan(d.path, q));
    store = await open(d.path);
    expect(store.stats().indexesRebuilt).toBe(2); // missing + torn, at open
    expect(existsSync(join(d.path, "0000009999-1.idx"))).toBe(false);
    expect(existsSync(join(d.path, `${files[3]}.tmp`))).toBe(false);
    for (const q of QUERIES) expect(keys(await store.query(q))).toEqual(fullScan(d.path, q));
    expect(store.stats().indexesRebuilt).toBe(3); // + the corrupt one, when first loaded
    expect(idxFiles(d.path)).toEqual(files);
    await store.close();
    for (const q of QUERIES) expect(readerScan(d.path, q)).toMatchObject({ got: fullScan(d.path, q), corrupt: 0 });
  });

  test("an index made stale by a torn tail cut on open is rebuilt", async () => {
    using d = tempDir();
    let store = await open(d.path, { segmentBytes: 1 << 20 });
    await fill(store, 0, 10);
    await store.close(); // the one segment is sealed with an index of its full length
    const [seg] = listSegments(d.path);
    const p = join(d.path, seg.file);
    truncateSync(p, statSync(p).size - 7); // as if the last write had been torn (the index is stale now)
    appendFileSync(p, Buffer.from([9, 9]));
    expect(readerScan(d.path, { agentId: "a" }).got).toEqual(fullScan(d.path, { agentId: "a" }));
    store = await open(d.path, { segmentBytes: 1 << 20 });
    expect(store.stats().tornBytesTruncated).toBeGreaterThan(0);
    expect(store.stats().indexesRebuilt).toBe(1);
    const ns = keys(await store.query({})).map((k) => Number(k.split("/")[2]));
    expect(ns).toEqual(Array.from({ length: 27 }, (_, i) => i)); // the tenth batch was cut
    await store.close();
  });

  test("retention removes a segment's index file with it", async () => {
    using d = tempDir();
    const store = await open(d.path, { retentionMs: 60_000, segmentBytes: 200 });
    await fill(store, 0, 10);
    expect(idxFiles(d.path).length).toBeGreaterThan(2);
    store.enforceRetention(Date.now() + 10 * 60_000);
    expect(listSegments(d.path).length).toBe(1);
    expect(idxFiles(d.path)).toEqual([]); // the survivor is the active segment (no index file yet)
    await store.close();
  });

  test("AC wire batches are indexed without decoding their records; given dataTypes are used", async () => {
    using d = tempDir();
    const store = await open(d.path);
    const wireOf = (dts: number[], agentId?: string) => grpc.PackagedData.encode({ records: dts.map((dt, i) => ({ dataType: dt, timestamp: 1_700_000_000, data: encodePayload({ n: String(i), pad: "x".repeat(200) }) })), agentId, hostname: "h", seq: 1 }).finish();
    const wireBatch = (agentId: string, wire: Uint8Array, hasId: boolean, extra: object = {}): WireBatch => ({
      ...makeBatch({ agentId }), wire, wireHasAgentId: hasId, recordCount: 3, ...extra,
      get records(): never { throw new Error("records decoded at ingest"); },
    });
    for (let i = 0; i < 20; i++) {
      await store.write(wireBatch("w1", wireOf([59, -5, 2_000_000]), false));
      await store.write(wireBatch("w2", wireOf([42, 42, 0], "w2"), true, { dataTypes: new Int32Array([42, 42, 0]) }));
    }
    const count = async (q: EventQuery) => (await store.query(q)).length;
    expect(await count({ agentId: "w1", dataType: -5 })).toBe(20);
    expect(await count({ agentId: "w1", dataType: 2_000_000 })).toBe(20);
    expect(await count({ agentId: "w2", dataType: 42 })).toBe(40);
    expect(await count({ dataType: 0 })).toBe(20);
    expect(await count({ agentId: "w1", dataType: 42 })).toBe(0);
    await store.close();
    // rebuilt from the segment bytes, the index agrees with what ingest built
    for (const f of idxFiles(d.path)) unlinkSync(join(d.path, f));
    const again = await open(d.path);
    expect(again.stats().indexesRebuilt).toBeGreaterThan(0);
    for (const q of [{ agentId: "w1", dataType: -5 }, { agentId: "w2", dataType: 42 }, { dataType: 0 }, { agentId: "w1" }]) {
      expect(keys(await again.query(q))).toEqual(fullScan(d.path, q));
    }
    await again.close();
  });

  test("an entry whose keys cannot be read is read by every query and counted as corrupt", async () => {
    using d = tempDir();
    const store = await open(d.path);
    await store.write(makeBatch({ agentId: "a", n: 2 }));
    const bad: WireBatch = { ...makeBatch({ agentId: "x" }), wire: new Uint8Array([0x0a, 0x7f, 1]), wireHasAgentId: true, recordCount: 1 };
    await store.write(bad);
    await store.write(makeBatch({ agentId: "a", n: 1, first: 5 }));
    expect((await store.query({ agentId: "a" })).map((e) => e.fields.n)).toEqual(["0", "1", "5"]);
    expect(store.stats().queryCorrupt).toBe(1);
    await store.close();
    expect(readerScan(d.path, { agentId: "a" })).toMatchObject({ got: fullScan(d.path, { agentId: "a" }), corrupt: 1 });
  });

  test("a reader sees the writer's sealed segments by index and its active one up to the last complete entry", async () => {
    using d = tempDir();
    const store = await open(d.path);
    await fill(store, 0, 60);
    const active = listSegments(d.path).at(-1)!;
    appendFileSync(join(d.path, active.file), Buffer.from([40, 0, 0, 0, 1, 2])); // a write in progress
    for (const q of QUERIES) expect(readerScan(d.path, q).got).toEqual(fullScan(d.path, q));
    expect(readerScan(d.path, {}).got.length).toBe(180);
    await store.close();
  });

  test("with index: false no index files are kept and answers are the same", async () => {
    using d = tempDir();
    const store = await open(d.path, { index: false });
    await fill(store, 0, 40);
    for (const q of QUERIES) expect(keys(await store.query(q))).toEqual(fullScan(d.path, q));
    await store.close();
    expect(idxFiles(d.path)).toEqual([]);
  });
});
