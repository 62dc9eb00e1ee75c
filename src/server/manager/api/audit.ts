// The audit log (admin): who changed what, when, from where; filtered and paged, newest first.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import type { ManagerApp, RouteDeps } from "./deps.ts";
import { errors, json, ok, PageQuery, SECURITY } from "./schemas.ts";

const Query = z.strictObject({
  actor: z.string().max(64).optional(), action: z.string().max(64).optional(),
  since: z.coerce.number().int().min(0).optional(), until: z.coerce.number().int().min(0).optional(), ...PageQuery,
});
const Entry = z.object({ id: z.string(), at: z.number(), actor: z.string(), action: z.string(), target: z.string(), detail: z.record(z.string(), z.unknown()), remote_addr: z.string() }).openapi("AuditEntry");
const route = createRoute({
  method: "get", path: "/api/v1/audit", tags: ["audit"], summary: "The audit log", security: SECURITY, middleware: [requireRole("admin")],
  request: { query: Query }, responses: { ...json(z.object({ total: z.number(), items: z.array(Entry) })), ...errors() },
});

export function auditRoutes(app: ManagerApp, d: RouteDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const r = await d.repo.listAudit({ actor: q.actor, action: q.action, since: q.since, until: q.until }, { page: q.page, size: q.size });
    return ok(c, { total: r.total, items: r.items.map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, detail: e.detail, remote_addr: e.remoteAddr })) });
  });
}
