// Tasks without an AC reachable: validation (nothing created), targets by id/tag/all, listing,
// sub-task paging, cancel, and expiry of overdue sub-tasks; on SQLite and on PostgreSQL.
import { expect, test } from "bun:test";
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
