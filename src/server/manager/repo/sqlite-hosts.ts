// SQLite repository, hosts part: heartbeats, host list/detail/filters and tags (used by repo/sqlite.ts).
// Keep behaviour equal to repo/postgres-hosts.ts; test/server/manager/repo runs both.
import { and, asc, count, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import * as s from "../db/sqlite/schema.ts";
import { addrsOf, chunks, foldHeartbeats, IN_CHUNK, INSERT_CHUNK, likePattern, pageBounds, type HostRow } from "./common.ts";
import type { Host, HostFilter, HostHeartbeat, Page } from "./types.ts";

export type SqliteDb = BunSQLiteDatabase<typeof s>;
type Q = Pick<SqliteDb, "select" | "insert" | "update" | "delete">;

/**
 * The filter as SQL. The tag test comes in two forms that SQLite plans differently: "in" drives
 * from host_tags' tag index (cheap for counts and rare tags), "exists" probes per host while
 * walking hosts_hostname_idx in page order and stops at the page's end (cheap for pages of
 * common tags, where "in" would sort every match).
 */
function hostWhere(f: HostFilter, onlineSince: number, tagForm: "in" | "exists" = "in"): SQL | undefined {
  const c: SQL[] = [];
  if (f.hostname !== undefined && f.hostname !== "") c.push(sql`${s.hosts.hostname} LIKE ${likePattern(f.hostname)} ESCAPE '\\'`);
  // an exact address matches a host or two: drive from host_addrs_addr_idx (IN), never probe per host
  if (f.ip !== undefined && f.ip !== "") c.push(sql`${s.hosts.agentId} IN (SELECT ${s.hostAddrs.agentId} FROM ${s.hostAddrs} WHERE ${s.hostAddrs.addr} = ${f.ip})`);
  if (f.tag !== undefined && f.tag !== "") {
    c.push(tagForm === "in"
      ? sql`${s.hosts.agentId} IN (SELECT ${s.hostTags.agentId} FROM ${s.hostTags} WHERE ${s.hostTags.tag} = ${f.tag})`
      : sql`EXISTS (SELECT 1 FROM ${s.hostTags} WHERE ${s.hostTags.agentId} = ${s.hosts.agentId} AND ${s.hostTags.tag} = ${f.tag})`);
  }
  if (f.version !== undefined && f.version !== "") c.push(eq(s.hosts.version, f.version));
  if (f.state === "online") c.push(gte(s.hosts.lastSeenAt, onlineSince));
  if (f.state === "offline") c.push(lt(s.hosts.lastSeenAt, onlineSince));
  if (f.agentIds !== undefined) c.push(inArray(s.hosts.agentId, f.agentIds));
  return c.length ? and(...c) : undefined;
}

function withTags(q: Q, rows: HostRow[]): Host[] {
  const tags = new Map<string, string[]>(rows.map((r) => [r.agentId, []]));
  for (const ids of chunks(rows.map((r) => r.agentId), IN_CHUNK)) {
    const ts = q.select().from(s.hostTags).where(inArray(s.hostTags.agentId, ids)).orderBy(asc(s.hostTags.tag)).all();
    for (const t of ts) tags.get(t.agentId)?.push(t.tag);
  }
  return rows.map((r) => ({ ...r, tags: tags.get(r.agentId) ?? [] }));
}

/** Rows a write added, per table (for the statistics upkeep, repo/stats-upkeep.ts). */
export type Growth = Record<string, number>;

export function recordHeartbeats(db: SqliteDb, hbs: HostHeartbeat[]): Growth {
  if (hbs.length === 0) return {};
  return db.transaction((tx) => {
    const existing = new Map<string, HostRow>();
    for (const ids of chunks([...new Set(hbs.map((h) => h.agentId))], IN_CHUNK)) {
      for (const r of tx.select().from(s.hosts).where(inArray(s.hosts.agentId, ids)).all()) existing.set(r.agentId, r);
    }
    const { rows, addrsChanged } = foldHeartbeats(existing, hbs);
    for (const part of chunks(rows, INSERT_CHUNK / 10)) {
      tx.insert(s.hosts).values(part).onConflictDoUpdate({
        target: s.hosts.agentId,
        set: {
          hostname: sql`excluded.hostname`, intranetIpv4: sql`excluded.intranet_ipv4`, extranetIpv4: sql`excluded.extranet_ipv4`,
          intranetIpv6: sql`excluded.intranet_ipv6`, extranetIpv6: sql`excluded.extranet_ipv6`, version: sql`excluded.version`,
          product: sql`excluded.product`, acAddr: sql`excluded.ac_addr`, firstSeenAt: sql`excluded.first_seen_at`,
          lastSeenAt: sql`excluded.last_seen_at`, facts: sql`excluded.facts`, plugins: sql`excluded.plugins`,
        },
      }).run();
    }
    const changed = rows.filter((r) => addrsChanged.has(r.agentId));
    for (const ids of chunks(changed.map((r) => r.agentId), IN_CHUNK)) tx.delete(s.hostAddrs).where(inArray(s.hostAddrs.agentId, ids)).run();
    const addrRows = changed.flatMap((r) => addrsOf(r).map((addr) => ({ agentId: r.agentId, addr })));
    for (const part of chunks(addrRows, INSERT_CHUNK)) tx.insert(s.hostAddrs).values(part).onConflictDoNothing().run();
    return { hosts: rows.filter((r) => !existing.has(r.agentId)).length, host_addrs: addrRows.length };
  }, { behavior: "immediate" });
}

export function getHost(db: SqliteDb, agentId: string): Host | undefined {
  const r = db.select().from(s.hosts).where(eq(s.hosts.agentId, agentId)).get();
  return r ? withTags(db, [r])[0] : undefined;
}

export function listHosts(db: SqliteDb, f: HostFilter, page: Page, onlineSince: number): { total: number; items: Host[] } {
  const { limit, offset } = pageBounds(page);
  return db.transaction((tx) => {
    const rows = tx.select().from(s.hosts).where(hostWhere(f, onlineSince, "exists")).orderBy(asc(s.hosts.hostname), asc(s.hosts.agentId)).limit(limit).offset(offset).all();
    // a short page that is not past the end is the last one: it tells the total without a count
    const total = rows.length < limit && (rows.length > 0 || offset === 0) ? offset + rows.length : tx.select({ n: count() }).from(s.hosts).where(hostWhere(f, onlineSince, "in")).get()?.n ?? 0;
    return { total, items: withTags(tx, rows) };
  });
}

export function hostIds(db: SqliteDb, f: HostFilter, onlineSince: number): string[] {
  return db.select({ id: s.hosts.agentId }).from(s.hosts).where(hostWhere(f, onlineSince)).orderBy(asc(s.hosts.agentId)).all().map((r) => r.id);
}

export function countHosts(db: SqliteDb, onlineSince: number): { total: number; online: number } {
  return db.transaction((tx) => ({
    total: tx.select({ n: count() }).from(s.hosts).get()?.n ?? 0,
    online: tx.select({ n: count() }).from(s.hosts).where(gte(s.hosts.lastSeenAt, onlineSince)).get()?.n ?? 0,
  }));
}

function existingIds(q: Q, agentIds: string[]): string[] {
  const out: string[] = [];
  for (const ids of chunks([...new Set(agentIds)], IN_CHUNK)) out.push(...q.select({ id: s.hosts.agentId }).from(s.hosts).where(inArray(s.hosts.agentId, ids)).all().map((r) => r.id));
  return out;
}

export function setTags(db: SqliteDb, agentId: string, tags: string[]): boolean {
  return db.transaction((tx) => {
    if (existingIds(tx, [agentId]).length === 0) return false;
    tx.delete(s.hostTags).where(eq(s.hostTags.agentId, agentId)).run();
    const uniq = [...new Set(tags)];
    if (uniq.length) tx.insert(s.hostTags).values(uniq.map((tag) => ({ agentId, tag }))).run();
    return true;
  }, { behavior: "immediate" });
}

export function addTags(db: SqliteDb, agentIds: string[], tags: string[]): number {
  const uniq = [...new Set(tags)];
  if (uniq.length === 0) return 0;
  return db.transaction((tx) => {
    const pairs = existingIds(tx, agentIds).flatMap((agentId) => uniq.map((tag) => ({ agentId, tag })));
    let n = 0;
    for (const part of chunks(pairs, INSERT_CHUNK)) n += tx.insert(s.hostTags).values(part).onConflictDoNothing().returning({ a: s.hostTags.agentId }).all().length;
    return n;
  }, { behavior: "immediate" });
}

export function removeTags(db: SqliteDb, agentIds: string[], tags: string[]): number {
  const uniq = [...new Set(tags)];
  if (uniq.length === 0) return 0;
  return db.transaction((tx) => {
    let n = 0;
    for (const ids of chunks([...new Set(agentIds)], IN_CHUNK)) {
      n += tx.delete(s.hostTags).where(and(inArray(s.hostTags.agentId, ids), inArray(s.hostTags.tag, uniq))).returning({ a: s.hostTags.agentId }).all().length;
    }
    return n;
  }, { behavior: "immediate" });
}
