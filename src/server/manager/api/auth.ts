// Login, logout and "who am I": tokens for the `token` header / Authorization: Bearer.
import { createRoute, z } from "@hono/zod-openapi";
import { audit, type ManagerApp, type RouteDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { errors, json, ok, SECURITY } from "./schemas.ts";
import { burnVerify, MAX_PASSWORD, verifyPassword } from "../auth/passwords.ts";
import { hashToken, newToken } from "../auth/tokens.ts";
import { createLoginLimiter } from "../auth/rate-limit.ts";
import { UserView, userView } from "./users.ts";

const Login = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(MAX_PASSWORD) }).openapi("LoginRequest");
const LoginReply = z.object({ token: z.string(), expires_at: z.number().int(), role: z.enum(["admin", "operator", "viewer"]) });

const login = createRoute({
  method: "post", path: "/api/v1/user/login", tags: ["auth"], summary: "Log in: a token for the `token` header",
  request: { body: { content: { "application/json": { schema: Login } }, required: true } },
  responses: { ...json(LoginReply), ...errors(429) },
});
const logout = createRoute({
  method: "post", path: "/api/v1/user/logout", tags: ["auth"], summary: "Revoke the caller's token", security: SECURITY,
  responses: { ...json(z.null()), ...errors() },
});
const me = createRoute({
  method: "get", path: "/api/v1/user/me", tags: ["auth"], summary: "The caller", security: SECURITY,
  responses: { ...json(UserView), ...errors() },
});

export function authRoutes(app: ManagerApp, d: RouteDeps): void {
  const limiter = createLoginLimiter({ maxFailures: d.settings.loginMaxFailures, windowMs: d.settings.loginWindowMs });
  app.openapi(login, async (c) => {
    const { username, password } = c.req.valid("json");
    const addr = c.get("remoteAddr");
    const keys = [`user:${username}`, `addr:${addr}`];
    const wait = limiter.retryAfter(keys);
    if (wait > 0) throw new ApiError(429, `too many failed logins; try again in ${wait} s`, { "retry-after": String(wait) });
    const user = await d.repo.getUserByName(username);
    const good = user ? await verifyPassword(password, user.passwordHash) : (await burnVerify(password), false);
    if (!user || !good) {
      limiter.fail(keys);
      await d.repo.audit({ at: Date.now(), actor: username, action: "user.login_failed", target: username, detail: {}, remoteAddr: addr });
      throw new ApiError(401, "wrong username or password");
    }
    limiter.reset(keys);
    const token = newToken();
    const now = Date.now();
    const expiresAt = now + d.settings.tokenTtlMs;
    await d.repo.createSession({ tokenHash: hashToken(token), userId: user.id, createdAt: now, expiresAt, remoteAddr: addr });
    await audit(c, d.repo, "user.login", user.username, {}, user.username);
    return ok(c, { token, expires_at: expiresAt, role: user.role });
  });
  app.openapi(logout, async (c) => {
    await d.repo.revokeSession(c.get("tokenHash"), Date.now());
    await audit(c, d.repo, "user.logout", c.get("user").username);
    return ok(c, null);
  });
  app.openapi(me, (c) => ok(c, userView(c.get("user"))));
}
