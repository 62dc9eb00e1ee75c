// The Manager's Repository on PostgreSQL (postgres-js through drizzle, server NOTICEs silenced):
// embedded migrations applied on open under an advisory lock; planner statistics refreshed by
// ANALYZE after growth, ahead of autovacuum (repo/stats-upkeep.ts). Keep behaviour equal to repo/sqlite.ts.
import { and, asc, count, desc, eq, gte, isNull, lte, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { applyMigrations } from "../db/migrate.ts";
import { migrations } from "../db/pg/migrations/index.ts";
import * as s from "../db/pg/schema.ts";
import { isUniqueViolation, newId, pageBounds } from "./common.ts";
import { createStatsUpkeep, type StatsUpkeep } from "./stats-upkeep.ts";
import * as hosts from "./postgres-hosts.ts";
import type { PgDb } from "./postgres-hosts.ts";
import * as tasks from "./postgres-tasks.ts";
import {
  ConflictError, type AuditEntry, type AuditFilter, type Component, type ComponentType, type HostFilter, type HostHeartbeat,
  type Page, type Policy, type Repository, type Session, type SubTaskStatus, type Task, type TaskState, type User,
} from "./types.ts";

/** pg_advisory_lock key serialising migrations of Managers that start at the same time ("vigilmgr") */
const MIGRATION_LOCK = 0x76696769_6c6d6772n;

export interface PgOptions { max?: number; connectTimeoutS?: number }

export async function openPostgresRepository(url: string, o: PgOptions = {}): Promise<Repository> {
  const opts = { onnotice: () => {}, connect_timeout: o.connectTimeoutS ?? 10, connection: { application_name: "vigil-manager" } };
  // migrations on one dedicated connection, so the session-level advisory lock covers them
  const mig = postgres(url, { ...opts, max: 1 });
  try {
    await mig`SELECT pg_advisory_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await applyMigrations(drizzle({ client: mig }), migrations);
    await mig`SELECT pg_advisory_unlock(${MIGRATION_LOCK.toString()}::bigint)`;
  } finally {
    await mig.end({ timeout: 5 });
  }
  const client = postgres(url, { ...opts, max: o.max ?? 10 });
  return new PostgresRepository(drizzle({ client, schema: s }), client);
}

/** the tables that grow with the fleet (planner statistics kept current) */
const GROWING = ["hosts", "host_tags", "host_addrs", "sub_tasks", "audit_log"] as const;

class PostgresRepository implements Repository {
  readonly dialect = "postgres" as const;
  private readonly stats: StatsUpkeep;
  constructor(private readonly db: PgDb, private readonly client: postgres.Sql) {
    this.stats = createStatsUpkeep({
      tables: GROWING,
      analyze: async (tables) => { await client.unsafe(`ANALYZE ${tables.map((t) => `"${t}"`).join(", ")}`); },
    });
  }
  private grew(g: Record<string, number>) { for (const [t, n] of Object.entries(g)) this.stats.note(t, n); }

  // ---- users and sessions ----
  async createUser(u: Omit<User, "id" | "createdAt" | "updatedAt">): Promise<User> {
    const now = Date.now();
    const user: User = { id: newId(), username: u.username, role: u.role, passwordHash: u.passwordHash, createdAt: now, updatedAt: now };
    try {
      await this.db.insert(s.users).values(user);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`user ${JSON.stringify(u.username)} already exists`);
      throw e;
    }
    return user;
  }
  async getUserByName(username: string) { return (await this.db.select().from(s.users).where(eq(s.users.username, username)))[0]; }
  async getUser(id: string) { return (await this.db.select().from(s.users).where(eq(s.users.id, id)))[0]; }
  async listUsers() { return this.db.select().from(s.users).orderBy(asc(s.users.username)); }
  async updateUser(id: string, patch: Partial<Pick<User, "role" | "passwordHash">>) {
    const set: Partial<User> = { updatedAt: Date.now() };
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.passwordHash !== undefined) set.passwordHash = patch.passwordHash;
    return (await this.db.update(s.users).set(set).where(eq(s.users.id, id)).returning())[0];
  }
  async deleteUser(id: string) {
    // sessions go with the user (sessions.user_id ON DELETE CASCADE)
    return (await this.db.delete(s.users).where(eq(s.users.id, id)).returning({ id: s.users.id })).length > 0;
  }
  async countUsers() { return this.db.select({ n: count() }).from(s.users).then((r) => r[0]?.n ?? 0); }
  async createSession(x: Omit<Session, "revokedAt">) {
    await this.db.insert(s.sessions).values({ ...x, revokedAt: null });
  }
  async getSession(tokenHash: string) { return (await this.db.select().from(s.sessions).where(eq(s.sessions.tokenHash, tokenHash)))[0]; }
  async revokeSession(tokenHash: string, at: number) {
    return (await this.db.update(s.sessions).set({ revokedAt: at }).where(and(eq(s.sessions.tokenHash, tokenHash), isNull(s.sessions.revokedAt)))
      .returning({ t: s.sessions.tokenHash })).length > 0;
  }
  async revokeUserSessions(userId: string, at: number) {
    return (await this.db.update(s.sessions).set({ revokedAt: at }).where(and(eq(s.sessions.userId, userId), isNull(s.sessions.revokedAt)))
      .returning({ t: s.sessions.tokenHash })).length;
  }

  // ---- hosts ----
  async recordHeartbeats(hbs: HostHeartbeat[]) { this.grew(await hosts.recordHeartbeats(this.db, hbs)); }
  async getHost(agentId: string) { return hosts.getHost(this.db, agentId); }
  async listHosts(f: HostFilter, page: Page, onlineSince: number) { return hosts.listHosts(this.db, f, page, onlineSince); }
  async hostIds(f: HostFilter, onlineSince: number) { return hosts.hostIds(this.db, f, onlineSince); }
  async setTags(agentId: string, tags: string[]) {
    const ok = await hosts.setTags(this.db, agentId, tags);
    if (ok) this.grew({ host_tags: tags.length });
    return ok;
  }
  async addTags(agentIds: string[], tags: string[]) {
    const n = await hosts.addTags(this.db, agentIds, tags);
    this.grew({ host_tags: n });
    return n;
  }
  async removeTags(agentIds: string[], tags: string[]) { return hosts.removeTags(this.db, agentIds, tags); }
  async countHosts(onlineSince: number) { return hosts.countHosts(this.db, onlineSince); }

  // ---- tasks ----
  async createTask(t: Omit<Task, "id" | "createdAt" | "updatedAt">, agentIds: string[], tokenFor: (agentId: string) => string) {
    const r = await tasks.createTask(this.db, t, agentIds, tokenFor);
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
      await this.db.insert(s.components).values(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`component ${JSON.stringify(c.name)} version ${JSON.stringify(c.version)} already exists`);
      throw e;
    }
    return row;
  }
  async getComponent(id: string) { return (await this.db.select().from(s.components).where(eq(s.components.id, id)))[0]; }
  async listComponents(f: { name?: string; type?: ComponentType } = {}) {
    const c: SQL[] = [];
    if (f.name !== undefined) c.push(eq(s.components.name, f.name));
    if (f.type !== undefined) c.push(eq(s.components.type, f.type));
    return this.db.select().from(s.components).where(c.length ? and(...c) : undefined)
      .orderBy(asc(s.components.name), desc(s.components.createdAt), desc(s.components.id));
  }
  async deleteComponent(id: string) { return (await this.db.delete(s.components).where(eq(s.components.id, id)).returning({ id: s.components.id })).length > 0; }
  async setPolicy(p: Policy) {
    const row = { scope: p.scope, components: [...p.components], updatedBy: p.updatedBy, updatedAt: p.updatedAt };
    await this.db.insert(s.policies).values(row).onConflictDoUpdate({ target: s.policies.scope, set: row });
  }
  async getPolicy(scope: string) { return (await this.db.select().from(s.policies).where(eq(s.policies.scope, scope)))[0]; }
  async listPolicies() { return this.db.select().from(s.policies).orderBy(asc(s.policies.scope)); }
  async deletePolicy(scope: string) { return (await this.db.delete(s.policies).where(eq(s.policies.scope, scope)).returning({ s: s.policies.scope })).length > 0; }

  // ---- audit ----
  async audit(e: Omit<AuditEntry, "id">) {
    await this.db.insert(s.auditLog).values({ ...e, id: newId() });
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
    const [[t], items] = await Promise.all([
      this.db.select({ n: count() }).from(s.auditLog).where(where),
      this.db.select().from(s.auditLog).where(where).orderBy(desc(s.auditLog.at), desc(s.auditLog.id)).limit(limit).offset(offset),
    ]);
    return { total: t?.n ?? 0, items };
  }

  async refreshStats() { await this.stats.refresh(); }

  async close() {
    await this.stats.close();
    await this.client.end({ timeout: 5 });
  }
}
