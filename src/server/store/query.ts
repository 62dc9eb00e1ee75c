// Reads events back from a store directory, oldest first, with filters; used in process by
// EventStore.query and from another process by `vigil-server events query` while the server
// writes (a segment being appended is read up to its last complete entry). Time filters apply
// to the server receive time, which lets whole segments be skipped by their names and their
// index's bounds. With an index (segment-index.ts) only the listed entries are read; without
// one (the active segment, seen from another process) the segment is read in order and entries
// of other agents or data types are skipped before they are decoded.
import { EntryReader, listSegments, scanSegment, segmentPath, type SegmentName } from "./segment.ts";
import { decodeEntry, entryReceivedAt } from "./entry.ts";
import { peekEntry, peekEntryAgent } from "./entry-peek.ts";
import { readIndexFile } from "./index-files.ts";
import type { SegmentIndex } from "./segment-index.ts";
import { decodePayload } from "../../common/proto.ts";
import type { ReadEvent } from "./event-format.ts";

export interface EventQuery {
  agentId?: string;
  dataType?: number;
  /** server receive time ≥ sinceMs (unix ms) */
  sinceMs?: number;
  /** server receive time ≤ untilMs (unix ms) */
  untilMs?: number;
  /** at most this many events (the oldest that match) */
  limit?: number;
}

export interface ScanStats {
  segments: number;
  entries: number;
  /** entries or records that could not be decoded (skipped) */
  corrupt: number;
}

/** Entries are written at most this long after they were received (sink latency slack). */
const RECEIVE_SLACK_MS = 60_000;
const NS_PER_S = 1_000_000_000n;
const DIGITS = /^\d{1,20}$/;

/** A segment's index as a query may use it: entries at or past maxOffset are not durable yet. */
export interface IndexView {
  index: SegmentIndex;
  maxOffset: number;
}

export interface ScanOptions {
  /** caps how much of a segment is read (the writer's fsync'ed length) */
  durableBytes?: (file: string) => number | undefined;
  /**
   * Where segment indexes come from; a segment without one is read in order. Default: the saved
   * index files (a reader in another process). false: no index at all, every segment is read in
   * order and every entry decoded (the store before indexes; benchmarks compare against it).
   */
  index?: ((seg: SegmentName) => IndexView | undefined) | false;
}

/** The saved index of seg, for readers: only a sound one that describes the segment as it is. */
export const savedIndex = (dir: string) => (seg: SegmentName): IndexView | undefined => {
  const index = readIndexFile(dir, seg);
  return index && { index, maxOffset: Infinity };
};

/**
 * Call onEvent for each matching event, oldest first; it may return false to stop. Segments with
 * an index read only the entries it lists for the query's agent/data_type and time range.
 */
export function scanEvents(dir: string, q: EventQuery, onEvent: (e: ReadEvent) => boolean | void, o: ScanOptions = {}): ScanStats {
  const stats: ScanStats = { segments: 0, entries: 0, corrupt: 0 };
  const limit = q.limit ?? Infinity;
  if (limit <= 0) return stats;
  const indexOf = o.index === false ? undefined : o.index ?? savedIndex(dir);
  const prefilter = o.index !== false;
  let emitted = 0;
  let stop = false;
  // decode one entry and emit its matching records; false once the limit is reached
  const onEntry = (body: Buffer): boolean | void => {
    stats.entries++;
    if (prefilter && !mayMatch(body, q)) return;
    let entry;
    try {
      entry = decodeEntry(body);
    } catch {
      stats.corrupt++;
      return;
    }
    const { receivedAt, batch } = entry;
    if (q.sinceMs !== undefined && receivedAt < q.sinceMs) return;
    if (q.untilMs !== undefined && receivedAt > q.untilMs) return;
    if (q.agentId !== undefined && batch.agentId !== q.agentId) return;
    for (const r of batch.records) {
      const dt = r.dataType ?? 0;
      if (q.dataType !== undefined && dt !== q.dataType) continue;
      let fields: Record<string, string>;
      try {
        fields = decodePayload(r.data ?? new Uint8Array());
      } catch {
        stats.corrupt++;
        continue;
      }
      const tsField = fields.ts_ns;
      const tsNs = tsField !== undefined && DIGITS.test(tsField) ? BigInt(tsField) : BigInt(Math.trunc(Number(r.timestamp ?? 0))) * NS_PER_S;
      const ev: ReadEvent = { agentId: batch.agentId, hostname: batch.hostname, dataType: dt, tsNs, serverTime: receivedAt, fields };
      if (onEvent(ev) === false || ++emitted >= limit) {
        stop = true;
        return false;
      }
    }
  };
  const segs = listSegments(dir);
  for (let i = 0; i < segs.length && !stop; i++) {
    const seg = segs[i];
    const next = segs[i + 1];
    // every entry of seg was written before next was created
    if (q.sinceMs !== undefined && next && next.createdMs < q.sinceMs) continue;
    if (q.untilMs !== undefined && seg.createdMs - RECEIVE_SLACK_MS > q.untilMs) break;
    const cap = o.durableBytes?.(seg.file);
    const view = indexOf?.(seg);
    if (view && !view.index.overlaps(q)) continue;
    stats.segments++;
    const offsets = view?.index.candidates(q, Math.min(view.maxOffset, cap ?? Infinity));
    if (!offsets) {
      scanSegment(segmentPath(dir, seg), onEntry, cap);
      continue;
    }
    if (offsets.length === 0) continue;
    const reader = new EntryReader(segmentPath(dir, seg), cap);
    try {
      for (const off of offsets) {
        const body = reader.at(off);
        if (!body) {
          stats.corrupt++; // the index points at a frame that is not there (the segment changed)
          continue;
        }
        if (onEntry(body) === false) break;
      }
    } finally {
      reader.close();
    }
  }
  return stats;
}

/** Whether an entry can match, from its receive time and keys, before decoding it. */
function mayMatch(body: Buffer, q: EventQuery): boolean {
  try {
    const t = entryReceivedAt(body);
    if (q.sinceMs !== undefined && t < q.sinceMs) return false;
    if (q.untilMs !== undefined && t > q.untilMs) return false;
    if (q.agentId !== undefined && peekEntryAgent(body) !== q.agentId) return false;
    return q.dataType === undefined || peekEntry(body).dataTypes.includes(q.dataType);
  } catch {
    return true; // let decodeEntry fail and count it
  }
}
