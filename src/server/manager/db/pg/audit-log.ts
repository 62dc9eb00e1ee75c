// PostgreSQL schema: the audit log of every change (who, what, when, from where). Mirrors db/sqlite/audit-log.ts.
import { index, bigint, pgTable, text, jsonb } from "drizzle-orm/pg-core";

export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: bigint("at", { mode: "number" }).notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    detail: jsonb("detail").$type<Record<string, unknown>>().notNull(),
    remoteAddr: text("remote_addr").notNull(),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at, t.id),
    index("audit_log_actor_idx").on(t.actor, t.at),
    index("audit_log_action_idx").on(t.action, t.at),
  ],
);
