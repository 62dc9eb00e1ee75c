// PostgreSQL schema: tasks (one operator request for many agents). Mirrors db/sqlite/tasks.ts.
import { index, bigint, integer, pgTable, text, jsonb } from "drizzle-orm/pg-core";
import type { TaskKind, TaskState, TaskTarget } from "../../repo/types.ts";

export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<TaskKind>().notNull(),
    dataType: integer("data_type").notNull(),
    objectName: text("object_name").notNull(),
    data: text("data").notNull(),
    target: jsonb("target").$type<TaskTarget>().notNull(),
    state: text("state").$type<TaskState>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
    timeoutMs: bigint("timeout_ms", { mode: "number" }).notNull(),
  },
  (t) => [index("tasks_created_at_idx").on(t.createdAt, t.id)],
);
