// PostgreSQL schema: login sessions, keyed by the sha256 of the bearer token. Mirrors db/sqlite/sessions.ts.
import { index, bigint, pgTable, text } from "drizzle-orm/pg-core";
import { users } from "./users.ts";

export const sessions = pgTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    revokedAt: bigint("revoked_at", { mode: "number" }),
    remoteAddr: text("remote_addr").notNull(),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);
