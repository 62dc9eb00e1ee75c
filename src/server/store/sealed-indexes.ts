// The sealed segments' indexes for the writer (index.ts): checked at open and rebuilt from their
// segment when missing, torn or stale; saved when a segment is sealed; cached in memory (LRU);
// removed with their segment by retention. Index files are derived data: failing to write one
// is logged and counted, never fatal.
import { statSync } from "node:fs";
import type { Logger } from "../../common/log.ts";
import { IndexCache } from "./index-cache.ts";
import { decodeIndex, indexLooksCurrent, readIndexFile, removeIndexFile, removeOrphanIndexes, writeIndexFile } from "./index-files.ts";
import { buildIndex, type SegmentIndex } from "./segment-index.ts";
import { listSegments, segmentPath, type SegmentName } from "./segment.ts";

export class SealedIndexes {
  private readonly cache: IndexCache;

  constructor(private readonly dir: string, private readonly log: Logger, private readonly stats: { indexesRebuilt: number; indexWriteErrors: number }, cacheBytes: number) {
    this.cache = new IndexCache(cacheBytes);
  }

  /** At open: every sealed segment gets a current index file; orphaned ones go. */
  prepare(activeIndex: number): void {
    const segs = listSegments(this.dir);
    for (const seg of segs) {
      if (seg.index === activeIndex || indexLooksCurrent(this.dir, seg)) continue;
      this.rebuild(seg, "missing, torn or stale at open");
    }
    removeOrphanIndexes(this.dir, segs);
  }

  /** Rebuild a sealed segment's index by reading it, save it, cache it. */
  private rebuild(seg: SegmentName, why: string): SegmentIndex {
    const t = performance.now();
    const ix = buildIndex(segmentPath(this.dir, seg));
    this.stats.indexesRebuilt++;
    this.save(seg, ix);
    this.log.info("event store rebuilt a segment index", { file: seg.file, reason: why, entries: ix.entries, ms: Math.round(performance.now() - t) });
    return ix;
  }

  /**
   * Write seg's index file and cache the compact form decoded from its bytes: the builder's form
   * holds a Map and several arrays per agent, ~300,000 Maps in a 10,000-agent AC's cache, which
   * every full garbage collection had to mark (seconds of event-loop lag).
   */
  private save(seg: SegmentName, ix: SegmentIndex): void {
    this.cache.set(seg.file, ix);
    try {
      this.cache.set(seg.file, decodeIndex(writeIndexFile(this.dir, seg, ix)));
    } catch (e) {
      this.stats.indexWriteErrors++;
      this.log.warn("event store cannot save a segment index (queries will rebuild it)", { file: seg.file, error: e as Error });
    }
  }

  /** A sealed segment's index: cached, else its file, else rebuilt from the segment. */
  get(seg: SegmentName): SegmentIndex {
    const hit = this.cache.get(seg.file);
    if (hit) return hit;
    let reason = "";
    const ix = readIndexFile(this.dir, seg, (r) => (reason = r));
    if (!ix) return this.rebuild(seg, reason);
    this.cache.set(seg.file, ix);
    return ix;
  }

  /** The index of the segment that was active: its in-memory one if it covers the file, else rebuilt. */
  seal(seg: SegmentName, ix: SegmentIndex): void {
    let size = -1;
    try {
      size = statSync(segmentPath(this.dir, seg)).size;
    } catch {}
    try {
      if (size === ix.coveredBytes) this.save(seg, ix);
      else this.rebuild(seg, "the writer's index does not cover the segment (a failed write)");
    } catch (e) {
      // derived data: a query rebuilds it, a reader in another process reads the segment in order
      this.stats.indexWriteErrors++;
      this.log.warn("event store cannot index a sealed segment", { file: seg.file, error: e as Error });
    }
  }

  /** After retention removed seg (a crash before this leaves an orphan, removed at the next open). */
  remove(seg: SegmentName): void {
    this.cache.delete(seg.file);
    try {
      removeIndexFile(this.dir, seg);
    } catch (e) {
      this.log.warn("event store cannot remove a segment index", { file: seg.file, error: e as Error });
    }
  }
}
