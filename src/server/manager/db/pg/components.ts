// PostgreSQL schema: uploaded component versions (the agent or a plugin). Mirrors db/sqlite/components.ts.
import { index, bigint, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import type { ComponentType } from "../../repo/types.ts";

export const components = pgTable(
  "components",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    type: text("type").$type<ComponentType>().notNull(),
    version: text("version").notNull(),
    sha256: text("sha256").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    path: text("path").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("components_name_version_uq").on(t.name, t.version), index("components_type_idx").on(t.type)],
);
