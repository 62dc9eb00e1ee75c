// Repository lifecycle, on SQLite and PostgreSQL: restart persistence, migrations applied twice
// are a no-op, two Managers opening one database at once; plus openRepository's URL handling.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { migrations as pgMigrations } from "../../../../src/server/manager/db/pg/migrations/index.ts";
import { migrations as sqliteMigrations } from "../../../../src/server/manager/db/sqlite/migrations/index.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { tempDir } from "../../../harness.ts";
import { componentInput, eachDialect, heartbeat, silentLog, taskInput, type Harness } from "./fixture.ts";

async function appliedMigrations(h: Harness): Promise<number> {
  if (h.dialect === "sqlite") {
    const db = new Database(join(h.dataDir, "manager.db"), { readonly: true });
    try {
      return (db.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const sql = postgres(h.url!, { max: 1, onnotice: () => {} });
  try {
    return Number((await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0].n);
  } finally {
    await sql.end();
  }
}

eachDialect("lifecycle", (h) => {
  test("close and reopen: users, sessions, hosts, tags, tasks, components, policies and audit are all still there", async () => {
    const u = await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h" });
    await h.repo.createSession({ tokenHash: "tok", userId: u.id, createdAt: 1, expiresAt: 2, remoteAddr: "::1" });
    await h.repo.recordHeartbeats([heartbeat({ agentId: "a", at: 5 }), heartbeat({ agentId: "a", at: 6, plugin: "p", fields: { x: "1" } })]);
    await h.repo.setTags("a", ["prod"]);
    const { task } = await h.repo.createTask(taskInput(), ["a"], () => "tk");
    await h.repo.completeSubTask("tk", "succeeded", "done", 7);
    const c = await h.repo.createComponent(componentInput());
    await h.repo.setPolicy({ scope: "all", components: [c.id], updatedBy: "alice", updatedAt: 8 });
    await h.repo.audit({ at: 9, actor: "alice", action: "user.create", target: "alice", detail: { k: 1 }, remoteAddr: "::1" });
    const before = { user: await h.repo.getUser(u.id), host: await h.repo.getHost("a"), task: await h.repo.getTask(task.id) };

    const r = await h.reopen();
    expect(await r.getUser(u.id)).toEqual(before.user);
    expect(await r.getSession("tok")).toMatchObject({ userId: u.id, revokedAt: null });
    expect(await r.getHost("a")).toEqual(before.host!);
    expect((await r.getHost("a"))?.tags).toEqual(["prod"]);
    expect(await r.getTask(task.id)).toEqual(before.task);
    expect(await r.subTaskSummary(task.id)).toMatchObject({ succeeded: 1 });
    expect(await r.getComponent(c.id)).toEqual(c);
    expect(await r.getPolicy("all")).toMatchObject({ components: [c.id] });
    expect((await r.listAudit({}, { page: 1, size: 10 })).items).toMatchObject([{ actor: "alice", detail: { k: 1 } }]);
  });

  test("migrations applied again are a no-op", async () => {
    const expected = h.dialect === "sqlite" ? sqliteMigrations.length : pgMigrations.length;
    expect(await appliedMigrations(h)).toBe(expected);
    await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h" });
    await h.reopen();
    await h.reopen();
    expect(await appliedMigrations(h)).toBe(expected);
    expect(await h.repo.countUsers()).toBe(1);
  });

  test("two Managers opening the same database at once both work", async () => {
    await h.repo.close();
    if (h.pg) h.url = await h.pg.createDatabase(); // an unmigrated database for the race
    const [a, b] = await Promise.all([h.open(), h.open()]);
    try {
      await a.createUser({ username: "x", role: "viewer", passwordHash: "h" });
      expect(await b.countUsers()).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
    h.repo = await h.open();
    expect(await appliedMigrations(h)).toBe(h.dialect === "sqlite" ? sqliteMigrations.length : pgMigrations.length);
  });
});

test("openRepository: SQLite by default (<dataDir>/manager.db) and for sqlite:<path>, relative paths under dataDir", async () => {
  using dir = tempDir();
  const a = await openRepository({ dataDir: join(dir.path, "data"), log: silentLog });
  expect(a.dialect).toBe("sqlite");
  await a.close();
  expect(existsSync(join(dir.path, "data/manager.db"))).toBe(true);
  const b = await openRepository({ url: "sqlite:sub/other.db", dataDir: dir.path, log: silentLog });
  await b.close();
  expect(existsSync(join(dir.path, "sub/other.db"))).toBe(true);
  const c = await openRepository({ url: `sqlite:${join(dir.path, "abs.db")}`, dataDir: "/nonexistent", log: silentLog });
  await c.close();
  expect(existsSync(join(dir.path, "abs.db"))).toBe(true);
});

test("openRepository: a bad URL names database.url", async () => {
  using dir = tempDir();
  for (const url of ["mysql://u:p@localhost/db", "file.db", "postgres://", "sqlite:"]) {
    await expect(openRepository({ url, dataDir: dir.path, log: silentLog })).rejects.toThrow(/database\.url/);
  }
});

test("openRepository: an unreachable PostgreSQL fails with database.url and no password", async () => {
  using dir = tempDir();
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true); // nothing listens there now
  const err = await openRepository({ url: `postgres://vigil:s3cret@127.0.0.1:${port}/x`, dataDir: dir.path, log: silentLog }).catch((e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(/^database\.url: cannot use the PostgreSQL database postgres:\/\/vigil:\*\*\*@127\.0\.0\.1/);
  expect((err as Error).message).not.toContain("s3cret");
});

test("openRepository: an unwritable SQLite path names database.url", async () => {
  using dir = tempDir();
  await expect(openRepository({ url: "sqlite:/proc/vigil/manager.db", dataDir: dir.path, log: silentLog })).rejects.toThrow(/^database\.url: cannot open the SQLite database/);
});
