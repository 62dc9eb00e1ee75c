// PostgreSQL schema: hosts, the inventory kept from agent (1000) and plugin (1001) heartbeats.
// Address lists, facts and plugins are jsonb. Mirrors db/sqlite/hosts.ts, except for the trigram
// index (PostgreSQL only; its migration creates it only where the pg_trgm extension can be had).
import { index, bigint, pgTable, text, jsonb } from "drizzle-orm/pg-core";

export const hosts = pgTable(
  "hosts",
  {
    agentId: text("agent_id").primaryKey(),
    hostname: text("hostname").notNull(),
    intranetIpv4: jsonb("intranet_ipv4").$type<string[]>().notNull(),
    extranetIpv4: jsonb("extranet_ipv4").$type<string[]>().notNull(),
    intranetIpv6: jsonb("intranet_ipv6").$type<string[]>().notNull(),
    extranetIpv6: jsonb("extranet_ipv6").$type<string[]>().notNull(),
    version: text("version").notNull(),
    product: text("product").notNull(),
    acAddr: text("ac_addr").notNull(),
    firstSeenAt: bigint("first_seen_at", { mode: "number" }).notNull(),
    lastSeenAt: bigint("last_seen_at", { mode: "number" }).notNull(),
    facts: jsonb("facts").$type<Record<string, string>>().notNull(),
    plugins: jsonb("plugins").$type<Record<string, Record<string, string>>>().notNull(),
  },
  (t) => [
    index("hosts_hostname_idx").on(t.hostname, t.agentId),
    index("hosts_last_seen_at_idx").on(t.lastSeenAt),
    index("hosts_version_idx").on(t.version),
    // the hostname substring filter (ILIKE '%term%'): a seq scan without it; see migrations/0001_host_list_indexes.sql
    index("hosts_hostname_trgm_idx").using("gin", t.hostname.op("gin_trgm_ops")),
  ],
);
