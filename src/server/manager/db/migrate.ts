// Applies the embedded migrations (db/*/migrations/index.ts) through drizzle's own dialect
// migrator, with the hashes and journal times drizzle-kit's file migrator would use, so a database
// migrated by either stays compatible (the __drizzle_migrations table). Idempotent.
import { createHash } from "node:crypto";
import type { MigrationMeta } from "drizzle-orm/migrator";

export interface EmbeddedMigration { tag: string; when: number; breakpoints: boolean; sql: string }

export function toMigrationMeta(ms: EmbeddedMigration[]): MigrationMeta[] {
  return ms.map((m) => ({
    sql: m.sql.split("--> statement-breakpoint"),
    bps: m.breakpoints,
    folderMillis: m.when,
    hash: createHash("sha256").update(m.sql).digest("hex"),
  }));
}

/** The dialect migrator drizzle's migrate() calls (drizzle-orm/<driver>/migrator.js), reached directly. */
interface HasDialect { dialect: { migrate(ms: MigrationMeta[], session: unknown, config: object): unknown }; session: unknown }

export async function applyMigrations(db: unknown, ms: EmbeddedMigration[]): Promise<void> {
  const d = db as HasDialect;
  await d.dialect.migrate(toMigrationMeta(ms), d.session, { migrationsFolder: "(embedded)" });
}
