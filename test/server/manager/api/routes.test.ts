// Every route in /openapi.json: without a token → 401, with too small a role → 403; plus
// malformed JSON, oversized bodies, unknown routes, /ping, /metrics.
import { describe, expect, test } from "bun:test";
import { managerFixture } from "../support/fixture.ts";
import { MIN_ROLE } from "../support/route-roles.ts";
import type { UserRole } from "../../../../src/server/manager/repo/types.ts";

describe("routes", () => {
  test("/openapi.json lists exactly the routes of MIN_ROLE, each with its security", async () => {
    await using f = await managerFixture();
    const doc = (await f.call("GET", "/openapi.json")).body;
    const listed = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.sort()).toEqual(Object.keys(MIN_ROLE).sort());
    for (const [key, role] of Object.entries(MIN_ROLE)) {
      const [m, p] = key.split(" ");
      expect(doc.paths[p!][m!.toLowerCase()].security !== undefined).toBe(role !== "public");
    }
    expect(doc.components.securitySchemes.token).toMatchObject({ type: "apiKey", in: "header", name: "token" });
  });

  test("without a token → 401, with too small a role → 403 (before any validation)", async () => {
    await using f = await managerFixture();
    const ranks: UserRole[] = ["viewer", "operator", "admin"];
    for (const [key, min] of Object.entries(MIN_ROLE)) {
      if (min === "public") continue;
      const [method, template] = key.split(" ") as [string, string];
      const path = template.replace("{id}", "x").replace("{scope}", "all");
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      const anon = await f.call(method, path, { body });
      expect(`${key} ${anon.status}`).toBe(`${key} 401`);
      expect(anon.body.code).toBe(401);
      for (const r of ranks.slice(0, ranks.indexOf(min))) {
        const res = await f.call(method, path, { token: f.tokens[r], body });
        expect(`${key} as ${r}: ${res.status}`).toBe(`${key} as ${r}: 403`);
        expect(res.body.msg).toContain(`needs the ${min} role`);
      }
    }
  });

  test("malformed JSON, wrong content, oversized bodies and unknown query params → 4xx {code, msg}", async () => {
    await using f = await managerFixture({ config: { bodyLimitBytes: 4096 } });
    const t = f.tokens.admin;
    const bad = await f.call("POST", "/api/v1/users", { token: t, raw: "{not json", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.body.msg).toMatch(/json/i);
    const big = await f.call("POST", "/api/v1/users", { token: t, body: { username: "x".repeat(10_000), password: "p", role: "viewer" } });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ code: 413, msg: expect.stringContaining("too large") });
    const arr = await f.call("POST", "/api/v1/users", { token: t, body: [1, 2] });
    expect(arr.status).toBe(400);
    const q = await f.call("GET", "/api/v1/hosts?hostname=a&evil=1", { token: t });
    expect(q.status).toBe(400);
    expect(q.body.msg).toContain("evil");
    expect((await f.call("GET", "/api/v1/hosts?size=100000", { token: t })).status).toBe(400);
    expect((await f.call("GET", "/api/v1/nope", { token: t })).status).toBe(404);
    expect((await f.repo.listUsers()).length).toBe(3);
  });

  test("/ping and /metrics need no token", async () => {
    await using f = await managerFixture();
    expect((await f.call("GET", "/ping")).status).toBe(200);
    const m = await f.call("GET", "/metrics");
    expect(m.status).toBe(200);
    expect(String(m.body)).toContain("vigil_manager_http_requests_total");
  });
});
