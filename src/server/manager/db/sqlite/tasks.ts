// SQLite schema: tasks (one operator request for many agents). Mirrors db/pg/tasks.ts.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { TaskKind, TaskState, TaskTarget } from "../../repo/types.ts";

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<TaskKind>().notNull(),
    dataType: integer("data_type").notNull(),
    objectName: text("object_name").notNull(),
    data: text("data").notNull(),
    target: text("target", { mode: "json" }).$type<TaskTarget>().notNull(),
    state: text("state").$type<TaskState>().notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    timeoutMs: integer("timeout_ms").notNull(),
  },
  (t) => [index("tasks_created_at_idx").on(t.createdAt, t.id)],
);
