// SQLite schema: login sessions, keyed by the sha256 of the bearer token. Mirrors db/pg/sessions.ts.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./users.ts";

export const sessions = sqliteTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    remoteAddr: text("remote_addr").notNull(),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);
