// PostgreSQL schema: users (operators of the Manager). Mirrors db/sqlite/users.ts.
import { index, bigint, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import type { UserRole } from "../../repo/types.ts";

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    username: text("username").notNull(),
    role: text("role").$type<UserRole>().notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("users_username_uq").on(t.username), index("users_created_at_idx").on(t.createdAt)],
);
