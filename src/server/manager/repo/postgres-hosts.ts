// PostgreSQL repository, hosts part: heartbeats, host list/detail/filters and tags (used by repo/postgres.ts).
// Keep behaviour equal to repo/sqlite-hosts.ts; test/server/manager/repo runs both.
import { and, asc, count, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import * as s from "../db/pg/schema.ts";
import { addrsOf, chunks, foldHeartbeats, IN_CHUNK, INSERT_CHUNK, likePattern, pageBounds, type HostRow } from "./common.ts";
import type { Host, HostFilter, HostHeartbeat, Page } from "./types.ts";

export type PgDb = PostgresJsDatabase<typeof s>;
type Q = Pick<PgDb, "select" | "insert" | "update" | "delete">;

function hostWhere(f: HostFilter, onlineSince: number): SQL | undefined {
  const c: SQL[] = [];
  if (f.hostname !== undefined && f.hostname !== "") c.push(sql`${s.hosts.hostname} ILIKE ${likePattern(f.hostname)} ESCAPE '\\'`);
  // tag and address tests as IN (the same semi-join as EXISTS here; the SQLite twin needs the form)
  if (f.ip !== undefined && f.ip !== "") c.push(sql`${s.hosts.agentId} IN (SELECT ${s.hostAddrs.agentId} FROM ${s.hostAddrs} WHERE ${s.hostAddrs.addr} = ${f.ip})`);
  if (f.tag !== undefined && f.tag !== "") c.push(sql`${s.hosts.agentId} IN (SELECT ${s.hostTags.agentId} FROM ${s.hostTags} WHERE ${s.hostTags.tag} = ${f.tag})`);
  if (f.version !== undefined && f.version !== "") c.push(eq(s.hosts.version, f.version));
  if (f.state === "online") c.push(gte(s.hosts.lastSeenAt, onlineSince));
  if (f.state === "offline") c.push(lt(s.hosts.lastSeenAt, onlineSince));
  if (f.agentIds !== undefined) c.push(inArray(s.hosts.agentId, f.agentIds));
  return c.length ? and(...c) : undefined;
}

async function withTags(q: Q, rows: HostRow[]): Promise<Host[]> {
  const tags = new Map<string, string[]>(rows.map((r) => [r.agentId, []]));
  for (const ids of chunks(rows.map((r) => r.agentId), IN_CHUNK)) {
    const ts = await q.select().from(s.hostTags).where(inArray(s.hostTags.agentId, ids)).orderBy(asc(s.hostTags.tag));
    for (const t of ts) tags.get(t.agentId)?.push(t.tag);
  }
  return rows.map((r) => ({ ...r, tags: tags.get(r.agentId) ?? [] }));
}

/** Rows a write added, per table (for the statistics upkeep, repo/stats-upkeep.ts). */
export type Growth = Record<string, number>;

export async function recordHeartbeats(db: PgDb, hbs: HostHeartbeat[]): Promise<Growth> {
  if (hbs.length === 0) return {};
  const agentIds = [...new Set(hbs.map((h) => h.agentId))].sort();
  return db.transaction(async (tx) => {
    // lock the stored rows (in a fixed order) so concurrent calls fold onto each other's results
    const existing = new Map<string, HostRow>();
    for (const ids of chunks(agentIds, IN_CHUNK)) {
      for (const r of await tx.select().from(s.hosts).where(inArray(s.hosts.agentId, ids)).orderBy(asc(s.hosts.agentId)).for("update")) existing.set(r.agentId, r);
    }
    const { rows, addrsChanged } = foldHeartbeats(existing, hbs);
    rows.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
    for (const part of chunks(rows, INSERT_CHUNK / 10)) {
      await tx.insert(s.hosts).values(part).onConflictDoUpdate({
        target: s.hosts.agentId,
        set: {
          hostname: sql`excluded.hostname`, intranetIpv4: sql`excluded.intranet_ipv4`, extranetIpv4: sql`excluded.extranet_ipv4`,
          intranetIpv6: sql`excluded.intranet_ipv6`, extranetIpv6: sql`excluded.extranet_ipv6`, version: sql`excluded.version`,
          product: sql`excluded.product`, acAddr: sql`excluded.ac_addr`, firstSeenAt: sql`excluded.first_seen_at`,
          lastSeenAt: sql`excluded.last_seen_at`, facts: sql`excluded.facts`, plugins: sql`excluded.plugins`,
        },
      });
    }
    const changed = rows.filter((r) => addrsChanged.has(r.agentId));
    for (const ids of chunks(changed.map((r) => r.agentId), IN_CHUNK)) await tx.delete(s.hostAddrs).where(inArray(s.hostAddrs.agentId, ids));
    const addrRows = changed.flatMap((r) => addrsOf(r).map((addr) => ({ agentId: r.agentId, addr })));
    for (const part of chunks(addrRows, INSERT_CHUNK)) await tx.insert(s.hostAddrs).values(part).onConflictDoNothing();
    return { hosts: rows.filter((r) => !existing.has(r.agentId)).length, host_addrs: addrRows.length };
  });
}

export async function getHost(db: PgDb, agentId: string): Promise<Host | undefined> {
  const [r] = await db.select().from(s.hosts).where(eq(s.hosts.agentId, agentId));
  return r ? (await withTags(db, [r]))[0] : undefined;
}

export async function listHosts(db: PgDb, f: HostFilter, page: Page, onlineSince: number): Promise<{ total: number; items: Host[] }> {
  const where = hostWhere(f, onlineSince);
  const { limit, offset } = pageBounds(page);
  // a tag alone is counted on host_tags' index (every row names a host: the foreign key)
  const onlyTag = f.tag !== undefined && f.tag !== "" && hostWhere({ ...f, tag: undefined }, onlineSince) === undefined;
  const [[t], rows] = await Promise.all([
    onlyTag ? db.select({ n: count() }).from(s.hostTags).where(eq(s.hostTags.tag, f.tag!)) : db.select({ n: count() }).from(s.hosts).where(where),
    db.select().from(s.hosts).where(where).orderBy(asc(s.hosts.hostname), asc(s.hosts.agentId)).limit(limit).offset(offset),
  ]);
  return { total: t?.n ?? 0, items: await withTags(db, rows) };
}

export async function hostIds(db: PgDb, f: HostFilter, onlineSince: number): Promise<string[]> {
  return (await db.select({ id: s.hosts.agentId }).from(s.hosts).where(hostWhere(f, onlineSince)).orderBy(asc(s.hosts.agentId))).map((r) => r.id);
}

export async function countHosts(db: PgDb, onlineSince: number): Promise<{ total: number; online: number }> {
  const [[t], [o]] = await Promise.all([
    db.select({ n: count() }).from(s.hosts),
    db.select({ n: count() }).from(s.hosts).where(gte(s.hosts.lastSeenAt, onlineSince)),
  ]);
  return { total: t?.n ?? 0, online: o?.n ?? 0 };
}

async function existingIds(q: Q, agentIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const ids of chunks([...new Set(agentIds)], IN_CHUNK)) out.push(...(await q.select({ id: s.hosts.agentId }).from(s.hosts).where(inArray(s.hosts.agentId, ids))).map((r) => r.id));
  return out;
}

