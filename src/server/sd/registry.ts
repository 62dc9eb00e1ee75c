// SD's registry: service name → instances (ip, port) with a weight (an AC's live connection
// count), renewed by re-registration and expired ttlMs after the last renewal. Reads never
// return an expired entry, whatever the sweep timing.

export const DEFAULT_TTL_MS = 105_000;

export interface EntryInput {
  name: string;
  ip: string;
  port: number;
  weight: number;
  extra: Record<string, unknown>;
}

export interface Entry extends EntryInput {
  /** unix ms of the first registration */
  create_at: number;
  /** unix ms of the last renewal */
  update_at: number;
}

export interface EntryKey {
  name: string;
  ip: string;
  port: number;
}

const keyOf = (k: EntryKey) => `${k.ip}|${k.port}`;

export class Registry {
  private readonly services = new Map<string, Map<string, Entry>>();

  constructor(readonly ttlMs = DEFAULT_TTL_MS, private readonly now: () => number = Date.now) {}

  /** Adds or renews an entry; returns it. */
  register(e: EntryInput): Entry {
    let svc = this.services.get(e.name);
    if (!svc) this.services.set(e.name, (svc = new Map()));
    const t = this.now();
    const old = svc.get(keyOf(e));
    const entry: Entry = { ...e, create_at: old && !this.expired(old, t) ? old.create_at : t, update_at: t };
    svc.set(keyOf(e), entry);
    return entry;
  }

  /** Removes an entry; false when there was none. */
  evict(k: EntryKey): boolean {
    const svc = this.services.get(k.name);
    const had = svc?.delete(keyOf(k)) ?? false;
    if (svc && svc.size === 0) this.services.delete(k.name);
    return had;
  }

  private expired(e: Entry, t: number): boolean {
    return t - e.update_at >= this.ttlMs;
  }

  /** Drops expired entries; returns them. */
  sweep(): Entry[] {
    const t = this.now();
    const gone: Entry[] = [];
    for (const [name, svc] of this.services) {
      for (const [k, e] of svc) if (this.expired(e, t)) { svc.delete(k); gone.push(e); }
      if (svc.size === 0) this.services.delete(name);
    }
    return gone;
  }

  /** Live instances of one service, least weight first (ties in random order), at most count. */
  detail(name: string, count?: number): Entry[] {
    const t = this.now();
    const live = [...(this.services.get(name)?.values() ?? [])].filter((e) => !this.expired(e, t));
    const keyed = live.map((e) => ({ e, tie: Math.random() }));
    keyed.sort((a, b) => a.e.weight - b.e.weight || a.tie - b.tie);
    const out = keyed.map((k) => k.e);
    return count === undefined ? out : out.slice(0, count);
  }

  /** Every live entry, by service name then weight. */
  list(): Entry[] {
    const t = this.now();
    const out: Entry[] = [];
    for (const name of [...this.services.keys()].sort()) {
      const svc = [...this.services.get(name)!.values()].filter((e) => !this.expired(e, t));
      out.push(...svc.sort((a, b) => a.weight - b.weight || a.ip.localeCompare(b.ip) || a.port - b.port));
    }
    return out;
  }

  /** Per service: number of live instances and their total weight. */
  summary(): Record<string, { count: number; weight: number }> {
    const out: Record<string, { count: number; weight: number }> = {};
    for (const e of this.list()) {
      const s = (out[e.name] ??= { count: 0, weight: 0 });
      s.count++;
      s.weight += e.weight;
    }
    return out;
  }

  /** Live entries per service name (for the entries gauge). */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.list()) m.set(e.name, (m.get(e.name) ?? 0) + 1);
    return m;
  }
}
