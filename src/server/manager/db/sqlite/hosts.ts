// SQLite schema: hosts, the inventory kept from agent (1000) and plugin (1001) heartbeats.
// Address lists, facts and plugins are JSON text. Mirrors db/pg/hosts.ts.
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const hosts = sqliteTable(
  "hosts",
  {
    agentId: text("agent_id").primaryKey(),
    hostname: text("hostname").notNull(),
    intranetIpv4: text("intranet_ipv4", { mode: "json" }).$type<string[]>().notNull(),
    extranetIpv4: text("extranet_ipv4", { mode: "json" }).$type<string[]>().notNull(),
    intranetIpv6: text("intranet_ipv6", { mode: "json" }).$type<string[]>().notNull(),
    extranetIpv6: text("extranet_ipv6", { mode: "json" }).$type<string[]>().notNull(),
    version: text("version").notNull(),
    product: text("product").notNull(),
    acAddr: text("ac_addr").notNull(),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    facts: text("facts", { mode: "json" }).$type<Record<string, string>>().notNull(),
    plugins: text("plugins", { mode: "json" }).$type<Record<string, Record<string, string>>>().notNull(),
  },
  (t) => [
    index("hosts_hostname_idx").on(t.hostname, t.agentId),
    index("hosts_last_seen_at_idx").on(t.lastSeenAt),
    index("hosts_version_idx").on(t.version),
  ],
);
