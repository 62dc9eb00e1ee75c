// User management (admin): list, create, change role or password, delete. Changing a password
// or deleting a user revokes its sessions.
import { createRoute, z } from "@hono/zod-openapi";
import { USER_ROLES, type User, type UserRole } from "../repo/types.ts";
import { requireRole } from "../auth/middleware.ts";
import { hashPassword, MAX_PASSWORD, MIN_PASSWORD } from "../auth/passwords.ts";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { ApiError, notFound } from "./errors.ts";
import { errors, json, ok, SECURITY, zName } from "./schemas.ts";

const zRole = z.enum(USER_ROLES as [UserRole, ...UserRole[]]);
const zPassword = z.string().min(MIN_PASSWORD, `must be at least ${MIN_PASSWORD} characters`).max(MAX_PASSWORD);
export const UserView = z.object({ id: z.string(), username: z.string(), role: zRole, created_at: z.number(), updated_at: z.number() }).openapi("User");
const Create = z.strictObject({ username: zName, password: zPassword, role: zRole }).openapi("UserCreate");
const Patch = z.strictObject({ password: zPassword.optional(), role: zRole.optional() })
  .refine((v) => v.password !== undefined || v.role !== undefined, "give password and/or role").openapi("UserPatch");
const IdParam = z.object({ id: z.string().min(1).max(128) });

export function userView(u: User) {
  return { id: u.id, username: u.username, role: u.role, created_at: u.createdAt, updated_at: u.updatedAt };
}

const admin = [requireRole("admin")];
const list = createRoute({ method: "get", path: "/api/v1/users", tags: ["users"], summary: "List users", security: SECURITY, middleware: admin, responses: { ...json(z.array(UserView)), ...errors() } });
const create = createRoute({
  method: "post", path: "/api/v1/users", tags: ["users"], summary: "Create a user", security: SECURITY, middleware: admin,
  request: { body: { content: { "application/json": { schema: Create } }, required: true } }, responses: { ...json(UserView), ...errors(409) },
});
const patch = createRoute({
  method: "patch", path: "/api/v1/users/{id}", tags: ["users"], summary: "Change a user's role or password", security: SECURITY, middleware: admin,
  request: { params: IdParam, body: { content: { "application/json": { schema: Patch } }, required: true } }, responses: { ...json(UserView), ...errors(404) },
});
const del = createRoute({
  method: "delete", path: "/api/v1/users/{id}", tags: ["users"], summary: "Delete a user", security: SECURITY, middleware: admin,
  request: { params: IdParam }, responses: { ...json(z.null()), ...errors(404) },
});

export function userRoutes(app: ManagerApp, d: RouteDeps): void {
  const lastAdminGuard = async (u: User, becoming?: UserRole) => {
    if (u.role !== "admin" || becoming === "admin") return;
    const admins = (await d.repo.listUsers()).filter((x) => x.role === "admin");
    if (admins.length <= 1) throw new ApiError(409, "refused: this is the last admin");
  };
  app.openapi(list, async (c) => ok(c, (await d.repo.listUsers()).map(userView)));
  app.openapi(create, async (c) => {
    const b = c.req.valid("json");
    const u = await d.repo.createUser({ username: b.username, role: b.role, passwordHash: await hashPassword(b.password) });
    await audit(c, d.repo, "user.create", u.username, { role: u.role });
    return ok(c, userView(u));
  });
  app.openapi(patch, async (c) => {
    const { id } = c.req.valid("param");
    const b = c.req.valid("json");
    const u = await d.repo.getUser(id);
    if (!u) throw notFound(`user ${id}`);
    if (b.role) await lastAdminGuard(u, b.role);
    const next = await d.repo.updateUser(id, { ...(b.role ? { role: b.role } : {}), ...(b.password ? { passwordHash: await hashPassword(b.password) } : {}) });
    if (!next) throw notFound(`user ${id}`);
    if (b.password) await d.repo.revokeUserSessions(id, Date.now());
    await audit(c, d.repo, "user.update", u.username, { ...(b.role ? { role: b.role } : {}), password_changed: b.password !== undefined });
    return ok(c, userView(next));
  });
  app.openapi(del, async (c) => {
    const { id } = c.req.valid("param");
    const u = await d.repo.getUser(id);
    if (!u) throw notFound(`user ${id}`);
    await lastAdminGuard(u);
    await d.repo.deleteUser(id);
    await audit(c, d.repo, "user.delete", u.username);
    return ok(c, null);
  });
}
