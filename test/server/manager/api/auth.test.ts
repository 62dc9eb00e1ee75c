// Login, tokens (both headers), logout, rate limiting, the first-start admin, and user CRUD.
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../../../src/common/log.ts";
import { ensureAdmin } from "../../../../src/server/manager/auth/bootstrap.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { tempDir } from "../../../harness.ts";
import { managerFixture, PASSWORD, quietLog } from "../support/fixture.ts";
import { eachDialect } from "../support/dialects.ts";

const login = (f: Awaited<ReturnType<typeof managerFixture>>, username: string, password: string) =>
  f.call("POST", "/api/v1/user/login", { body: { username, password } });

eachDialect("auth", (url) => {
  test("login gives a token accepted in `token` and as Bearer; logout revokes it", async () => {
    await using f = await managerFixture({ url: await url() });
    const r = await login(f, "operator1", PASSWORD);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    expect(r.body.data.role).toBe("operator");
    expect(r.body.data.expires_at).toBeGreaterThan(Date.now());
    const token = r.body.data.token as string;
    expect((await f.call("GET", "/api/v1/user/me", { token })).body.data.username).toBe("operator1");
    const bearer = await f.call("GET", "/api/v1/user/me", { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(200);
    expect((await f.call("POST", "/api/v1/user/logout", { token })).status).toBe(200);
    const after = await f.call("GET", "/api/v1/user/me", { token });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ code: 401, msg: expect.stringContaining("revoked") });
    expect((await f.call("GET", "/api/v1/user/me", { token: "forged" })).status).toBe(401);
    const actions = (await f.repo.listAudit({}, { page: 1, size: 100 })).items.map((e) => e.action);
    expect(actions).toContain("user.login");
    expect(actions).toContain("user.logout");
  });

  test("wrong password and unknown user get the same 401", async () => {
    await using f = await managerFixture({ url: await url() });
    const a = await login(f, "viewer1", "wrong-password");
    const b = await login(f, "nobody", "wrong-password");
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body).toEqual(b.body);
  });

  test("user CRUD is for admins; bad input changes nothing", async () => {
    await using f = await managerFixture({ url: await url() });
    const body = { username: "alice", password: "alice-password", role: "viewer" };
    expect((await f.call("POST", "/api/v1/users", { body })).status).toBe(401);
    expect((await f.call("POST", "/api/v1/users", { token: f.tokens.operator, body })).status).toBe(403);
    const before = (await f.repo.listUsers()).length;
    for (const bad of [
      { ...body, role: "root" },
      { ...body, password: "short" },
      { ...body, username: "alice'; DROP TABLE users; --" },
      { ...body, is_admin: true },
      { ...body, username: 42 },
    ]) {
      const r = await f.call("POST", "/api/v1/users", { token: f.tokens.admin, body: bad });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe(400);
      expect(r.body.msg).toMatch(/^bad request: body/);
    }
    expect((await f.repo.listUsers()).length).toBe(before);
    const created = await f.call("POST", "/api/v1/users", { token: f.tokens.admin, body });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({ username: "alice", role: "viewer" });
    expect(JSON.stringify(created.body)).not.toContain("argon2");
    expect((await f.call("POST", "/api/v1/users", { token: f.tokens.admin, body })).status).toBe(409);
    const id = created.body.data.id;
    const tok = (await login(f, "alice", "alice-password")).body.data.token;
    expect((await f.call("PATCH", `/api/v1/users/${id}`, { token: f.tokens.admin, body: { password: "new-alice-password", role: "operator" } })).status).toBe(200);
    expect((await f.call("GET", "/api/v1/user/me", { token: tok })).status).toBe(401); // sessions revoked
    expect((await login(f, "alice", "new-alice-password")).body.data.role).toBe("operator");
    expect((await f.call("DELETE", `/api/v1/users/${id}`, { token: f.tokens.admin })).status).toBe(200);
    expect((await f.call("DELETE", `/api/v1/users/${id}`, { token: f.tokens.admin })).status).toBe(404);
    const admin = (await f.repo.getUserByName("admin1"))!;
    expect((await f.call("DELETE", `/api/v1/users/${admin.id}`, { token: f.tokens.admin })).status).toBe(409);
    const audit = await f.call("GET", "/api/v1/audit?action=user.create", { token: f.tokens.admin });
    expect(audit.body.data.items.map((e: any) => e.target)).toContain("alice");
    expect(audit.body.data.items[0]).toMatchObject({ actor: "admin1", remote_addr: "local" });
    expect((await f.call("GET", "/api/v1/audit", { token: f.tokens.operator })).status).toBe(403);
  });
});


describe("login rate limiting", () => {
  test("5 failures for one user → 429 with Retry-After, even with the right password", async () => {
    await using f = await managerFixture();
    for (let i = 0; i < 5; i++) expect((await login(f, "viewer1", `wrong-${i}`)).status).toBe(401);
    const r = await login(f, "viewer1", PASSWORD);
    expect(r.status).toBe(429);
    expect(r.body.code).toBe(429);
    expect(Number(r.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await f.repo.listAudit({ action: "user.login_failed" }, { page: 1, size: 10 })).total).toBe(5);
  });

  test("5 failures from one address → 429 for any user from it", async () => {
    await using f = await managerFixture();
    for (let i = 0; i < 5; i++) await login(f, `ghost${i}`, "whatever-pass");
    expect((await login(f, "operator1", PASSWORD)).status).toBe(429);
  });
});

describe("first start", () => {
  test("creates admin with the configured password, once", async () => {
    using d = tempDir();
    const repo = await openRepository({ dataDir: d.path, log: quietLog });
    expect(await ensureAdmin({ repo, password: "configured-pass", log: quietLog })).toEqual({ created: true, generated: false });
    expect((await repo.getUserByName("admin"))?.role).toBe("admin");
    expect((await ensureAdmin({ repo, password: "other-password", log: quietLog })).created).toBe(false);
    expect(await repo.countUsers()).toBe(1);
    await repo.close();
  });

  test("generates a password, prints it once to the log, and it logs in", async () => {
    using d = tempDir();
    const lines: string[] = [];
    const log = createLogger({ component: "t", level: "info", format: "json", write: (l) => lines.push(l) });
    const saved = process.env.VIGIL_ADMIN_PASSWORD;
    delete process.env.VIGIL_ADMIN_PASSWORD;
    try {
      await using f = await managerFixture();
      const repo = f.repo;
      for (const u of await repo.listUsers()) await repo.deleteUser(u.id);
      expect((await ensureAdmin({ repo, log })).generated).toBe(true);
      await ensureAdmin({ repo, log });
      const withPw = lines.map((l) => JSON.parse(l)).filter((e) => e.password);
      expect(withPw.length).toBe(1);
      expect((await login(f, "admin", withPw[0].password)).status).toBe(200);
    } finally {
      if (saved !== undefined) process.env.VIGIL_ADMIN_PASSWORD = saved;
    }
    void d;
  });
});
