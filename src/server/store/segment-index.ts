// The index of one segment: for each entry its frame offset and receive time; per agent_id the
// entries it wrote, in total and per data_type; the receive-time bounds. The writer grows one in
// memory for the active segment (add) and saves it next to the segment when it is sealed
// (index-files.ts); queries (query.ts) read only the entries it lists. Entries whose keys could
// not be read (entry-peek.ts) are listed apart and read by every query, as a scan would.
import { peekEntry } from "./entry-peek.ts";
import { scanSegment } from "./segment.ts";

type List = ArrayLike<number>;

export interface AgentPostings {
  /** entry numbers (positions in offsets), ascending */
  all: List;
  byType: Map<number, List>;
}

/** What queries need of an index's agents: a Map in a builder's index, a view over the bytes of a decoded one. */
export interface AgentLookup {
  readonly size: number;
  get(agentId: string): AgentPostings | undefined;
  keys(): IterableIterator<string>;
  values(): IterableIterator<AgentPostings>;
}

export interface IndexQuery {
  agentId?: string;
  dataType?: number;
  sinceMs?: number;
  untilMs?: number;
}

const EMPTY: List = [];

export class SegmentIndex {
  /** frame offset of each entry, ascending */
  offsets: List;
  /** receive time (unix ms) of each entry */
  received: List;
  agents: AgentLookup;
  /** entries whose agent_id and data_types could not be read */
  unreadable: List;
  minReceived: number;
  maxReceived: number;
  /** the segment length this index describes */
  coveredBytes: number;
  private typeAll = new Map<number, { at: number; list: List }>();

  /** the memory estimate of a decoded index file (decodeIndex); undefined for a builder's index */
  private readonly bytes?: number;

  constructor(p?: { offsets: List; received: List; agents: AgentLookup; unreadable: List; minReceived: number; maxReceived: number; coveredBytes: number; bytes?: number }) {
    this.offsets = p?.offsets ?? [];
    this.received = p?.received ?? [];
    this.agents = p?.agents ?? new Map();
    this.unreadable = p?.unreadable ?? [];
    this.minReceived = p?.minReceived ?? Infinity;
    this.maxReceived = p?.maxReceived ?? -Infinity;
    this.coveredBytes = p?.coveredBytes ?? 0;
    this.bytes = p?.bytes;
  }

  get entries(): number {
    return this.offsets.length;
  }

  /**
   * estimated bytes in memory, for the cache bound: a builder's index (plain arrays, a map and
   * lists per agent) measured ~40 per entry and ~500 per agent in JSC; a decoded one says its own
   */
  get approxBytes(): number {
    return this.bytes ?? 40 * this.offsets.length + 500 * this.agents.size;
  }

  /** Append one entry (a builder's index only: its lists are plain arrays). agentId undefined: unreadable. */
  add(offset: number, frameBytes: number, receivedAt: number, agentId: string | undefined, dataTypes: List): void {
    const n = this.offsets.length;
    (this.offsets as number[]).push(offset);
    (this.received as number[]).push(receivedAt);
    this.coveredBytes = offset + frameBytes;
    if (receivedAt < this.minReceived) this.minReceived = receivedAt;
    if (receivedAt > this.maxReceived) this.maxReceived = receivedAt;
    if (agentId === undefined) {
      (this.unreadable as number[]).push(n);
      return;
    }
    let a = this.agents.get(agentId);
    if (!a) (this.agents as Map<string, AgentPostings>).set(agentId, (a = { all: [], byType: new Map() }));
    (a.all as number[]).push(n);
    for (let i = 0; i < dataTypes.length; i++) {
      const dt = dataTypes[i];
      let l = a.byType.get(dt) as number[] | undefined;
      if (!l) a.byType.set(dt, (l = []));
      if (l[l.length - 1] !== n) l.push(n);
    }
  }

  /** Index one entry body found at offset (peeking its keys). */
  addBody(offset: number, body: Uint8Array): void {
    let k;
    try {
      k = peekEntry(body);
    } catch {
      let t = NaN;
      try {
        t = Buffer.from(body.buffer, body.byteOffset, body.length).readDoubleLE(1);
      } catch {}
      this.add(offset, 8 + body.length, Number.isFinite(t) ? t : 0, undefined, EMPTY);
      // an unreadable entry must not narrow the time bounds a query skips by
      this.minReceived = -Infinity;
      this.maxReceived = Infinity;
      return;
    }
    this.add(offset, 8 + body.length, k.receivedAt, k.agentId, k.dataTypes);
  }

  /** Whether any entry may have been received within [sinceMs, untilMs]. */
  overlaps(q: IndexQuery): boolean {
    if (this.entries === 0) return false;
    if (q.sinceMs !== undefined && this.maxReceived < q.sinceMs) return false;
    if (q.untilMs !== undefined && this.minReceived > q.untilMs) return false;
    return true;
  }

  /** All entries with a record of dataType, ascending (cached until the index grows). */
  private ofType(dt: number): List {
    const c = this.typeAll.get(dt);
    if (c && c.at === this.entries) return c.list;
    const lists: List[] = [];
    for (const a of this.agents.values()) {
      const l = a.byType.get(dt);
      if (l) lists.push(l);
    }
    const list = mergeAll(lists);
    this.typeAll.set(dt, { at: this.entries, list });
    return list;
  }

  /**
   * Offsets of the entries that may hold matching records, ascending, below maxOffset; undefined
   * when the query names neither agent nor data_type (every entry: read the segment in order).
   */
  candidates(q: IndexQuery, maxOffset = Infinity): number[] | undefined {
    let list: List;
    if (q.agentId !== undefined) {
      const a = this.agents.get(q.agentId);
      list = !a ? EMPTY : q.dataType !== undefined ? a.byType.get(q.dataType) ?? EMPTY : a.all;
    } else if (q.dataType !== undefined) list = this.ofType(q.dataType);
    else return undefined;
    if (this.unreadable.length > 0) list = mergeAll([list, this.unreadable]);
    const out: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      const off = this.offsets[e];
      if (off >= maxOffset) break;
      const t = this.received[e];
      if (q.sinceMs !== undefined && t < q.sinceMs) continue;
      if (q.untilMs !== undefined && t > q.untilMs) continue;
      out.push(off);
    }
    return out;
  }
}

/** Merge ascending lists of distinct entry numbers (an entry is in at most one per agent). */
function mergeAll(lists: List[]): List {
  if (lists.length === 0) return EMPTY;
  if (lists.length === 1) return lists[0];
  let n = 0;
  for (const l of lists) n += l.length;
  const out = new Uint32Array(n);
  let p = 0;
  for (const l of lists) for (let i = 0; i < l.length; i++) out[p++] = l[i];
  out.sort();
  return out;
}

/** Build the index of a segment by reading it (up to maxBytes), as the writer would have. */
export function buildIndex(path: string, maxBytes = Infinity): SegmentIndex {
  const ix = new SegmentIndex();
  const r = scanSegment(path, (body, offset) => ix.addBody(offset, body), maxBytes);
  ix.coveredBytes = r.goodBytes;
  return ix;
}
