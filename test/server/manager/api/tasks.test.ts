// Tasks without an AC reachable: validation (nothing created), targets by id/tag/all, listing,
// sub-task paging, cancel, and expiry of overdue sub-tasks; on SQLite and on PostgreSQL. Then
// dispatch across several fake ACs (batch, single-only, failing) on SQLite.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { serveHttp } from "../../../../src/common/http-serve.ts";
import { verifyRequest } from "../../../../src/common/internal-auth.ts";
import { createHttpAcClient } from "../../../../src/server/manager/services/ac-client.ts";
import { startTaskExpiry } from "../../../../src/server/manager/services/expiry.ts";
import { eachDialect } from "../support/dialects.ts";
import { heartbeat, managerFixture, quietLog } from "../support/fixture.ts";

eachDialect("tasks API", (url) => {
  test("bad task bodies → 400 and no task is created", async () => {
    await using f = await managerFixture({ url: await url() });
    await f.repo.recordHeartbeats([heartbeat("h1")]);
    const t = f.tokens.operator;
    const good = { kind: "agent_ctrl", data_type: 1060, target: { agent_ids: ["h1"] } };
    for (const body of [
      { ...good, kind: "shell" },
      { ...good, data_type: 59 },
      { ...good, data_type: "1060" },
      { ...good, target: { agent_ids: ["nope"] } },
      { ...good, target: { all: false } },
      { ...good, target: { tag: "a", all: true } },
      { ...good, target: {} },
      { ...good, timeout: 0 },
      { ...good, command: "rm -rf /" },
      { kind: "plugin", data_type: 2000, target: { all: true } },
      { kind: "plugin", data_type: 2000, object_name: "../../etc/passwd", target: { all: true } },
      { kind: "config_sync", data: "x", target: { all: true } },
      { ...good, target: { tag: "no-such-tag" } },
    ]) {
      const r = await f.call("POST", "/api/v1/tasks", { token: t, body });
      expect(`${JSON.stringify(body)} → ${r.status}`).toBe(`${JSON.stringify(body)} → 400`);
      expect(r.body.msg).toMatch(/^bad request: /);
    }
    expect((await f.repo.listTasks({ page: 1, size: 10 })).total).toBe(0);
  });

  test("create by tag and all, list, detail, subtasks, cancel", async () => {
    await using f = await managerFixture({ url: await url() });
    await f.repo.recordHeartbeats([heartbeat("h1"), heartbeat("h2"), heartbeat("h3")]);
    await f.repo.addTags(["h1", "h2"], ["web"]);
    const t = f.tokens.operator;
    const byTag = await f.call("POST", "/api/v1/tasks", { token: t, body: { kind: "plugin", data_type: 2001, object_name: "scanner", data: "{\"path\":\"/tmp\"}", target: { tag: "web" } } });
    expect(byTag.status).toBe(200);
    expect(byTag.body.data).toMatchObject({ subtasks: 2, task: { kind: "plugin", object_name: "scanner", target: { tag: "web" }, created_by: "operator1", timeout: 300 } });
    const all = await f.call("POST", "/api/v1/tasks", { token: t, body: { kind: "agent_ctrl", data_type: 1051, data: { region: "eu" }, target: { all: true } } });
    expect(all.body.data.subtasks).toBe(3);
    expect(all.body.data.task.object_name).toBe("vigil-agent");
    await f.app.services.dispatcher.idle();
    const list = await f.call("GET", "/api/v1/tasks", { token: f.tokens.viewer });
    expect(list.body.data.total).toBe(2);
    const id = all.body.data.task.id;
    // no AC is configured in this fixture: dispatch fails every sub-task, visibly
    const detail = await f.call("GET", `/api/v1/tasks/${id}`, { token: f.tokens.viewer });
    expect(detail.body.data.summary.failed).toBe(3);
    const page = await f.call("GET", `/api/v1/tasks/${id}/subtasks?size=2&status=failed`, { token: f.tokens.viewer });
    expect(page.body.data.total).toBe(3);
    expect(page.body.data.items.length).toBe(2);
    expect(page.body.data.items[0].msg).toContain("no AC");
    expect((await f.call("GET", `/api/v1/tasks/${id}/subtasks?status=weird`, { token: f.tokens.viewer })).status).toBe(400);
    expect((await f.call("GET", "/api/v1/tasks/none/subtasks", { token: f.tokens.viewer })).status).toBe(404);
    const cancel = await f.call("POST", `/api/v1/tasks/${byTag.body.data.task.id}/cancel`, { token: t });
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.task.state).toBe("cancelled");
    expect((await f.call("POST", "/api/v1/tasks/none/cancel", { token: t })).status).toBe(404);
    const audit = await f.repo.listAudit({}, { page: 1, size: 100 });
    expect(audit.items.filter((e) => e.action === "task.create").length).toBe(2);
    expect(audit.items.some((e) => e.action === "task.cancel")).toBe(true);
  });

  test("overdue sub-tasks are timed out", async () => {
    await using f = await managerFixture({ url: await url() });
    await f.repo.recordHeartbeats([heartbeat("h1")]);
    const { task } = await f.repo.createTask({ kind: "agent_ctrl", dataType: 1060, objectName: "vigil-agent", data: "", target: { all: true }, state: "dispatched", createdBy: "t", timeoutMs: 1 }, ["h1"], () => "tok-1");
    await f.repo.setSubTasks(task.id, ["h1"], "sent", "", Date.now());
    await Bun.sleep(5);
    const expiry = startTaskExpiry({ repo: f.repo, log: quietLog, intervalMs: 60_000 });
    expect(await expiry.runOnce()).toBe(1);
    expiry.stop();
    expect((await f.repo.subTaskSummary(task.id)).timed_out).toBe(1);
  });
});

