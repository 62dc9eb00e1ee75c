// Runs a route suite once per database dialect (describe.each): SQLite, and PostgreSQL on the
// private server of test/support/postgres.ts (started for the suite, a fresh database per call of
// url()). Pass url() to managerFixture({ url }). Skipped, with the reason, where PostgreSQL is missing.
import { afterAll, beforeAll, describe, test } from "bun:test";
import { hasPostgres, noPostgresReason, startPostgres, type PgServer } from "../../../support/postgres.ts";

export const DIALECTS = ["sqlite", "postgres"] as const;
export type Dialect = (typeof DIALECTS)[number];

export function eachDialect(title: string, body: (url: () => Promise<string | undefined>, dialect: Dialect) => void): void {
  describe.each([...DIALECTS])(`${title} [%s]`, (dialect) => {
    if (dialect === "postgres" && !hasPostgres) {
      test.skip(`skipped: ${noPostgresReason}`, () => {});
      return;
    }
    let pg: PgServer | undefined;
    // started before the suite's first test, outside its time budget
    beforeAll(() => { if (dialect === "postgres") pg = startPostgres(); });
    afterAll(() => pg?.stop());
    body(async () => (dialect === "postgres" ? (pg ??= startPostgres()).createDatabase() : undefined), dialect);
  });
}
