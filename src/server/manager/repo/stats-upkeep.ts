// Keeps the query planner's statistics current as the Manager's tables grow (used by repo/sqlite.ts
// and repo/postgres.ts). SQLite never gathers statistics by itself, and PostgreSQL's autovacuum
// waits for its next round (up to a minute) after a bulk change: until then a 10,000-host fleet
// is planned as an empty table (nested loops and full sorts where a hash join or an index walk
// belongs). The repositories note the rows they add per table; once a table has grown by
// max(minRows, fraction × its size at the last refresh), it is analyzed in the background, one
// refresh at a time. refresh() analyzes every tracked table now.

export interface StatsUpkeepOptions {
  /** analyze these tables (names from the repository's own list, never from input) */
  analyze: (tables: string[]) => Promise<void>;
  /** the tables to keep current */
  tables: readonly string[];
  /** growth that always triggers a refresh; default 1000 rows */
  minRows?: number;
  /** growth relative to the size at the last refresh that triggers one; default 0.2 */
  fraction?: number;
  /** a failed background refresh (the next growth retries) */
  onError?: (e: unknown) => void;
}

export interface StatsUpkeep {
  /** rows added to a table */
  note(table: string, rows: number): void;
  /** analyze every tracked table now (after any refresh already running) */
  refresh(): Promise<void>;
  /** no more background refreshes; resolves when the running one has finished (before the client closes) */
  close(): Promise<void>;
}

export function createStatsUpkeep(o: StatsUpkeepOptions): StatsUpkeep {
  const minRows = o.minRows ?? 1000;
  const fraction = o.fraction ?? 0.2;
  const t = new Map(o.tables.map((name) => [name, { pending: 0, size: 0 }]));
  let running: Promise<void> = Promise.resolve();
  let scheduled = false;
  let closed = false;

  const due = () => [...t].filter(([, s]) => s.pending > 0 && s.pending >= Math.max(minRows, fraction * s.size)).map(([name]) => name);
  const run = (tables: string[]): Promise<void> => {
    const grown = new Map(tables.map((name) => [name, t.get(name)!.pending]));
    for (const name of tables) t.get(name)!.pending = 0;
    const p = running.then(() => o.analyze(tables)).then(
      () => { for (const [name, n] of grown) t.get(name)!.size += n; },
      (e) => {
        for (const [name, n] of grown) t.get(name)!.pending += n;
        throw e;
      },
    );
    running = p.catch(() => {});
    return p;
  };

  return {
    note(table, rows) {
      const s = t.get(table);
      if (!s || rows <= 0 || closed) return;
      s.pending += rows;
      if (scheduled || due().length === 0) return;
      scheduled = true;
      // after the caller's transaction, off its path
      setTimeout(() => {
        scheduled = false;
        const tables = closed ? [] : due();
        if (tables.length) run(tables).catch((e) => o.onError?.(e));
      }, 0);
    },
    refresh: () => run([...t.keys()]),
    close() {
      closed = true;
      return running;
    },
  };
}
