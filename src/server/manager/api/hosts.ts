// Hosts: the inventory from heartbeats — list with filters and paging, detail, and tags
// (viewer reads; operator tags).
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { notFound } from "./errors.ts";
import { errors, json, ok, PageQuery, SECURITY, zName } from "./schemas.ts";
import { HostDetail, HostSummary, hostDetail, hostSummary } from "./host-view.ts";

const ListQuery = z.strictObject({
  hostname: z.string().max(255).optional(), ip: z.string().max(64).optional(), state: z.enum(["online", "offline"]).optional(),
  tag: zName.optional(), version: z.string().max(64).optional(), ...PageQuery,
});
const IdParam = z.object({ id: z.string().min(1).max(128) });
const zTags = z.array(zName).max(64);
const SetTags = z.strictObject({ tags: zTags }).openapi("HostTags");
const BulkTags = z.strictObject({ agent_ids: z.array(z.string().min(1).max(128)).min(1).max(10_000), add: zTags.optional(), remove: zTags.optional() })
  .refine((v) => (v.add?.length ?? 0) + (v.remove?.length ?? 0) > 0, "give add and/or remove").openapi("HostTagsBulk");

const viewer = [requireRole("viewer")];
const operator = [requireRole("operator")];
const list = createRoute({
  method: "get", path: "/api/v1/hosts", tags: ["hosts"], summary: "List hosts (filters, paging)", security: SECURITY, middleware: viewer,
  request: { query: ListQuery }, responses: { ...json(z.object({ total: z.number(), page: z.number(), size: z.number(), items: z.array(HostSummary) })), ...errors() },
});
const detail = createRoute({
  method: "get", path: "/api/v1/hosts/{id}", tags: ["hosts"], summary: "One host: facts, plugins, counters, tags, state", security: SECURITY, middleware: viewer,
  request: { params: IdParam }, responses: { ...json(HostDetail), ...errors(404) },
});
const putTags = createRoute({
  method: "put", path: "/api/v1/hosts/{id}/tags", tags: ["hosts"], summary: "Replace a host's tags", security: SECURITY, middleware: operator,
  request: { params: IdParam, body: { content: { "application/json": { schema: SetTags } }, required: true } }, responses: { ...json(z.object({ tags: z.array(z.string()) })), ...errors(404) },
});
const postTags = createRoute({
  method: "post", path: "/api/v1/hosts/tags", tags: ["hosts"], summary: "Add and/or remove tags on many hosts", security: SECURITY, middleware: operator,
  request: { body: { content: { "application/json": { schema: BulkTags } }, required: true } }, responses: { ...json(z.object({ added: z.number(), removed: z.number() })), ...errors() },
});

export function hostRoutes(app: ManagerApp, d: RouteDeps): void {
  const onlineSince = () => Date.now() - d.settings.offlineAfterMs;
  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const since = onlineSince();
    const r = await d.repo.listHosts({ hostname: q.hostname, ip: q.ip, state: q.state, tag: q.tag, version: q.version }, { page: q.page, size: q.size }, since);
    return ok(c, { total: r.total, page: q.page, size: q.size, items: r.items.map((h) => hostSummary(h, since)) });
  });
  app.openapi(detail, async (c) => {
    const { id } = c.req.valid("param");
    const h = await d.repo.getHost(id);
    if (!h) throw notFound(`host ${id}`);
    return ok(c, hostDetail(h, onlineSince()));
  });
  app.openapi(putTags, async (c) => {
    const { id } = c.req.valid("param");
    const tags = [...new Set(c.req.valid("json").tags)];
    if (!(await d.repo.setTags(id, tags))) throw notFound(`host ${id}`);
    await audit(c, d.repo, "host.tag", id, { tags });
    d.services.policyPush.pushTo([id]);
    return ok(c, { tags });
  });
  app.openapi(postTags, async (c) => {
    const b = c.req.valid("json");
    const added = b.add?.length ? await d.repo.addTags(b.agent_ids, b.add) : 0;
    const removed = b.remove?.length ? await d.repo.removeTags(b.agent_ids, b.remove) : 0;
    await audit(c, d.repo, "host.tag", b.agent_ids.length === 1 ? b.agent_ids[0]! : `${b.agent_ids.length} hosts`, { agent_ids: b.agent_ids.slice(0, 100), add: b.add ?? [], remove: b.remove ?? [] });
    d.services.policyPush.pushTo(b.agent_ids);
    return ok(c, { added, removed });
  });
}
