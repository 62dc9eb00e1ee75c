// SQLite repository, tasks part: tasks and their per-agent sub-tasks (used by repo/sqlite.ts).
// Keep behaviour equal to repo/postgres-tasks.ts; test/server/manager/repo runs both.
import { and, asc, count, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import * as s from "../db/sqlite/schema.ts";
import { chunks, emptySummary, IN_CHUNK, INSERT_CHUNK, newId, pageBounds } from "./common.ts";
import type { SqliteDb } from "./sqlite-hosts.ts";
import { FINAL_SUBTASK_STATES, type Page, type SubTask, type SubTaskStatus, type Task, type TaskState } from "./types.ts";

const FINAL = [...FINAL_SUBTASK_STATES];

export function createTask(db: SqliteDb, t: Omit<Task, "id" | "createdAt" | "updatedAt">, agentIds: string[], tokenFor: (agentId: string) => string): { task: Task; subtasks: number } {
  const now = Date.now();
  const task: Task = { ...t, id: newId(), createdAt: now, updatedAt: now };
  const ids = [...new Set(agentIds)];
  const rows = ids.map((agentId) => ({ taskId: task.id, agentId, token: tokenFor(agentId), status: "created" as const, msg: "", updatedAt: now }));
  db.transaction((tx) => {
    tx.insert(s.tasks).values(task).run();
    for (const part of chunks(rows, INSERT_CHUNK)) tx.insert(s.subTasks).values(part).run();
  }, { behavior: "immediate" });
  return { task, subtasks: ids.length };
}

export function getTask(db: SqliteDb, id: string): Task | undefined {
  return db.select().from(s.tasks).where(eq(s.tasks.id, id)).get();
}

export function listTasks(db: SqliteDb, page: Page): { total: number; items: Task[] } {
  const { limit, offset } = pageBounds(page);
  return db.transaction((tx) => ({
    total: tx.select({ n: count() }).from(s.tasks).get()?.n ?? 0,
    items: tx.select().from(s.tasks).orderBy(desc(s.tasks.createdAt), desc(s.tasks.id)).limit(limit).offset(offset).all(),
  }));
}

export function setTaskState(db: SqliteDb, id: string, state: TaskState, at: number): boolean {
  return db.update(s.tasks).set({ state, updatedAt: at }).where(eq(s.tasks.id, id)).returning({ id: s.tasks.id }).all().length > 0;
}

export function listSubTasks(db: SqliteDb, taskId: string, page: Page, status?: SubTaskStatus): { total: number; items: SubTask[] } {
  const where = status === undefined ? eq(s.subTasks.taskId, taskId) : and(eq(s.subTasks.taskId, taskId), eq(s.subTasks.status, status));
  const { limit, offset } = pageBounds(page);
  return db.transaction((tx) => ({
    total: tx.select({ n: count() }).from(s.subTasks).where(where).get()?.n ?? 0,
    items: tx.select().from(s.subTasks).where(where).orderBy(asc(s.subTasks.agentId)).limit(limit).offset(offset).all(),
  }));
}

export function subTaskSummary(db: SqliteDb, taskId: string): Record<SubTaskStatus, number> {
  const out = emptySummary();
  const rows = db.select({ status: s.subTasks.status, n: count() }).from(s.subTasks).where(eq(s.subTasks.taskId, taskId)).groupBy(s.subTasks.status).all();
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export function setSubTasks(db: SqliteDb, taskId: string, agentIds: string[], status: SubTaskStatus, msg: string, at: number): number {
  return db.transaction((tx) => {
    let n = 0;
    for (const ids of chunks([...new Set(agentIds)], IN_CHUNK)) {
      n += tx.update(s.subTasks).set({ status, msg, updatedAt: at })
        .where(and(eq(s.subTasks.taskId, taskId), inArray(s.subTasks.agentId, ids), notInArray(s.subTasks.status, FINAL)))
        .returning({ a: s.subTasks.agentId }).all().length;
    }
    return n;
  }, { behavior: "immediate" });
}

export function completeSubTask(db: SqliteDb, token: string, status: "succeeded" | "failed", msg: string, at: number): boolean {
  return db.update(s.subTasks).set({ status, msg, updatedAt: at })
    .where(and(eq(s.subTasks.token, token), notInArray(s.subTasks.status, FINAL)))
    .returning({ a: s.subTasks.agentId }).all().length > 0;
}

export function expireSubTasks(db: SqliteDb, now: number): number {
  return db.update(s.subTasks).set({ status: "timed_out", msg: "timed out", updatedAt: now })
    .where(and(
      inArray(s.subTasks.status, ["created", "sent"]),
      sql`EXISTS (SELECT 1 FROM ${s.tasks} WHERE ${s.tasks.id} = ${s.subTasks.taskId} AND ${s.subTasks.updatedAt} + ${s.tasks.timeoutMs} < ${now})`,
    ))
    .returning({ a: s.subTasks.agentId }).all().length;
}

export function cancelTask(db: SqliteDb, id: string, at: number): boolean {
  return db.transaction((tx) => {
    if (tx.update(s.tasks).set({ state: "cancelled", updatedAt: at }).where(eq(s.tasks.id, id)).returning({ id: s.tasks.id }).all().length === 0) return false;
    tx.update(s.subTasks).set({ status: "cancelled", msg: "cancelled", updatedAt: at })
      .where(and(eq(s.subTasks.taskId, id), notInArray(s.subTasks.status, FINAL))).run();
    return true;
  }, { behavior: "immediate" });
}
