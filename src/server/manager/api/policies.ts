// Policies: the desired component set for all hosts ("all") or one tag ("tag:<name>"). Admins
// set and delete them; each change is pushed to the hosts it covers (services/policy-push.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import type { Policy } from "../repo/types.ts";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { badRequest, notFound } from "./errors.ts";
import { errors, json, ok, SECURITY } from "./schemas.ts";

const zScope = z.string().regex(/^(all|tag:[A-Za-z0-9][A-Za-z0-9._:@-]{0,63})$/, 'must be "all" or "tag:<name>"');
const Put = z.strictObject({ components: z.array(z.string().min(1).max(128)).max(256) }).openapi("PolicyPut");
const PolicyView = z.object({ scope: z.string(), components: z.array(z.string()), updated_by: z.string(), updated_at: z.number() }).openapi("Policy");
const ScopeParam = z.object({ scope: zScope });
const view = (p: Policy) => ({ scope: p.scope, components: p.components, updated_by: p.updatedBy, updated_at: p.updatedAt });

const admin = [requireRole("admin")];
const put = createRoute({
  method: "put", path: "/api/v1/policies/{scope}", tags: ["policies"], summary: "Set a scope's desired components", security: SECURITY, middleware: admin,
  request: { params: ScopeParam, body: { content: { "application/json": { schema: Put } }, required: true } }, responses: { ...json(PolicyView), ...errors() },
});
const list = createRoute({
  method: "get", path: "/api/v1/policies", tags: ["policies"], summary: "List policies", security: SECURITY, middleware: [requireRole("viewer")],
  responses: { ...json(z.array(PolicyView)), ...errors() },
});
const get = createRoute({
  method: "get", path: "/api/v1/policies/{scope}", tags: ["policies"], summary: "One policy", security: SECURITY, middleware: [requireRole("viewer")],
  request: { params: ScopeParam }, responses: { ...json(PolicyView), ...errors(404) },
});
const del = createRoute({
  method: "delete", path: "/api/v1/policies/{scope}", tags: ["policies"], summary: "Delete a policy", security: SECURITY, middleware: admin,
  request: { params: ScopeParam }, responses: { ...json(z.null()), ...errors(404) },
});

export function policyRoutes(app: ManagerApp, d: RouteDeps): void {
  app.openapi(put, async (c) => {
    const { scope } = c.req.valid("param");
    const ids = [...new Set(c.req.valid("json").components)];
    const names = new Map<string, string>();
    for (const id of ids) {
      const comp = await d.repo.getComponent(id);
      if (!comp) throw badRequest(`bad request: body.components: unknown component ${id}`);
      if (names.has(comp.name)) throw badRequest(`bad request: body.components: ${names.get(comp.name)} and ${id} are both ${comp.name}; give one version`);
      names.set(comp.name, id);
    }
    const p: Policy = { scope, components: ids, updatedBy: c.get("user").username, updatedAt: Date.now() };
    await d.repo.setPolicy(p);
    await audit(c, d.repo, "policy.set", scope, { components: ids });
    d.services.policyPush.pushScope(scope);
    return ok(c, view(p));
  });
  app.openapi(list, async (c) => ok(c, (await d.repo.listPolicies()).map(view)));
  app.openapi(get, async (c) => {
    const { scope } = c.req.valid("param");
    const p = await d.repo.getPolicy(scope);
    if (!p) throw notFound(`policy ${scope}`);
    return ok(c, view(p));
  });
  app.openapi(del, async (c) => {
    const { scope } = c.req.valid("param");
    if (!(await d.repo.deletePolicy(scope))) throw notFound(`policy ${scope}`);
    await audit(c, d.repo, "policy.delete", scope);
    d.services.policyPush.pushScope(scope);
    return ok(c, null);
  });
}
