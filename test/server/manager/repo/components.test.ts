// Repository components and policies, on SQLite and PostgreSQL.
import { expect, test } from "bun:test";
import { ConflictError } from "../../../../src/server/manager/repo/types.ts";
import { componentInput, eachDialect, HOSTILE } from "./fixture.ts";

eachDialect("components and policies", (h) => {
  test("create, get, list with filters, delete", async () => {
    const c1 = await h.repo.createComponent(componentInput());
    await Bun.sleep(2);
    const c2 = await h.repo.createComponent(componentInput({ version: "1.1.0" }));
    const ag = await h.repo.createComponent(componentInput({ name: "vigil-agent", type: "agent", version: "1.0.0", size: 2 ** 33 }));
    expect(await h.repo.getComponent(c1.id)).toEqual(c1);
    expect(await h.repo.getComponent(ag.id)).toEqual(ag);
    expect(await h.repo.getComponent("missing")).toBeUndefined();
    expect((await h.repo.listComponents()).map((c) => c.id)).toEqual([c2.id, c1.id, ag.id]);
    expect((await h.repo.listComponents({ name: "collector" })).map((c) => c.version)).toEqual(["1.1.0", "1.0.0"]);
    expect((await h.repo.listComponents({ type: "agent" })).map((c) => c.id)).toEqual([ag.id]);
    expect(await h.repo.listComponents({ name: "collector", type: "agent" })).toEqual([]);
    expect(await h.repo.deleteComponent(c1.id)).toBe(true);
    expect(await h.repo.deleteComponent(c1.id)).toBe(false);
    expect((await h.repo.listComponents()).length).toBe(2);
  });

  test("a duplicate (name, version) is a ConflictError; the same version of another name is fine", async () => {
    await h.repo.createComponent(componentInput());
    const err = await h.repo.createComponent(componentInput({ sha256: "cd".repeat(32) })).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(String(err.message)).toContain("collector");
    await h.repo.createComponent(componentInput({ name: "journal" }));
    expect((await h.repo.listComponents()).length).toBe(2);
  });

  test("policies: set, replace, get, list, delete", async () => {
    expect(await h.repo.getPolicy("all")).toBeUndefined();
    await h.repo.setPolicy({ scope: "all", components: ["c1", "c2"], updatedBy: "admin", updatedAt: 10 });
    await h.repo.setPolicy({ scope: "tag:prod", components: [], updatedBy: "ops", updatedAt: 11 });
    expect(await h.repo.getPolicy("all")).toEqual({ scope: "all", components: ["c1", "c2"], updatedBy: "admin", updatedAt: 10 });
    await h.repo.setPolicy({ scope: "all", components: ["c3"], updatedBy: "ops", updatedAt: 12 });
    expect(await h.repo.getPolicy("all")).toEqual({ scope: "all", components: ["c3"], updatedBy: "ops", updatedAt: 12 });
    expect((await h.repo.listPolicies()).map((p) => p.scope)).toEqual(["all", "tag:prod"]);
    expect(await h.repo.deletePolicy("tag:prod")).toBe(true);
    expect(await h.repo.deletePolicy("tag:prod")).toBe(false);
    expect((await h.repo.listPolicies()).length).toBe(1);
  });

  test("injection strings in components and policies are stored verbatim", async () => {
    for (const s of HOSTILE) {
      const c = await h.repo.createComponent(componentInput({ name: s, version: s, path: s, createdBy: s }));
      expect(await h.repo.getComponent(c.id)).toEqual(c);
      expect((await h.repo.listComponents({ name: s })).map((x) => x.id)).toEqual([c.id]);
      await h.repo.setPolicy({ scope: `tag:${s}`, components: [s], updatedBy: s, updatedAt: 1 });
      expect((await h.repo.getPolicy(`tag:${s}`))?.components).toEqual([s]);
    }
  });
});
