// Drift check: the committed migrations (db/sqlite/migrations, db/pg/migrations) must match the
// drizzle schemas, and each migrations/index.ts must embed exactly the journal's SQL files.
// On failure, regenerate: `node_modules/.bin/bun src/server/manager/db/generate.ts --name <change>`.
import { expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DIALECTS, renderIndex, repoRoot, type JournalEntry } from "../../../../src/server/manager/db/generate.ts";
import postgres from "postgres";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { tempDir } from "../../../harness.ts";
import { hasPostgres, startPostgres } from "../../../support/postgres.ts";
import { silentLog } from "./fixture.ts";

const KIT_DIALECT = { sqlite: "sqlite", pg: "postgresql" } as const;

for (const d of DIALECTS) {
  const dir = join(repoRoot, d.dir);
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: JournalEntry[] };

  test(`${d.label}: drizzle-kit generate finds no schema changes against the committed migrations`, async () => {
    using tmp = tempDir("vigil-drift-");
    cpSync(dir, tmp.path, { recursive: true });
    const before = readdirSync(tmp.path).sort();
    const p = Bun.spawn([join(repoRoot, "node_modules/.bin/drizzle-kit"), "generate", "--dialect", KIT_DIALECT[d.name], "--schema", `./src/server/manager/db/${d.name}/schema.ts`, "--out", relative(repoRoot, tmp.path)], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    const added = readdirSync(tmp.path).sort().filter((f) => !before.includes(f));
    expect(added, `schema drift: drizzle-kit would write ${added.join(", ")}; run src/server/manager/db/generate.ts and commit the result`).toEqual([]);
    expect(out).toContain("No schema changes");
  });

  test(`${d.label}: migrations/index.ts embeds every journal entry`, () => {
    expect(readFileSync(join(dir, "index.ts"), "utf8")).toBe(renderIndex(d.label, journal));
    for (const e of journal.entries) expect(existsSync(join(dir, `${e.tag}.sql`))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith(".sql")).length).toBe(journal.entries.length);
  });
}

// 0001_host_list_indexes creates the trigram index only where pg_trgm can be had (Debian's
// postgresql-15 ships it): on the test server it must be there.
test.skipIf(!hasPostgres)("PostgreSQL: the hostname filter's trigram index exists after migration", async () => {
  const pg = startPostgres();
  try {
    const url = await pg.createDatabase();
    const repo = await openRepository({ url, dataDir: "/nonexistent", log: silentLog });
    await repo.close();
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const idx = await sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'hosts_hostname_trgm_idx'`;
      expect(idx.map((r) => r.indexdef as string)).toEqual([expect.stringContaining("USING gin (hostname gin_trgm_ops)")]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  } finally {
    pg.stop();
  }
});