export async function setTags(db: PgDb, agentId: string, tags: string[]): Promise<boolean> {
  return db.transaction(async (tx) => {
    if ((await tx.select({ id: s.hosts.agentId }).from(s.hosts).where(eq(s.hosts.agentId, agentId)).for("update")).length === 0) return false;
    await tx.delete(s.hostTags).where(eq(s.hostTags.agentId, agentId));
    const uniq = [...new Set(tags)];
    if (uniq.length) await tx.insert(s.hostTags).values(uniq.map((tag) => ({ agentId, tag })));
    return true;
  });
}

export async function addTags(db: PgDb, agentIds: string[], tags: string[]): Promise<number> {
  const uniq = [...new Set(tags)];
  if (uniq.length === 0) return 0;
  return db.transaction(async (tx) => {
    const pairs = (await existingIds(tx, agentIds)).flatMap((agentId) => uniq.map((tag) => ({ agentId, tag })));
    let n = 0;
    for (const part of chunks(pairs, INSERT_CHUNK)) n += (await tx.insert(s.hostTags).values(part).onConflictDoNothing().returning({ a: s.hostTags.agentId })).length;
    return n;
  });
}

export async function removeTags(db: PgDb, agentIds: string[], tags: string[]): Promise<number> {
  const uniq = [...new Set(tags)];
  if (uniq.length === 0) return 0;
  return db.transaction(async (tx) => {
    let n = 0;
    for (const ids of chunks([...new Set(agentIds)], IN_CHUNK)) {
      n += (await tx.delete(s.hostTags).where(and(inArray(s.hostTags.agentId, ids), inArray(s.hostTags.tag, uniq))).returning({ a: s.hostTags.agentId })).length;
    }
    return n;
  });
}
