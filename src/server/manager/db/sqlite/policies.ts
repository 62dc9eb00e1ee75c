// SQLite schema: policies, the desired component set per scope ("all" or "tag:<name>").
// Mirrors db/pg/policies.ts.
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const policies = sqliteTable("policies", {
  scope: text("scope").primaryKey(),
  components: text("components", { mode: "json" }).$type<string[]>().notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
