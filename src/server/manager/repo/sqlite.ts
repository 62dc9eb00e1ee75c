// The Manager's Repository on SQLite (bun:sqlite through drizzle): WAL, busy_timeout, foreign
// keys on, embedded migrations applied on open; planner statistics kept by PRAGMA optimize at
// open and close and by ANALYZE after growth (repo/stats-upkeep.ts). Keep behaviour equal to repo/postgres.ts.
import { Database } from "bun:sqlite";
import { and, asc, count, desc, eq, gte, isNull, lte, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { applyMigrations } from "../db/migrate.ts";
import { migrations } from "../db/sqlite/migrations/index.ts";
import * as s from "../db/sqlite/schema.ts";
import { isUniqueViolation, newId, pageBounds } from "./common.ts";
import { createStatsUpkeep, type StatsUpkeep } from "./stats-upkeep.ts";
import * as hosts from "./sqlite-hosts.ts";
import type { SqliteDb } from "./sqlite-hosts.ts";
import * as tasks from "./sqlite-tasks.ts";
import {
  ConflictError, type AuditEntry, type AuditFilter, type Component, type ComponentType, type HostFilter, type HostHeartbeat,
  type Page, type Policy, type Repository, type Session, type SubTaskStatus, type Task, type TaskState, type User,
} from "./types.ts";

export async function openSqliteRepository(path: string): Promise<Repository> {
  const client = new Database(path, { create: true, readwrite: true, strict: true });
  try {
    client.exec("PRAGMA journal_mode = WAL");
    client.exec("PRAGMA busy_timeout = 5000");
    client.exec("PRAGMA foreign_keys = ON");
    client.exec("PRAGMA synchronous = NORMAL");
    // ANALYZE samples at most about this many rows per index (bounded cost on big tables)
    client.exec("PRAGMA analysis_limit = 1000");
    const db = drizzle({ client, schema: s });
    await applyMigrations(db, migrations);
    // what SQLite recommends for long-lived connections: analyze what needs it, now
    client.exec("PRAGMA optimize = 0x10002");
    return new SqliteRepository(db, client);
  } catch (e) {
    client.close();
    throw e;
  }
}

/** the tables that grow with the fleet (planner statistics kept current) */
const GROWING = ["hosts", "host_tags", "host_addrs", "sub_tasks", "audit_log"] as const;

class SqliteRepository implements Repository {
  readonly dialect = "sqlite" as const;
  private readonly stats: StatsUpkeep;
  constructor(private readonly db: SqliteDb, private readonly client: Database) {
    this.stats = createStatsUpkeep({
      tables: GROWING,
      analyze: async (tables) => { for (const t of tables) client.exec(`ANALYZE "${t}"`); },
    });
  }
  private grew(g: Record<string, number>) { for (const [t, n] of Object.entries(g)) this.stats.note(t, n); }

  // ---- users and sessions ----
  async createUser(u: Omit<User, "id" | "createdAt" | "updatedAt">): Promise<User> {
    const now = Date.now();
    const user: User = { id: newId(), username: u.username, role: u.role, passwordHash: u.passwordHash, createdAt: now, updatedAt: now };
    try {
      this.db.insert(s.users).values(user).run();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`user ${JSON.stringify(u.username)} already exists`);
      throw e;
    }
    return user;
  }
  async getUserByName(username: string) { return this.db.select().from(s.users).where(eq(s.users.username, username)).get(); }
  async getUser(id: string) { return this.db.select().from(s.users).where(eq(s.users.id, id)).get(); }
  async listUsers() { return this.db.select().from(s.users).orderBy(asc(s.users.username)).all(); }
  async updateUser(id: string, patch: Partial<Pick<User, "role" | "passwordHash">>) {
    const set: Partial<User> = { updatedAt: Date.now() };
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.passwordHash !== undefined) set.passwordHash = patch.passwordHash;
    return this.db.update(s.users).set(set).where(eq(s.users.id, id)).returning().get();
  }
  async deleteUser(id: string) {
    // sessions go with the user (sessions.user_id ON DELETE CASCADE)
    return this.db.delete(s.users).where(eq(s.users.id, id)).returning({ id: s.users.id }).all().length > 0;
  }
  async countUsers() { return this.db.select({ n: count() }).from(s.users).get()?.n ?? 0; }
  async createSession(x: Omit<Session, "revokedAt">) {
    this.db.insert(s.sessions).values({ ...x, revokedAt: null }).run();
  }
  async getSession(tokenHash: string) { return this.db.select().from(s.sessions).where(eq(s.sessions.tokenHash, tokenHash)).get(); }
  async revokeSession(tokenHash: string, at: number) {
    return this.db.update(s.sessions).set({ revokedAt: at }).where(and(eq(s.sessions.tokenHash, tokenHash), isNull(s.sessions.revokedAt)))
      .returning({ t: s.sessions.tokenHash }).all().length > 0;
  }
  async revokeUserSessions(userId: string, at: number) {
    return this.db.update(s.sessions).set({ revokedAt: at }).where(and(eq(s.sessions.userId, userId), isNull(s.sessions.revokedAt)))
      .returning({ t: s.sessions.tokenHash }).all().length;
  }

  // ---- hosts ----
  async recordHeartbeats(hbs: HostHeartbeat[]) { this.grew(hosts.recordHeartbeats(this.db, hbs)); }
  async getHost(agentId: string) { return hosts.getHost(this.db, agentId); }
  async listHosts(f: HostFilter, page: Page, onlineSince: number) { return hosts.listHosts(this.db, f, page, onlineSince); }
  async hostIds(f: HostFilter, onlineSince: number) { return hosts.hostIds(this.db, f, onlineSince); }
  async setTags(agentId: string, tags: string[]) {
    const ok = hosts.setTags(this.db, agentId, tags);
    if (ok) this.grew({ host_tags: tags.length });
    return ok;
  }
  async addTags(agentIds: string[], tags: string[]) {
    const n = hosts.addTags(this.db, agentIds, tags);
    this.grew({ host_tags: n });
    return n;
  }
  async removeTags(agentIds: string[], tags: string[]) { return hosts.removeTags(this.db, agentIds, tags); }
  async countHosts(onlineSince: number) { return hosts.countHosts(this.db, onlineSince); }

  // ---- tasks ----
  async createTask(t: Omit<Task, "id" | "createdAt" | "updatedAt">, agentIds: string[], tokenFor: (agentId: string) => string) {
    const r = tasks.createTask(this.db, t, agentIds, tokenFor);
    this.grew({ sub_tasks: r.subtasks });
    return r;
  }
  async getTask(id: string) { return tasks.getTask(this.db, id); }
  async listTasks(page: Page) { return tasks.listTasks(this.db, page); }
  async setTaskState(id: string, state: TaskState, at: number) { return tasks.setTaskState(this.db, id, state, at); }
  async listSubTasks(taskId: string, page: Page, status?: SubTaskStatus) { return tasks.listSubTasks(this.db, taskId, page, status); }
  async subTaskSummary(taskId: string) { return tasks.subTaskSummary(this.db, taskId); }
  async setSubTasks(taskId: string, agentIds: string[], status: SubTaskStatus, msg: string, at: number) {
    return tasks.setSubTasks(this.db, taskId, agentIds, status, msg, at);
  }
  async completeSubTask(token: string, status: "succeeded" | "failed", msg: string, at: number) { return tasks.completeSubTask(this.db, token, status, msg, at); }
  async expireSubTasks(now: number) { return tasks.expireSubTasks(this.db, now); }
  async cancelTask(id: string, at: number) { return tasks.cancelTask(this.db, id, at); }

  // ---- components and policies ----
  async createComponent(c: Omit<Component, "id" | "createdAt">): Promise<Component> {
    const row: Component = { ...c, id: newId(), createdAt: Date.now() };
    try {
      this.db.insert(s.components).values(row).run();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`component ${JSON.stringify(c.name)} version ${JSON.stringify(c.version)} already exists`);
      throw e;
    }
    return row;
  }
  async getComponent(id: string) { return this.db.select().from(s.components).where(eq(s.components.id, id)).get(); }
  async listComponents(f: { name?: string; type?: ComponentType } = {}) {
    const c: SQL[] = [];
    if (f.name !== undefined) c.push(eq(s.components.name, f.name));
    if (f.type !== undefined) c.push(eq(s.components.type, f.type));
    return this.db.select().from(s.components).where(c.length ? and(...c) : undefined)
      .orderBy(asc(s.components.name), desc(s.components.createdAt), desc(s.components.id)).all();
  }
  async deleteComponent(id: string) { return this.db.delete(s.components).where(eq(s.components.id, id)).returning({ id: s.components.id }).all().length > 0; }
  async setPolicy(p: Policy) {
    const row = { scope: p.scope, components: [...p.components], updatedBy: p.updatedBy, updatedAt: p.updatedAt };
    this.db.insert(s.policies).values(row).onConflictDoUpdate({ target: s.policies.scope, set: row }).run();
  }
  async getPolicy(scope: string) { return this.db.select().from(s.policies).where(eq(s.policies.scope, scope)).get(); }
  async listPolicies() { return this.db.select().from(s.policies).orderBy(asc(s.policies.scope)).all(); }
  async deletePolicy(scope: string) { return this.db.delete(s.policies).where(eq(s.policies.scope, scope)).returning({ s: s.policies.scope }).all().length > 0; }

  // ---- audit ----
  async audit(e: Omit<AuditEntry, "id">) {
    this.db.insert(s.auditLog).values({ ...e, id: newId() }).run();
    this.grew({ audit_log: 1 });
  }
  async listAudit(f: AuditFilter, page: Page) {
    const c: SQL[] = [];
    if (f.actor !== undefined) c.push(eq(s.auditLog.actor, f.actor));
    if (f.action !== undefined) c.push(eq(s.auditLog.action, f.action));
    if (f.since !== undefined) c.push(gte(s.auditLog.at, f.since));
    if (f.until !== undefined) c.push(lte(s.auditLog.at, f.until));
    const where = c.length ? and(...c) : undefined;
    const { limit, offset } = pageBounds(page);
    return this.db.transaction((tx) => ({
      total: tx.select({ n: count() }).from(s.auditLog).where(where).get()?.n ?? 0,
      items: tx.select().from(s.auditLog).where(where).orderBy(desc(s.auditLog.at), desc(s.auditLog.id)).limit(limit).offset(offset).all(),
    }));
  }

  async refreshStats() { await this.stats.refresh(); }

  async close() {
    await this.stats.close();
    try {
      this.client.exec("PRAGMA optimize");
    } finally {
      this.client.close();
    }
  }
}
