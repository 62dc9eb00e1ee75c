// Reads events back from a store directory, oldest first, with filters; used in process by
// EventStore.query and from another process by `vigil-server events query` while the server
// writes (a segment being appended is read up to its last complete entry). Time filters apply
// to the server receive time, which lets whole segments be skipped by their names.
import { listSegments, scanSegment, segmentPath } from "./segment.ts";
import { decodeEntry } from "./entry.ts";
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

/**
 * Call onEvent for each matching event, oldest first; it may return false to stop.
 * durableBytes(file) caps how much of a segment is read (the writer's fsync'ed length).
 */
export function scanEvents(dir: string, q: EventQuery, onEvent: (e: ReadEvent) => boolean | void, durableBytes?: (file: string) => number | undefined): ScanStats {
  const stats: ScanStats = { segments: 0, entries: 0, corrupt: 0 };
  const limit = q.limit ?? Infinity;
  if (limit <= 0) return stats;
  let emitted = 0;
  const segs = listSegments(dir);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const next = segs[i + 1];
    // every entry of seg was written before next was created
    if (q.sinceMs !== undefined && next && next.createdMs < q.sinceMs) continue;
    if (q.untilMs !== undefined && seg.createdMs - RECEIVE_SLACK_MS > q.untilMs) break;
    stats.segments++;
    let stop = false;
    scanSegment(segmentPath(dir, seg), (body) => {
      stats.entries++;
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
    }, durableBytes?.(seg.file));
    if (stop) break;
  }
  return stats;
}
