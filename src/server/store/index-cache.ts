// The writer's cache of sealed segments' indexes (segment-index.ts), least recently used first
// out, bounded by their estimated size in memory (approxBytes): per entry about 40 bytes, but
// per agent of a segment about 500 (a map entry, postings and a map per data type). With 10,000
// agents a 16 MiB segment names thousands of them, so a bound by entries let the cache grow past
// 2 GiB (measured: 578 bytes per entry when each entry is another agent's).
import type { SegmentIndex } from "./segment-index.ts";

export class IndexCache {
  private readonly m = new Map<string, SegmentIndex>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(file: string): SegmentIndex | undefined {
    const ix = this.m.get(file);
    if (ix) {
      this.m.delete(file);
      this.m.set(file, ix);
    }
    return ix;
  }

  set(file: string, ix: SegmentIndex): void {
    this.delete(file);
    this.m.set(file, ix);
    this.total += ix.approxBytes;
    for (const [f, old] of this.m) {
      if (this.total <= this.maxBytes || f === file) break;
      this.m.delete(f);
      this.total -= old.approxBytes;
    }
  }

  delete(file: string): void {
    const ix = this.m.get(file);
    if (!ix) return;
    this.m.delete(file);
    this.total -= ix.approxBytes;
  }
}