const SECRET = "fake-ac-secret";

/** a fake AC holding `agents`; `batch: false` answers 404 to /command/batch like Elkeid's AC */
async function fakeAc(o: { agents: string[]; batch?: boolean; fail?: boolean }) {
  const calls: { path: string; ids: string[] }[] = [];
  const app = new Hono();
  app.use("*", async (c, next) => {
    const raw = new Uint8Array(await c.req.raw.clone().arrayBuffer());
    if (verifyRequest(SECRET, c.req.method, c.req.url, c.req.raw.headers, raw)) return c.json({ code: 401 }, 401);
    if (o.fail) return c.json({ code: 3, msg: "boom" }, 500);
    return next();
  });
  app.post("/command/", async (c) => {
    const b = await c.req.json();
    calls.push({ path: "/command/", ids: [b.agent_id] });
    return o.agents.includes(b.agent_id) ? c.json({ code: 0, msg: "success" }) : c.json({ code: 1, msg: "not connected" }, 404);
  });
  if (o.batch !== false) {
    app.post("/command/batch", async (c) => {
      const ids = ((await c.req.json()).commands as { agent_id: string }[]).map((e) => e.agent_id);
      calls.push({ path: "/command/batch", ids });
      return c.json({ code: 0, msg: "success", data: { sent: ids.filter((i) => o.agents.includes(i)), not_connected: ids.filter((i) => !o.agents.includes(i)) } });
    });
  }
  app.notFound((c) => c.text("404 page not found", 404));
  const srv = await serveHttp(app, { port: 0, hostname: "127.0.0.1" });
  return { url: `http://127.0.0.1:${srv.port}`, calls, close: () => srv.close() };
}

describe("tasks across several ACs", () => {
  test("each agent goes to its AC (the known owner first); the rest fail 'agent not connected'; a failing only AC fails them with its error", async () => {
    const a = await fakeAc({ agents: ["h1"] });
    const b = await fakeAc({ agents: ["h2"], batch: false });
    const c = await fakeAc({ agents: [], fail: true });
    try {
      await using f = await managerFixture({ acClient: createHttpAcClient({ secret: SECRET, acUrls: [a.url, b.url, c.url], log: quietLog, batchSize: 2 }) });
      await f.repo.recordHeartbeats(["h1", "h2", "h3", "h4", "h5"].map((id) => heartbeat(id)));
      const run = async () => {
        const r = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { kind: "agent_ctrl", data_type: 1060, target: { agent_ids: ["h1", "h2", "h3", "h4", "h5"] } } });
        expect(r.status).toBe(200);
        await f.app.services.dispatcher.idle();
        const subs = (await f.call("GET", `/api/v1/tasks/${r.body.data.task.id}/subtasks?size=10`, { token: f.tokens.viewer })).body.data.items as { agent_id: string; status: string; msg: string }[];
        return Object.fromEntries(subs.map((x) => [x.agent_id, `${x.status} ${x.msg}`.trim()]));
      };
      const want = { h1: "sent", h2: "sent", h3: "failed agent not connected", h4: "failed agent not connected", h5: "failed agent not connected" };
      expect(await run()).toEqual(want);
      // chunks of 2 to the first AC; the AC without /command/batch gets single commands
      expect(a.calls.map((x) => x.ids.length).sort()).toEqual([1, 2, 2]);
      expect(b.calls.filter((x) => x.path === "/command/").map((x) => x.ids[0]).sort()).toEqual(["h2", "h3", "h4", "h5"]);
      const before = { a: a.calls.length, b: b.calls.length };
      expect(await run()).toEqual(want);
      // now h2's owner is known: it goes to b first, once, and b is not asked for a batch again
      expect(a.calls.slice(before.a).flatMap((x) => x.ids).sort()).toEqual(["h1", "h3", "h4", "h5"]);
      expect(b.calls.slice(before.b).every((x) => x.path === "/command/")).toBe(true);
      expect(b.calls.slice(before.b).filter((x) => x.ids[0] === "h2").length).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    try {
      await using f = await managerFixture({ acClient: createHttpAcClient({ secret: SECRET, acUrls: [c.url], log: quietLog }) });
      await f.repo.recordHeartbeats([heartbeat("h1"), heartbeat("h2")]);
      const r = await f.call("POST", "/api/v1/tasks", { token: f.tokens.operator, body: { kind: "agent_ctrl", data_type: 1060, target: { agent_ids: ["h1", "h2"] } } });
      await f.app.services.dispatcher.idle();
      const subs = (await f.call("GET", `/api/v1/tasks/${r.body.data.task.id}/subtasks`, { token: f.tokens.viewer })).body.data.items as { status: string; msg: string }[];
      expect(subs.map((x) => `${x.status} ${x.msg}`)).toEqual(Array(2).fill(`failed dispatch failed: AC ${c.url} refused the commands: HTTP 500`));
    } finally {
      await c.close();
    }
  });
});
