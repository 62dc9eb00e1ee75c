// NUL characters (\u0000) in any string input → 400 naming the field, and nothing changes, on
// both dialects (PostgreSQL refuses NUL in text where SQLite would store it).
import { expect, test } from "bun:test";
import type { UserRole } from "../../../../src/server/manager/repo/types.ts";
import { eachDialect } from "../support/dialects.ts";
import { heartbeat, managerFixture, PASSWORD, type Fixture } from "../support/fixture.ts";

const NUL = "\u0000";

/** Everything the API can change, as one comparable value. */
async function state(f: Fixture): Promise<unknown> {
  const r = f.repo;
  return {
    users: (await r.listUsers()).map((u) => [u.username, u.role, u.passwordHash, u.updatedAt]),
    hosts: (await r.listHosts({}, { page: 1, size: 1000 }, 0)).items.map((h) => [h.agentId, h.tags]),
    tasks: await r.listTasks({ page: 1, size: 1000 }),
    policies: await r.listPolicies(),
    components: await r.listComponents(),
    audit: (await r.listAudit({}, { page: 1, size: 1000 })).total,
  };
}

interface Case { method: string; path: string; role: UserRole | null; body?: unknown; field: string }

eachDialect("NUL characters in inputs", (url) => {
  test("every string input: 400 naming the field, before the database is asked; nothing changes", async () => {
    await using f = await managerFixture({ url: await url() });
    await f.repo.recordHeartbeats([heartbeat("h1"), heartbeat("h2")]);
    await f.repo.addTags(["h1"], ["prod"]);
    const viewer = (await f.repo.getUserByName("viewer1"))!;
    const plugin = { kind: "plugin", data_type: 2000, object_name: "scanner", target: { all: true } };
    const cases: Case[] = [
      { method: "POST", path: "/api/v1/user/login", role: null, body: { username: `admin1${NUL}`, password: PASSWORD }, field: "body.username" },
      { method: "POST", path: "/api/v1/user/login", role: null, body: { username: "viewer1", password: `${PASSWORD}${NUL}` }, field: "body.password" },
      { method: "POST", path: "/api/v1/users", role: "admin", body: { username: "alice", password: `alice${NUL}password`, role: "viewer" }, field: "body.password" },
      { method: "PATCH", path: `/api/v1/users/${viewer.id}`, role: "admin", body: { password: `new${NUL}password` }, field: "body.password" },
      { method: "DELETE", path: `/api/v1/users/${viewer.id}%00`, role: "admin", field: "param.id" },
      { method: "GET", path: "/api/v1/hosts?hostname=web%00", role: "viewer", field: "query.hostname" },
      { method: "GET", path: "/api/v1/hosts?ip=10.0.0.1%00", role: "viewer", field: "query.ip" },
      { method: "GET", path: "/api/v1/hosts?version=1.0.0%00", role: "viewer", field: "query.version" },
      { method: "GET", path: "/api/v1/hosts/h1%00", role: "viewer", field: "param.id" },
      { method: "PUT", path: "/api/v1/hosts/h1%00/tags", role: "operator", body: { tags: ["web"] }, field: "param.id" },
      { method: "POST", path: "/api/v1/hosts/tags", role: "operator", body: { agent_ids: ["h2", `h1${NUL}`], add: ["web"] }, field: "body.agent_ids.1" },
      { method: "POST", path: "/api/v1/tasks", role: "operator", body: { ...plugin, data: `a${NUL}b` }, field: "body.data" },
      { method: "POST", path: "/api/v1/tasks", role: "operator", body: { ...plugin, data: { path: `/tmp${NUL}` } }, field: "body.data.path" },
      { method: "POST", path: "/api/v1/tasks", role: "operator", body: { ...plugin, data: { deep: [{ x: `y${NUL}` }] } }, field: "body.data.deep.0.x" },
      { method: "POST", path: "/api/v1/tasks", role: "operator", body: { ...plugin, data: { [`k${NUL}`]: "v" } }, field: "body.data (a key)" },
      { method: "POST", path: "/api/v1/tasks", role: "operator", body: { ...plugin, target: { agent_ids: [`h1${NUL}`] } }, field: "body.target.agent_ids.0" },
      { method: "GET", path: "/api/v1/tasks/x%00", role: "viewer", field: "param.id" },
      { method: "GET", path: "/api/v1/tasks/x%00/subtasks", role: "viewer", field: "param.id" },
      { method: "POST", path: "/api/v1/tasks/x%00/cancel", role: "operator", field: "param.id" },
      { method: "PUT", path: "/api/v1/policies/all", role: "admin", body: { components: [`c1${NUL}`] }, field: "body.components.0" },
      { method: "GET", path: "/api/v1/components/x%00/download", role: null, field: "param.id" },
      { method: "DELETE", path: "/api/v1/components/x%00", role: "admin", field: "param.id" },
      { method: "GET", path: "/api/v1/audit?actor=admin1%00", role: "admin", field: "query.actor" },
      { method: "GET", path: "/api/v1/events?agent_id=h1%00", role: "viewer", field: "query.agent_id" },
      { method: "GET", path: "/api/v1/events?field.exe=%2Fbin%2Fsh%00", role: "viewer", field: "query.field.exe" },
    ];
    const before = await state(f);
    for (const c of cases) {
      const r = await f.call(c.method, c.path, { token: c.role ? f.tokens[c.role] : null, body: c.body });
      expect(`${c.method} ${c.path} → ${r.status} ${JSON.stringify(r.body)}`).toBe(`${c.method} ${c.path} → 400 ${JSON.stringify({ code: 400, msg: `bad request: ${c.field}: must not contain NUL (\\u0000) characters` })}`);
    }
    expect(await state(f)).toEqual(before);
    // the same inputs without the NUL are fine
    expect((await f.call("GET", "/api/v1/hosts?hostname=host-h", { token: f.tokens.viewer })).body.data.total).toBe(2);
    expect((await f.call("POST", "/api/v1/hosts/tags", { token: f.tokens.operator, body: { agent_ids: ["h2", "h1"], add: ["web"] } })).status).toBe(200);
  }, 30_000);

  test("a NUL from a caller with too small a role is still a 403", async () => {
    await using f = await managerFixture({ url: await url() });
    const r = await f.call("POST", "/api/v1/users", { token: f.tokens.viewer, body: { username: `x${NUL}`, password: "whatever-pass", role: "admin" } });
    expect(r.status).toBe(403);
    expect((await f.call("GET", "/api/v1/audit?actor=%00", { token: null })).status).toBe(401);
  });
});
