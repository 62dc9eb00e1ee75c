// PostgreSQL schema: policies, the desired component set per scope ("all" or "tag:<name>").
// Mirrors db/sqlite/policies.ts.
import { bigint, pgTable, text, jsonb } from "drizzle-orm/pg-core";

export const policies = pgTable("policies", {
  scope: text("scope").primaryKey(),
  components: jsonb("components").$type<string[]>().notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});
