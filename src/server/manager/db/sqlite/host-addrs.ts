// SQLite schema: every address of a host (all four lists), indexed for the exact-IP host filter.
// Derived from hosts' address columns by the repository. Mirrors db/pg/host-addrs.ts.
import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { hosts } from "./hosts.ts";

export const hostAddrs = sqliteTable(
  "host_addrs",
  {
    agentId: text("agent_id").notNull().references(() => hosts.agentId, { onDelete: "cascade" }),
    addr: text("addr").notNull(),
  },
  (t) => [primaryKey({ name: "host_addrs_pk", columns: [t.agentId, t.addr] }), index("host_addrs_addr_idx").on(t.addr)],
);
