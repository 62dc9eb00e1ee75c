// Components and policies: upload (sha256, size limit, validation), list, download without a
// token, delete; policies set/get/delete with validation; events without a store → 501.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { managerFixture, type Fixture } from "../support/fixture.ts";

function form(o: Record<string, string | File>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(o)) f.set(k, v);
  return f;
}
const upload = (f: Fixture, token: string, o: Record<string, string | File>) => f.call("POST", "/api/v1/components", { token, raw: form(o) });

describe("components", () => {
  test("upload computes sha256 and stores the file; download needs no token", async () => {
    await using f = await managerFixture({ config: { componentMaxBytes: 1024, publicUrl: "http://mgr.example:6701" } });
    const file = new File(["hello plugin"], "p.tar.gz");
    expect((await upload(f, f.tokens.operator, { name: "p", type: "plugin", version: "1.0", file })).status).toBe(403);
    const r = await upload(f, f.tokens.admin, { name: "p", type: "plugin", version: "1.0", file });
    expect(r.status).toBe(200);
    const sha = createHash("sha256").update("hello plugin").digest("hex");
    expect(r.body.data).toMatchObject({ name: "p", type: "plugin", version: "1.0", sha256: sha, size: 12 });
    expect(r.body.data.download_url).toBe(`http://mgr.example:6701/api/v1/components/${r.body.data.id}/download`);
    expect(existsSync(join(f.dir, "components", sha))).toBe(true);
    const dl = await f.app.request(`/api/v1/components/${r.body.data.id}/download`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("x-sha256")).toBe(sha);
    expect(await dl.text()).toBe("hello plugin");
    expect((await f.app.request("/api/v1/components/unknown/download")).status).toBe(404);
    expect((await upload(f, f.tokens.admin, { name: "p", type: "plugin", version: "1.0", file })).status).toBe(409);
    const list = await f.call("GET", "/api/v1/components?type=plugin", { token: f.tokens.viewer });
    expect(list.body.data.length).toBe(1);
  });

  test("bad uploads → 4xx and nothing stored", async () => {
    await using f = await managerFixture({ config: { componentMaxBytes: 1024 } });
    const file = new File(["x"], "x");
    for (const [o, status] of [
      [{ name: "p", type: "rootkit", version: "1", file }, 400],
      [{ name: "../p", type: "plugin", version: "1", file }, 400],
      [{ name: "p", type: "plugin", version: "1; rm -rf /", file }, 400],
      [{ name: "p", type: "plugin", version: "1", file: "not a file" }, 400],
      [{ name: "p", type: "plugin", version: "1" }, 400],
      [{ name: "p", type: "plugin", version: "1", file, extra: "1" }, 400],
      [{ name: "p", type: "plugin", version: "1", file: new File([], "empty") }, 400],
      [{ name: "p", type: "plugin", version: "1", file: new File([new Uint8Array(4096)], "big") }, 413],
    ] as const) {
      const r = await upload(f, f.tokens.admin, o as Record<string, string | File>);
      expect(`${JSON.stringify(Object.keys(o))} ${r.status}`).toBe(`${JSON.stringify(Object.keys(o))} ${status}`);
      expect(typeof r.body.msg).toBe("string");
    }
    expect((await f.repo.listComponents()).length).toBe(0);
    expect(existsSync(join(f.dir, "components")) ? readdirSync(join(f.dir, "components")).length : 0).toBe(0);
  });

  test("policies: set, get, list, delete; a used component cannot be deleted", async () => {
    await using f = await managerFixture();
    const a = (await upload(f, f.tokens.admin, { name: "a", type: "plugin", version: "1", file: new File(["a"], "a") })).body.data;
    const a2 = (await upload(f, f.tokens.admin, { name: "a", type: "plugin", version: "2", file: new File(["a2"], "a") })).body.data;
    const t = f.tokens.admin;
    expect((await f.call("PUT", "/api/v1/policies/all", { token: f.tokens.operator, body: { components: [a.id] } })).status).toBe(403);
    for (const [path, body] of [
      ["/api/v1/policies/everything", { components: [a.id] }],
      ["/api/v1/policies/tag:bad%20tag", { components: [a.id] }],
      ["/api/v1/policies/all", { components: ["missing"] }],
      ["/api/v1/policies/all", { components: [a.id, a2.id] }],
      ["/api/v1/policies/all", { components: a.id }],
      ["/api/v1/policies/all", { components: [a.id], force: true }],
    ] as const) {
      expect(`${path} ${JSON.stringify(body)} ${(await f.call("PUT", path, { token: t, body })).status}`).toBe(`${path} ${JSON.stringify(body)} 400`);
    }
    expect((await f.repo.listPolicies()).length).toBe(0);
    expect((await f.call("PUT", "/api/v1/policies/tag:prod", { token: t, body: { components: [a.id] } })).status).toBe(200);
    expect((await f.call("GET", "/api/v1/policies/tag:prod", { token: f.tokens.viewer })).body.data).toMatchObject({ scope: "tag:prod", components: [a.id], updated_by: "admin1" });
    expect((await f.call("GET", "/api/v1/policies", { token: f.tokens.viewer })).body.data.length).toBe(1);
    expect((await f.call("DELETE", `/api/v1/components/${a.id}`, { token: t })).status).toBe(409);
    expect((await f.call("DELETE", "/api/v1/policies/tag:prod", { token: t })).status).toBe(200);
    expect((await f.call("GET", "/api/v1/policies/tag:prod", { token: t })).status).toBe(404);
    expect((await f.call("DELETE", `/api/v1/components/${a.id}`, { token: t })).status).toBe(200);
    expect(existsSync(join(f.dir, "components", a.sha256))).toBe(false);
    const actions = (await f.repo.listAudit({}, { page: 1, size: 100 })).items.map((e) => e.action);
    for (const a of ["component.upload", "component.delete", "policy.set", "policy.delete"]) expect(actions).toContain(a);
  });

  test("events without an embedded store → 501", async () => {
    await using f = await managerFixture();
    const r = await f.call("GET", "/api/v1/events?agent_id=a", { token: f.tokens.viewer });
    expect(r.status).toBe(501);
    expect(r.body.msg).toContain("embedded event store");
  });
});
