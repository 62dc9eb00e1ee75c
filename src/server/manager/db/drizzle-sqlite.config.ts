// drizzle-kit config for the Manager's SQLite schema (run from the repository root; see db/generate.ts).
// Pairs with drizzle-pg.config.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/server/manager/db/sqlite/schema.ts",
  out: "./src/server/manager/db/sqlite/migrations",
});
