// SQLite schema: host tags, one row per (host, tag), indexed by tag for tag filters and task
// targets. Mirrors db/pg/host-tags.ts.
import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { hosts } from "./hosts.ts";

export const hostTags = sqliteTable(
  "host_tags",
  {
    agentId: text("agent_id").notNull().references(() => hosts.agentId, { onDelete: "cascade" }),
    tag: text("tag").notNull(),
  },
  (t) => [primaryKey({ name: "host_tags_pk", columns: [t.agentId, t.tag] }), index("host_tags_tag_idx").on(t.tag, t.agentId)],
);
