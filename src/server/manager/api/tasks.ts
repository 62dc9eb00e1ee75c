// Tasks (operator creates and cancels, viewer reads): agent control (1050/1051/1060), plugin
// tasks, config sync; one sub-task per target agent, dispatched in the background through the
// AC, completed by the agents' 5100 results or timed out.
import { randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { DataType, PRODUCT } from "../../../common/wire.ts";
import { requireRole } from "../auth/middleware.ts";
import type { SubTask, SubTaskStatus, Task, TaskTarget } from "../repo/types.ts";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { badRequest, notFound } from "./errors.ts";
import { errors, json, ok, PageQuery, SECURITY, zName } from "./schemas.ts";

const AGENT_CTRL = [DataType.UploadFile, DataType.SetMetadata, DataType.Restart] as number[];
const SUB_STATES = ["created", "sent", "succeeded", "failed", "timed_out", "cancelled"] as const;
/** A task's data, as a string or as JSON: at most this many characters (of the JSON) and levels. */
const MAX_DATA = 64 * 1024;
const MAX_DATA_DEPTH = 32;
/** Whether v nests deeper than max levels (looks no deeper than that: no stack overflow on hostile JSON). */
function nestsDeeper(v: unknown, max: number): boolean {
  if (v === null || typeof v !== "object") return false;
  if (max <= 0) return true;
  for (const x of Object.values(v)) if (nestsDeeper(x, max - 1)) return true;
  return false;
}
const zTarget = z.union([
  z.strictObject({ agent_ids: z.array(z.string().min(1).max(128)).min(1).max(100_000) }),
  z.strictObject({ tag: zName }),
  z.strictObject({ all: z.literal(true) }),
]).openapi("TaskTarget", { description: "{agent_ids: [...]} | {tag} | {all: true}" });
const Create = z.strictObject({
  kind: z.enum(["agent_ctrl", "plugin", "config_sync"]),
  data_type: z.number().int().min(0).max(1_000_000).optional(),
  object_name: zName.optional(),
  data: z.union([z.string().max(MAX_DATA), z.record(z.string(), z.unknown())]).optional(),
  target: zTarget,
  /** seconds */
  timeout: z.number().int().min(1).max(7 * 86_400).default(300),
}).superRefine((v, ctx) => {
  if (typeof v.data === "object" && (nestsDeeper(v.data, MAX_DATA_DEPTH) || JSON.stringify(v.data).length > MAX_DATA)) {
    ctx.addIssue({ code: "custom", path: ["data"], message: `as JSON, at most ${MAX_DATA} characters and ${MAX_DATA_DEPTH} levels deep` });
  }
  if (v.kind === "agent_ctrl") {
    if (v.data_type === undefined || !AGENT_CTRL.includes(v.data_type)) ctx.addIssue({ code: "custom", path: ["data_type"], message: `agent_ctrl needs data_type ${AGENT_CTRL.join(", ")}` });
    if (v.object_name !== undefined && v.object_name !== PRODUCT) ctx.addIssue({ code: "custom", path: ["object_name"], message: `agent_ctrl tasks are for "${PRODUCT}"` });
  } else if (v.kind === "plugin") {
    if (v.data_type === undefined) ctx.addIssue({ code: "custom", path: ["data_type"], message: "a plugin task needs the plugin's data_type" });
    if (!v.object_name || v.object_name === PRODUCT) ctx.addIssue({ code: "custom", path: ["object_name"], message: "a plugin task needs the plugin's name" });
  } else if (v.data_type !== undefined || v.object_name !== undefined || v.data !== undefined) {
    ctx.addIssue({ code: "custom", path: ["kind"], message: "config_sync takes no data_type, object_name or data" });
  }
}).openapi("TaskCreate");

export const TaskView = z.object({
  id: z.string(), kind: z.string(), data_type: z.number(), object_name: z.string(), data: z.string(),
  target: z.record(z.string(), z.unknown()), state: z.string(), created_by: z.string(), created_at: z.number(), updated_at: z.number(), timeout: z.number(),
}).openapi("Task");
const SubTaskView = z.object({ agent_id: z.string(), status: z.enum(SUB_STATES), msg: z.string(), updated_at: z.number() }).openapi("SubTask");
const Summary = z.record(z.string(), z.number());
const IdParam = z.object({ id: z.string().min(1).max(128) });

function targetView(t: TaskTarget): Record<string, unknown> {
  return "all" in t ? { all: true } : "tag" in t ? { tag: t.tag } : { agent_ids: t.agentIds };
}
export function taskView(t: Task) {
  return { id: t.id, kind: t.kind, data_type: t.dataType, object_name: t.objectName, data: t.data, target: targetView(t.target), state: t.state, created_by: t.createdBy, created_at: t.createdAt, updated_at: t.updatedAt, timeout: Math.round(t.timeoutMs / 1000) };
}
const subTaskView = (s: SubTask) => ({ agent_id: s.agentId, status: s.status, msg: s.msg, updated_at: s.updatedAt });

const viewer = [requireRole("viewer")];
const operator = [requireRole("operator")];
const create = createRoute({
  method: "post", path: "/api/v1/tasks", tags: ["tasks"], summary: "Create a task and dispatch it", security: SECURITY, middleware: operator,
  request: { body: { content: { "application/json": { schema: Create } }, required: true } },
  responses: { ...json(z.object({ task: TaskView, subtasks: z.number() })), ...errors() },
});
const list = createRoute({
  method: "get", path: "/api/v1/tasks", tags: ["tasks"], summary: "List tasks, newest first", security: SECURITY, middleware: viewer,
  request: { query: z.strictObject(PageQuery) }, responses: { ...json(z.object({ total: z.number(), items: z.array(TaskView) })), ...errors() },
});
const get = createRoute({
  method: "get", path: "/api/v1/tasks/{id}", tags: ["tasks"], summary: "A task with its sub-task status counts", security: SECURITY, middleware: viewer,
  request: { params: IdParam }, responses: { ...json(z.object({ task: TaskView, summary: Summary })), ...errors(404) },
});
const subtasks = createRoute({
  method: "get", path: "/api/v1/tasks/{id}/subtasks", tags: ["tasks"], summary: "A task's sub-tasks (paged, by status)", security: SECURITY, middleware: viewer,
  request: { params: IdParam, query: z.strictObject({ status: z.enum(SUB_STATES).optional(), ...PageQuery }) },
  responses: { ...json(z.object({ total: z.number(), items: z.array(SubTaskView) })), ...errors(404) },
});
const cancel = createRoute({
  method: "post", path: "/api/v1/tasks/{id}/cancel", tags: ["tasks"], summary: "Cancel a task (its unfinished sub-tasks)", security: SECURITY, middleware: operator,
  request: { params: IdParam }, responses: { ...json(z.object({ task: TaskView, summary: Summary })), ...errors(404) },
});

export function taskRoutes(app: ManagerApp, d: RouteDeps): void {
  app.openapi(create, async (c) => {
    const b = c.req.valid("json");
    const t = b.target;
    const target: TaskTarget = "all" in t ? { all: true } : "tag" in t ? { tag: t.tag } : { agentIds: [...new Set(t.agent_ids)] };
    const agentIds = "agentIds" in target ? await d.repo.hostIds({ agentIds: target.agentIds }, 0) : await d.repo.hostIds("tag" in target ? { tag: target.tag } : {}, 0);
    if ("agentIds" in target && agentIds.length < target.agentIds.length) {
      const known = new Set(agentIds);
      const unknown = target.agentIds.filter((x) => !known.has(x));
      throw badRequest(`bad request: body.target.agent_ids: unknown host(s) ${unknown.slice(0, 10).join(", ")}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ""}`);
    }
    if (!agentIds.length) throw badRequest("bad request: body.target: no host matches the target");
    const data = b.data === undefined ? "" : typeof b.data === "string" ? b.data : JSON.stringify(b.data);
    const tokens = new Map<string, string>();
    const tokenFor = (id: string) => {
      const tok = randomBytes(16).toString("hex");
      tokens.set(id, tok);
      return tok;
    };
    const { task, subtasks: n } = await d.repo.createTask({
      kind: b.kind, dataType: b.data_type ?? 0, objectName: b.kind === "agent_ctrl" ? PRODUCT : (b.object_name ?? ""), data,
      target, state: "created", createdBy: c.get("user").username, timeoutMs: b.timeout * 1000,
    }, agentIds, tokenFor);
    await audit(c, d.repo, "task.create", task.id, { kind: task.kind, data_type: task.dataType, object_name: task.objectName, target: targetView(target), agents: n });
    void d.services.dispatcher.dispatch(task, agentIds.map((agentId) => ({ agentId, token: tokens.get(agentId)! })));
    return ok(c, { task: taskView(task), subtasks: n });
  });
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const r = await d.repo.listTasks(q);
    return ok(c, { total: r.total, items: r.items.map(taskView) });
  });
  const withSummary = async (id: string) => {
    const task = await d.repo.getTask(id);
    if (!task) throw notFound(`task ${id}`);
    return { task: taskView(task), summary: await d.repo.subTaskSummary(id) };
  };
  app.openapi(get, async (c) => ok(c, await withSummary(c.req.valid("param").id)));
  app.openapi(subtasks, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    if (!(await d.repo.getTask(id))) throw notFound(`task ${id}`);
    const r = await d.repo.listSubTasks(id, { page: q.page, size: q.size }, q.status as SubTaskStatus | undefined);
    return ok(c, { total: r.total, items: r.items.map(subTaskView) });
  });
  app.openapi(cancel, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await d.repo.cancelTask(id, Date.now()))) throw notFound(`task ${id}`);
    await audit(c, d.repo, "task.cancel", id);
    return ok(c, await withSummary(id));
  });
}
