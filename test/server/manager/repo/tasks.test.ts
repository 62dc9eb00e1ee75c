// Repository tasks, on SQLite and PostgreSQL: create → sent → 5100 results → summary, expiry,
// cancel, unknown tokens, paging, bulk creation for 10,000 agents.
import { expect, test } from "bun:test";
import { eachDialect, HOSTILE, taskInput } from "./fixture.ts";

const tok = (taskTag: string) => (agentId: string) => `${taskTag}:${agentId}`;

eachDialect("tasks", (h) => {
  test("lifecycle: create, sent, succeeded/failed by token, summary", async () => {
    const { task, subtasks } = await h.repo.createTask(taskInput({ target: { agentIds: ["a", "b", "c"] } }), ["a", "b", "c", "a"], tok("t1"));
    expect(subtasks).toBe(3);
    expect(task).toMatchObject({ kind: "agent_ctrl", dataType: 1060, objectName: "vigil-agent", data: "{}", target: { agentIds: ["a", "b", "c"] }, state: "created", createdBy: "admin", timeoutMs: 60_000 });
    expect(await h.repo.getTask(task.id)).toEqual(task);
    expect(await h.repo.subTaskSummary(task.id)).toEqual({ created: 3, sent: 0, succeeded: 0, failed: 0, timed_out: 0, cancelled: 0 });
    expect(await h.repo.setTaskState(task.id, "dispatching", 10)).toBe(true);
    expect(await h.repo.setSubTasks(task.id, ["a", "b", "c", "zz"], "sent", "", 20)).toBe(3);
    expect(await h.repo.setTaskState(task.id, "dispatched", 21)).toBe(true);
    expect(await h.repo.getTask(task.id)).toMatchObject({ state: "dispatched", updatedAt: 21 });
    expect(await h.repo.completeSubTask("t1:a", "succeeded", "ok", 30)).toBe(true);
    expect(await h.repo.completeSubTask("t1:b", "failed", "exit 1", 31)).toBe(true);
    expect(await h.repo.completeSubTask("t1:a", "failed", "again", 32)).toBe(false); // already final
    expect(await h.repo.completeSubTask("no-such-token", "succeeded", "", 33)).toBe(false);
    expect(await h.repo.setSubTasks(task.id, ["a"], "sent", "", 34)).toBe(0); // final stays final
    expect(await h.repo.subTaskSummary(task.id)).toEqual({ created: 0, sent: 1, succeeded: 1, failed: 1, timed_out: 0, cancelled: 0 });
    const all = await h.repo.listSubTasks(task.id, { page: 1, size: 10 });
    expect(all.total).toBe(3);
    expect(all.items).toEqual([
      { taskId: task.id, agentId: "a", token: "t1:a", status: "succeeded", msg: "ok", updatedAt: 30 },
      { taskId: task.id, agentId: "b", token: "t1:b", status: "failed", msg: "exit 1", updatedAt: 31 },
      { taskId: task.id, agentId: "c", token: "t1:c", status: "sent", msg: "", updatedAt: 20 },
    ]);
    const failed = await h.repo.listSubTasks(task.id, { page: 1, size: 10 }, "failed");
    expect(failed.total).toBe(1);
    expect(failed.items.map((s) => s.agentId)).toEqual(["b"]);
    expect(await h.repo.getTask("missing")).toBeUndefined();
    expect(await h.repo.setTaskState("missing", "dispatched", 1)).toBe(false);
    expect(await h.repo.subTaskSummary("missing")).toEqual({ created: 0, sent: 0, succeeded: 0, failed: 0, timed_out: 0, cancelled: 0 });
  });

  test("a token is unique across tasks", async () => {
    await h.repo.createTask(taskInput(), ["a"], () => "same");
    await expect(h.repo.createTask(taskInput(), ["b"], () => "same")).rejects.toThrow();
    expect((await h.repo.listTasks({ page: 1, size: 10 })).total).toBe(1); // the failed one left nothing
  });

  test("expiry: created/sent sub-tasks older than the task's timeout become timed_out", async () => {
    const { task } = await h.repo.createTask(taskInput({ timeoutMs: 1000 }), ["a", "b", "c"], tok("t"));
    await h.repo.setSubTasks(task.id, ["a", "b", "c"], "sent", "", 10_000);
    await h.repo.completeSubTask("t:a", "succeeded", "", 10_100);
    expect(await h.repo.expireSubTasks(10_500)).toBe(0);
    expect(await h.repo.expireSubTasks(11_500)).toBe(2);
    expect(await h.repo.expireSubTasks(12_000)).toBe(0);
    expect(await h.repo.subTaskSummary(task.id)).toMatchObject({ succeeded: 1, timed_out: 2, sent: 0 });
    expect(await h.repo.completeSubTask("t:b", "succeeded", "late", 12_100)).toBe(false);
    const long = await h.repo.createTask(taskInput({ timeoutMs: 10 ** 9 }), ["a"], tok("long"));
    expect(await h.repo.expireSubTasks(Date.now() + 1000)).toBe(0);
    expect((await h.repo.subTaskSummary(long.task.id)).created).toBe(1);
  });

  test("cancel: the task and its non-final sub-tasks; unknown task is false", async () => {
    const { task } = await h.repo.createTask(taskInput(), ["a", "b", "c"], tok("t"));
    await h.repo.setSubTasks(task.id, ["a", "b"], "sent", "", 10);
    await h.repo.completeSubTask("t:a", "succeeded", "", 11);
    expect(await h.repo.cancelTask(task.id, 20)).toBe(true);
    expect(await h.repo.getTask(task.id)).toMatchObject({ state: "cancelled", updatedAt: 20 });
    expect(await h.repo.subTaskSummary(task.id)).toEqual({ created: 0, sent: 0, succeeded: 1, failed: 0, timed_out: 0, cancelled: 2 });
    expect(await h.repo.completeSubTask("t:b", "succeeded", "", 21)).toBe(false);
    expect(await h.repo.setSubTasks(task.id, ["c"], "sent", "", 22)).toBe(0);
    expect(await h.repo.cancelTask("missing", 30)).toBe(false);
  });

  test("list tasks: newest first, paged", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await h.repo.createTask(taskInput({ data: `{"i":${i}}` }), ["a"], tok(`t${i}`))).task.id);
      await Bun.sleep(2);
    }
    const p1 = await h.repo.listTasks({ page: 1, size: 2 });
    expect(p1.total).toBe(5);
    expect(p1.items.map((t) => t.id)).toEqual([made[4], made[3]]);
    expect((await h.repo.listTasks({ page: 3, size: 2 })).items.map((t) => t.id)).toEqual([made[0]]);
  });

  test("kinds and targets round-trip", async () => {
    const a = await h.repo.createTask(taskInput({ kind: "plugin", dataType: 2001, objectName: "collector", data: "raw\u0001data", target: { tag: "prod" } }), [], tok("p"));
    const b = await h.repo.createTask(taskInput({ kind: "config_sync", dataType: 0, objectName: "vigil-agent", target: { agentIds: ["x"] } }), ["x"], tok("c"));
    expect(a.subtasks).toBe(0);
    expect(await h.repo.getTask(a.task.id)).toEqual(a.task);
    expect(await h.repo.getTask(b.task.id)).toEqual(b.task);
  });

  test("10,000 agents: every sub-task created, sent and counted", async () => {
    const agents = Array.from({ length: 10_000 }, (_, i) => `agent-${String(i).padStart(5, "0")}`);
    const { task, subtasks } = await h.repo.createTask(taskInput(), agents, (id) => `tok-${id}`);
    expect(subtasks).toBe(10_000);
    expect(await h.repo.setSubTasks(task.id, agents, "sent", "", 5)).toBe(10_000);
    expect(await h.repo.completeSubTask("tok-agent-09999", "succeeded", "", 6)).toBe(true);
    expect(await h.repo.subTaskSummary(task.id)).toMatchObject({ sent: 9_999, succeeded: 1 });
    const last = await h.repo.listSubTasks(task.id, { page: 10, size: 1000 });
    expect(last.items.at(-1)).toMatchObject({ agentId: "agent-09999", status: "succeeded" });
  });

  test("injection strings in task fields and tokens are stored verbatim", async () => {
    for (const s of HOSTILE) {
      const { task } = await h.repo.createTask(taskInput({ data: s, objectName: s, createdBy: s, target: { tag: s } }), [s], () => s + "#tok");
      expect(await h.repo.getTask(task.id)).toEqual(task);
      expect(await h.repo.completeSubTask(s + "#tok", "failed", s, 1)).toBe(true);
      expect((await h.repo.listSubTasks(task.id, { page: 1, size: 5 })).items[0]).toMatchObject({ agentId: s, msg: s });
    }
  });
});
