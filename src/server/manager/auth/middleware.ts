// Authentication and role checks: requireAuth() resolves the token to a live session and its
// user; requireRole(min) refuses callers below min (viewer < operator < admin) with 403.
import type { MiddlewareHandler } from "hono";
import type { Repository, UserRole } from "../repo/types.ts";
import type { ManagerEnv } from "../api/env.ts";
import { ApiError } from "../api/errors.ts";
import { hashToken, tokenFrom } from "./tokens.ts";

const RANK: Record<UserRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: UserRole, min: UserRole): boolean {
  return RANK[role] >= RANK[min];
}

export function requireAuth(opts: { repo: Repository; now?: () => number }): MiddlewareHandler<ManagerEnv> {
  const now = opts.now ?? Date.now;
  return async function requireAuthMiddleware(c, next) {
    const token = tokenFrom(c.req);
    if (!token) throw new ApiError(401, "unauthorized: log in first and send the token in the `token` header or as Authorization: Bearer");
    const tokenHash = hashToken(token);
    const s = await opts.repo.getSession(tokenHash);
    if (!s || s.revokedAt !== null || s.expiresAt <= now()) throw new ApiError(401, "unauthorized: the token is unknown, expired or revoked; log in again");
    const user = await opts.repo.getUser(s.userId);
    if (!user) throw new ApiError(401, "unauthorized: the token's user no longer exists");
    c.set("user", user);
    c.set("tokenHash", tokenHash);
    await next();
  };
}

export function requireRole(min: UserRole): MiddlewareHandler<ManagerEnv> {
  return async function requireRoleMiddleware(c, next) {
    const user = c.get("user");
    if (!user) throw new ApiError(401, "unauthorized");
    if (!roleAtLeast(user.role, min)) throw new ApiError(403, `forbidden: this needs the ${min} role (you are ${user.role})`);
    await next();
  };
}
