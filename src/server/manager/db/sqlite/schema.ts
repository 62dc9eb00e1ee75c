// The Manager's SQLite schema: every table, for drizzle-kit (drizzle-sqlite.config.ts) and repo/sqlite.ts.
// Keep the table set equal to db/pg/schema.ts.
export { users } from "./users.ts";
export { sessions } from "./sessions.ts";
export { hosts } from "./hosts.ts";
export { hostTags } from "./host-tags.ts";
export { hostAddrs } from "./host-addrs.ts";
export { tasks } from "./tasks.ts";
export { subTasks } from "./sub-tasks.ts";
export { components } from "./components.ts";
export { policies } from "./policies.ts";
export { auditLog } from "./audit-log.ts";
