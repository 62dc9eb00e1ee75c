// The sealed-index cache is bounded by estimated memory, not by entries: a segment whose entries
// each name another agent costs ~500 bytes per entry, one agent's segment ~40.
import { test, expect, describe } from "bun:test";
import { IndexCache } from "../../../src/server/store/index-cache.ts";
import { SegmentIndex } from "../../../src/server/store/segment-index.ts";
import { decodeIndex, encodeIndex } from "../../../src/server/store/index-files.ts";

function index(entries: number, agents: number): SegmentIndex {
  const ix = new SegmentIndex();
  for (let i = 0; i < entries; i++) ix.add(i * 100, 100, 1_700_000_000_000 + i, `agent-${i % agents}`, [59]);
  return ix;
}

describe("sealed index cache", () => {
  test("approxBytes grows with the agents a segment names, not only its entries", () => {
    const one = index(1000, 1), many = index(1000, 1000);
    expect(one.entries).toBe(many.entries);
    expect(many.approxBytes).toBeGreaterThan(one.approxBytes * 10);
  });

  test("segments of many agents are evicted, least recently used first, once the byte budget is reached", () => {
    const per = index(1000, 1000).approxBytes;
    const c = new IndexCache(per * 3);
    for (const f of ["a", "b", "c"]) c.set(f, index(1000, 1000));
    expect(c.get("a")).toBeDefined(); // a is now the most recently used
    c.set("d", index(1000, 1000));
    expect(c.get("b")).toBeUndefined();
    for (const f of ["a", "c", "d"]) expect(c.get(f)).toBeDefined();
    // the same number of entries from one agent fits many times over
    const small = new IndexCache(per * 3);
    for (let i = 0; i < 20; i++) small.set(`s${i}`, index(1000, 1));
    expect(small.get("s0")).toBeDefined();
  });

  test("a segment larger than the whole budget is still kept (the newest one is never evicted)", () => {
    const c = new IndexCache(10);
    c.set("big", index(100, 100));
    expect(c.get("big")).toBeDefined();
    c.set("next", index(100, 100));
    expect(c.get("big")).toBeUndefined();
    expect(c.get("next")).toBeDefined();
  });

  test("a sealed index is cached in its compact decoded form: same answers, a fraction of the memory", () => {
    const built = index(2000, 1500);
    const compact = decodeIndex(encodeIndex(built));
    expect(compact.approxBytes).toBeLessThan(built.approxBytes / 2);
    for (const id of ["agent-0", "agent-7", "agent-1499"]) {
      expect(Array.from(compact.agents.get(id)!.all)).toEqual(Array.from(built.agents.get(id)!.all));
      expect(Array.from(compact.agents.get(id)!.byType.get(59)!)).toEqual(Array.from(built.agents.get(id)!.byType.get(59)!));
    }
    expect(compact.agents.size).toBe(built.agents.size);
  });
});
