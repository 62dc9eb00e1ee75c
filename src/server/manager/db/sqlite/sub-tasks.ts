// SQLite schema: sub-tasks, one per (task, agent), found again by the token a 5100 result
// carries. Mirrors db/pg/sub-tasks.ts.
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { SubTaskStatus } from "../../repo/types.ts";
import { tasks } from "./tasks.ts";

export const subTasks = sqliteTable(
  "sub_tasks",
  {
    taskId: text("task_id").notNull().references(() => tasks.id, { onDelete: "cascade" }),
    agentId: text("agent_id").notNull(),
    token: text("token").notNull(),
    status: text("status").$type<SubTaskStatus>().notNull(),
    msg: text("msg").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "sub_tasks_pk", columns: [t.taskId, t.agentId] }),
    uniqueIndex("sub_tasks_token_uq").on(t.token),
    index("sub_tasks_task_status_idx").on(t.taskId, t.status),
    index("sub_tasks_agent_id_idx").on(t.agentId),
    index("sub_tasks_status_updated_idx").on(t.status, t.updatedAt),
  ],
);
