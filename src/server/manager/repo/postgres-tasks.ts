// PostgreSQL repository, tasks part: tasks and their per-agent sub-tasks (used by repo/postgres.ts).
// Keep behaviour equal to repo/sqlite-tasks.ts; test/server/manager/repo runs both.
import { and, asc, count, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import * as s from "../db/pg/schema.ts";
import { chunks, emptySummary, IN_CHUNK, INSERT_CHUNK, newId, pageBounds } from "./common.ts";
import type { PgDb } from "./postgres-hosts.ts";
import { FINAL_SUBTASK_STATES, type Page, type SubTask, type SubTaskStatus, type Task, type TaskState } from "./types.ts";

const FINAL = [...FINAL_SUBTASK_STATES];

export async function createTask(db: PgDb, t: Omit<Task, "id" | "createdAt" | "updatedAt">, agentIds: string[], tokenFor: (agentId: string) => string): Promise<{ task: Task; subtasks: number }> {
  const now = Date.now();
  const task: Task = { ...t, id: newId(), createdAt: now, updatedAt: now };
  const ids = [...new Set(agentIds)];
  const rows = ids.map((agentId) => ({ taskId: task.id, agentId, token: tokenFor(agentId), status: "created" as const, msg: "", updatedAt: now }));
  await db.transaction(async (tx) => {
    await tx.insert(s.tasks).values(task);
    for (const part of chunks(rows, INSERT_CHUNK)) await tx.insert(s.subTasks).values(part);
  });
  return { task, subtasks: ids.length };
}

export async function getTask(db: PgDb, id: string): Promise<Task | undefined> {
  return (await db.select().from(s.tasks).where(eq(s.tasks.id, id)))[0];
}

export async function listTasks(db: PgDb, page: Page): Promise<{ total: number; items: Task[] }> {
  const { limit, offset } = pageBounds(page);
  const [[t], items] = await Promise.all([
    db.select({ n: count() }).from(s.tasks),
    db.select().from(s.tasks).orderBy(desc(s.tasks.createdAt), desc(s.tasks.id)).limit(limit).offset(offset),
  ]);
  return { total: t?.n ?? 0, items };
}

export async function setTaskState(db: PgDb, id: string, state: TaskState, at: number): Promise<boolean> {
  return (await db.update(s.tasks).set({ state, updatedAt: at }).where(eq(s.tasks.id, id)).returning({ id: s.tasks.id })).length > 0;
}

export async function listSubTasks(db: PgDb, taskId: string, page: Page, status?: SubTaskStatus): Promise<{ total: number; items: SubTask[] }> {
  const where = status === undefined ? eq(s.subTasks.taskId, taskId) : and(eq(s.subTasks.taskId, taskId), eq(s.subTasks.status, status));
  const { limit, offset } = pageBounds(page);
  const [[t], items] = await Promise.all([
    db.select({ n: count() }).from(s.subTasks).where(where),
    db.select().from(s.subTasks).where(where).orderBy(asc(s.subTasks.agentId)).limit(limit).offset(offset),
  ]);
  return { total: t?.n ?? 0, items };
}

export async function subTaskSummary(db: PgDb, taskId: string): Promise<Record<SubTaskStatus, number>> {
  const out = emptySummary();
  const rows = await db.select({ status: s.subTasks.status, n: count() }).from(s.subTasks).where(eq(s.subTasks.taskId, taskId)).groupBy(s.subTasks.status);
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export async function setSubTasks(db: PgDb, taskId: string, agentIds: string[], status: SubTaskStatus, msg: string, at: number): Promise<number> {
  return db.transaction(async (tx) => {
    let n = 0;
    for (const ids of chunks([...new Set(agentIds)].sort(), IN_CHUNK)) {
      n += (await tx.update(s.subTasks).set({ status, msg, updatedAt: at })
        .where(and(eq(s.subTasks.taskId, taskId), inArray(s.subTasks.agentId, ids), notInArray(s.subTasks.status, FINAL)))
        .returning({ a: s.subTasks.agentId })).length;
    }
    return n;
  });
}

export async function completeSubTask(db: PgDb, token: string, status: "succeeded" | "failed", msg: string, at: number): Promise<boolean> {
  return (await db.update(s.subTasks).set({ status, msg, updatedAt: at })
    .where(and(eq(s.subTasks.token, token), notInArray(s.subTasks.status, FINAL)))
    .returning({ a: s.subTasks.agentId })).length > 0;
}

export async function expireSubTasks(db: PgDb, now: number): Promise<number> {
  return (await db.update(s.subTasks).set({ status: "timed_out", msg: "timed out", updatedAt: now })
    .where(and(
      inArray(s.subTasks.status, ["created", "sent"]),
      sql`EXISTS (SELECT 1 FROM ${s.tasks} WHERE ${s.tasks.id} = ${s.subTasks.taskId} AND ${s.subTasks.updatedAt} + ${s.tasks.timeoutMs} < ${now})`,
    ))
    .returning({ a: s.subTasks.agentId })).length;
}

export async function cancelTask(db: PgDb, id: string, at: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    if ((await tx.update(s.tasks).set({ state: "cancelled", updatedAt: at }).where(eq(s.tasks.id, id)).returning({ id: s.tasks.id })).length === 0) return false;
    await tx.update(s.subTasks).set({ status: "cancelled", msg: "cancelled", updatedAt: at })
      .where(and(eq(s.subTasks.taskId, id), notInArray(s.subTasks.status, FINAL)));
    return true;
  });
}
