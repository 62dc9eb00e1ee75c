// Dialect-independent parts of the Manager's repositories (repo/sqlite.ts, repo/postgres.ts):
// paging, ids, chunking, heartbeat folding, LIKE escaping and unique-violation detection.
import type { Host, HostHeartbeat, Page, SubTaskStatus } from "./types.ts";

export const MAX_PAGE_SIZE = 1000;
/** rows per multi-row INSERT (well under SQLite's 32766 and PostgreSQL's 65535 bound parameters) */
export const INSERT_CHUNK = 1000;
/** values per IN (...) list */
export const IN_CHUNK = 5000;
export const ALL_SUBTASK_STATES: readonly SubTaskStatus[] = ["created", "sent", "succeeded", "failed", "timed_out", "cancelled"];

export function newId(): string {
  return Bun.randomUUIDv7();
}

export function pageBounds(p: Page): { limit: number; offset: number } {
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(p.size) || 1));
  const page = Math.max(1, Math.floor(p.page) || 1);
  return { limit: size, offset: (page - 1) * size };
}

export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** `%term%` for a case-insensitive substring match with `ESCAPE '\'`; wildcards in term are literal. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function emptySummary(): Record<SubTaskStatus, number> {
  return { created: 0, sent: 0, succeeded: 0, failed: 0, timed_out: 0, cancelled: 0 };
}

/** A host row without its tags (tags live in host_tags). */
export type HostRow = Omit<Host, "tags">;

export function addrsOf(h: Pick<Host, "intranetIpv4" | "extranetIpv4" | "intranetIpv6" | "extranetIpv6">): string[] {
  return [...new Set([...h.intranetIpv4, ...h.extranetIpv4, ...h.intranetIpv6, ...h.extranetIpv6])].sort();
}

/**
 * Fold a heartbeat list into one new row per agent, starting from the stored rows: an agent
 * heartbeat (1000) replaces the facts, a plugin heartbeat (1001) replaces plugins[name]; both
 * refresh the header fields (hostname, addresses, version, product, AC) and lastSeenAt (never
 * backwards). Returns the rows and the agents whose address set changed (or that are new).
 */
export function foldHeartbeats(existing: Map<string, HostRow>, hbs: HostHeartbeat[]): { rows: HostRow[]; addrsChanged: Set<string> } {
  const next = new Map<string, HostRow>();
  for (const hb of hbs) {
    const prev = next.get(hb.agentId) ?? existing.get(hb.agentId);
    const row: HostRow = {
      agentId: hb.agentId,
      hostname: hb.hostname,
      intranetIpv4: [...hb.intranetIpv4],
      extranetIpv4: [...hb.extranetIpv4],
      intranetIpv6: [...hb.intranetIpv6],
      extranetIpv6: [...hb.extranetIpv6],
      version: hb.version,
      product: hb.product,
      acAddr: hb.acAddr,
      firstSeenAt: prev ? Math.min(prev.firstSeenAt, hb.at) : hb.at,
      lastSeenAt: prev ? Math.max(prev.lastSeenAt, hb.at) : hb.at,
      facts: hb.plugin === undefined ? { ...hb.fields } : { ...(prev?.facts ?? {}) },
      plugins: { ...(prev?.plugins ?? {}) },
    };
    if (hb.plugin !== undefined) row.plugins[hb.plugin] = { ...hb.fields };
    next.set(hb.agentId, row);
  }
  const addrsChanged = new Set<string>();
  for (const [id, row] of next) {
    const old = existing.get(id);
    if (!old || addrsOf(old).join(" ") !== addrsOf(row).join(" ")) addrsChanged.add(id);
  }
  return { rows: [...next.values()], addrsChanged };
}

/** True for a unique/primary-key violation from bun:sqlite or PostgreSQL, also when drizzle wraps it. */
export function isUniqueViolation(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") return true;
    const msg = (c as { message?: unknown }).message;
    if (typeof msg === "string" && /UNIQUE constraint failed/.test(msg)) return true;
  }
  return false;
}
