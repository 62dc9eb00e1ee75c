// Repository audit log, on SQLite and PostgreSQL: entries, filters by actor/action/time, paging.
import { expect, test } from "bun:test";
import { eachDialect, HOSTILE } from "./fixture.ts";

eachDialect("audit log", (h) => {
  async function seed() {
    const rows = [
      { at: 100, actor: "admin", action: "user.create", target: "bob" },
      { at: 200, actor: "bob", action: "task.create", target: "t1" },
      { at: 300, actor: "admin", action: "host.tag", target: "a1" },
      { at: 400, actor: "system", action: "task.create", target: "t2" },
      { at: 500, actor: "admin", action: "task.create", target: "t3" },
    ];
    for (const r of rows) await h.repo.audit({ ...r, detail: { n: r.at }, remoteAddr: "192.0.2.7" });
  }
  const targets = (r: { items: { target: string }[] }) => r.items.map((e) => e.target);
  const all = { page: 1, size: 100 };

  test("entries come back newest first with their detail", async () => {
    await seed();
    const r = await h.repo.listAudit({}, all);
    expect(r.total).toBe(5);
    expect(targets(r)).toEqual(["t3", "t2", "a1", "t1", "bob"]);
    expect(r.items[4]).toMatchObject({ at: 100, actor: "admin", action: "user.create", target: "bob", detail: { n: 100 }, remoteAddr: "192.0.2.7" });
    expect(r.items[4].id).toBeString();
  });

  test("filters: actor, action, since and until (inclusive), combined; paging", async () => {
    await seed();
    expect(targets(await h.repo.listAudit({ actor: "admin" }, all))).toEqual(["t3", "a1", "bob"]);
    expect(targets(await h.repo.listAudit({ action: "task.create" }, all))).toEqual(["t3", "t2", "t1"]);
    expect(targets(await h.repo.listAudit({ since: 200, until: 400 }, all))).toEqual(["t2", "a1", "t1"]);
    expect(targets(await h.repo.listAudit({ actor: "admin", action: "task.create", since: 450 }, all))).toEqual(["t3"]);
    expect(targets(await h.repo.listAudit({ actor: "nobody" }, all))).toEqual([]);
    const p2 = await h.repo.listAudit({ action: "task.create" }, { page: 2, size: 2 });
    expect(p2.total).toBe(3);
    expect(targets(p2)).toEqual(["t1"]);
  });

  test("nested detail and injection strings are stored verbatim", async () => {
    const detail = { before: { role: "viewer" }, after: { role: "admin" }, list: [1, "two", null, true], quote: "'\"\\", deep: { a: { b: { c: HOSTILE } } } };
    await h.repo.audit({ at: 1, actor: HOSTILE[0], action: HOSTILE[1], target: HOSTILE[2], detail, remoteAddr: HOSTILE[3] });
    const [e] = (await h.repo.listAudit({ actor: HOSTILE[0], action: HOSTILE[1] }, all)).items;
    expect(e).toMatchObject({ actor: HOSTILE[0], action: HOSTILE[1], target: HOSTILE[2], detail, remoteAddr: HOSTILE[3] });
  });
});
