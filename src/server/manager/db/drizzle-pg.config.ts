// drizzle-kit config for the Manager's PostgreSQL schema (run from the repository root; see db/generate.ts).
// Pairs with drizzle-sqlite.config.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/server/manager/db/pg/schema.ts",
  out: "./src/server/manager/db/pg/migrations",
});
