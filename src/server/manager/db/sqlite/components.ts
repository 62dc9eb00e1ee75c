// SQLite schema: uploaded component versions (the agent or a plugin). Mirrors db/pg/components.ts.
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ComponentType } from "../../repo/types.ts";

export const components = sqliteTable(
  "components",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    type: text("type").$type<ComponentType>().notNull(),
    version: text("version").notNull(),
    sha256: text("sha256").notNull(),
    size: integer("size").notNull(),
    path: text("path").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("components_name_version_uq").on(t.name, t.version), index("components_type_idx").on(t.type)],
);
