// Repository users and sessions, on SQLite and PostgreSQL: CRUD, conflicts, revocation.
import { expect, test } from "bun:test";
import { ConflictError } from "../../../../src/server/manager/repo/types.ts";
import { eachDialect, HOSTILE } from "./fixture.ts";

eachDialect("users and sessions", (h) => {
  test("create, get by name and id, list, count", async () => {
    const a = await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h1" });
    await h.repo.createUser({ username: "bob", role: "viewer", passwordHash: "h2" });
    expect(a.id).toBeString();
    expect(a.createdAt).toBe(a.updatedAt);
    expect(await h.repo.getUserByName("alice")).toEqual(a);
    expect(await h.repo.getUser(a.id)).toEqual(a);
    expect(await h.repo.getUserByName("nobody")).toBeUndefined();
    expect(await h.repo.getUser("missing")).toBeUndefined();
    expect((await h.repo.listUsers()).map((u) => u.username)).toEqual(["alice", "bob"]);
    expect(await h.repo.countUsers()).toBe(2);
  });

  test("a taken username is a ConflictError and changes nothing", async () => {
    await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h1" });
    const err = await h.repo.createUser({ username: "alice", role: "viewer", passwordHash: "h2" }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(String(err.message)).toContain("alice");
    expect(await h.repo.countUsers()).toBe(1);
    expect((await h.repo.getUserByName("alice"))?.role).toBe("admin");
  });

  test("update role and password hash", async () => {
    const a = await h.repo.createUser({ username: "alice", role: "viewer", passwordHash: "h1" });
    await Bun.sleep(2);
    const u = await h.repo.updateUser(a.id, { role: "operator" });
    expect(u?.role).toBe("operator");
    expect(u?.passwordHash).toBe("h1");
    expect(u!.updatedAt).toBeGreaterThan(a.updatedAt);
    expect((await h.repo.updateUser(a.id, { passwordHash: "h2" }))?.passwordHash).toBe("h2");
    expect((await h.repo.getUser(a.id))?.role).toBe("operator");
    expect(await h.repo.updateUser("missing", { role: "admin" })).toBeUndefined();
  });

  test("sessions: create, get, revoke once, revoke all of a user", async () => {
    const a = await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h" });
    await h.repo.createSession({ tokenHash: "t1", userId: a.id, createdAt: 10, expiresAt: 1000, remoteAddr: "192.0.2.1" });
    await h.repo.createSession({ tokenHash: "t2", userId: a.id, createdAt: 11, expiresAt: 1000, remoteAddr: "192.0.2.2" });
    await h.repo.createSession({ tokenHash: "t3", userId: a.id, createdAt: 12, expiresAt: 1000, remoteAddr: "::1" });
    expect(await h.repo.getSession("t1")).toEqual({ tokenHash: "t1", userId: a.id, createdAt: 10, expiresAt: 1000, revokedAt: null, remoteAddr: "192.0.2.1" });
    expect(await h.repo.getSession("nope")).toBeUndefined();
    expect(await h.repo.revokeSession("t1", 50)).toBe(true);
    expect(await h.repo.revokeSession("t1", 60)).toBe(false);
    expect(await h.repo.revokeSession("nope", 60)).toBe(false);
    expect((await h.repo.getSession("t1"))?.revokedAt).toBe(50);
    expect(await h.repo.revokeUserSessions(a.id, 70)).toBe(2);
    expect(await h.repo.revokeUserSessions(a.id, 80)).toBe(0);
    expect((await h.repo.getSession("t3"))?.revokedAt).toBe(70);
  });

  test("a session for an unknown user is refused", async () => {
    await expect(h.repo.createSession({ tokenHash: "t", userId: "ghost", createdAt: 1, expiresAt: 2, remoteAddr: "" })).rejects.toThrow();
    expect(await h.repo.getSession("t")).toBeUndefined();
  });

  test("delete a user: its sessions go too", async () => {
    const a = await h.repo.createUser({ username: "alice", role: "admin", passwordHash: "h" });
    const b = await h.repo.createUser({ username: "bob", role: "admin", passwordHash: "h" });
    await h.repo.createSession({ tokenHash: "ta", userId: a.id, createdAt: 1, expiresAt: 2, remoteAddr: "" });
    await h.repo.createSession({ tokenHash: "tb", userId: b.id, createdAt: 1, expiresAt: 2, remoteAddr: "" });
    expect(await h.repo.deleteUser(a.id)).toBe(true);
    expect(await h.repo.deleteUser(a.id)).toBe(false);
    expect(await h.repo.getUser(a.id)).toBeUndefined();
    expect(await h.repo.getSession("ta")).toBeUndefined();
    expect(await h.repo.getSession("tb")).toBeDefined();
    expect(await h.repo.countUsers()).toBe(1);
  });

  test("injection strings are stored verbatim and harmless", async () => {
    for (const [i, s] of HOSTILE.entries()) {
      const u = await h.repo.createUser({ username: s, role: "viewer", passwordHash: s });
      expect(await h.repo.getUserByName(s)).toEqual(u);
      await h.repo.createSession({ tokenHash: `${s}#${i}`, userId: u.id, createdAt: 1, expiresAt: 2, remoteAddr: s });
      expect((await h.repo.getSession(`${s}#${i}`))?.remoteAddr).toBe(s);
    }
    expect(await h.repo.countUsers()).toBe(HOSTILE.length);
    expect(await h.repo.getUserByName("' OR '1'='1")).toBeUndefined();
  });
});
