// The writer's cache of sealed segments' indexes (segment-index.ts), least recently used first
// out, bounded by the entries they describe (about 40 bytes each in memory).
import type { SegmentIndex } from "./segment-index.ts";

export class IndexCache {
  private readonly m = new Map<string, SegmentIndex>();
  private total = 0;

  constructor(private readonly maxEntries: number) {}

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
    this.total += ix.entries;
    for (const [f, old] of this.m) {
      if (this.total <= this.maxEntries || f === file) break;
      this.m.delete(f);
      this.total -= old.entries;
    }
  }

  delete(file: string): void {
    const ix = this.m.get(file);
    if (!ix) return;
    this.m.delete(file);
    this.total -= ix.entries;
  }
}
