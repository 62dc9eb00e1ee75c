// Builds the Manager's hono app: remote address, body limits, authentication for /api/v1 (all
// but login and component downloads), the route modules, /openapi.json, /ping and /metrics,
// the internal routes for other roles (signed, not in /openapi.json; when given), and the one
// error handler.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { getConnInfo } from "hono/bun";
import type { MiddlewareHandler } from "hono";
import { requireAuth } from "../auth/middleware.ts";
import type { ManagerEnv } from "./env.ts";
import type { RouteDeps } from "./deps.ts";
import { ApiError, createErrorHandler, notFoundHandler, validationHook } from "./errors.ts";
import { authRoutes } from "./auth.ts";
import { userRoutes } from "./users.ts";
import { hostRoutes } from "./hosts.ts";
import { taskRoutes } from "./tasks.ts";
import { componentRoutes, isDownloadPath, UPLOAD_PATH } from "./components.ts";
import { policyRoutes } from "./policies.ts";
import { clusterRoutes } from "./cluster.ts";
import { eventRoutes } from "./events.ts";
import { auditRoutes } from "./audit.ts";
import { internalRoutes, type InternalRouteOptions } from "./internal.ts";
import { describeApi } from "../openapi/document.ts";
import type { ManagerMetrics } from "../services/metrics.ts";

const PUBLIC = new Set(["/api/v1/user/login"]);

function remoteAddress(): MiddlewareHandler<ManagerEnv> {
  return async function remoteAddressMiddleware(c, next) {
    let addr = "local";
    try {
      addr = getConnInfo(c).remote.address ?? "unknown";
    } catch {
      // app.request() in tests: no server behind the request
    }
    c.set("remoteAddr", addr);
    await next();
  };
}

export function buildApp(d: RouteDeps & { metrics: ManagerMetrics; internal?: InternalRouteOptions }): OpenAPIHono<ManagerEnv> {
  const app = new OpenAPIHono<ManagerEnv>({ defaultHook: validationHook as never });
  app.onError(createErrorHandler({ log: d.log }));
  app.notFound(notFoundHandler);
  app.use("*", async (c, next) => {
    await next();
    d.metrics.requests.inc({ method: c.req.method, route: c.req.routePath, status: String(c.res.status) });
  });
  app.use("*", remoteAddress());
  const tooLarge = (max: number) => () => {
    throw new ApiError(413, `request body too large (at most ${max} bytes)`);
  };
  const jsonLimit = bodyLimit({ maxSize: d.settings.bodyLimitBytes, onError: tooLarge(d.settings.bodyLimitBytes) });
  const uploadLimit = bodyLimit({ maxSize: d.settings.componentMaxBytes + 64 * 1024, onError: tooLarge(d.settings.componentMaxBytes) });
  app.use("/api/v1/*", (c, next) => (c.req.method === "POST" && c.req.path === UPLOAD_PATH ? uploadLimit(c, next) : jsonLimit(c, next)));
  const auth = requireAuth({ repo: d.repo });
  app.use("/api/v1/*", (c, next) => (PUBLIC.has(c.req.path) || (c.req.method === "GET" && isDownloadPath(c.req.path)) ? next() : auth(c, next)));

  authRoutes(app, d);
  userRoutes(app, d);
  hostRoutes(app, d);
  taskRoutes(app, d);
  componentRoutes(app, d);
  policyRoutes(app, d);
  clusterRoutes(app, d);
  eventRoutes(app, d);
  auditRoutes(app, d);
  if (d.internal) internalRoutes(app, d.internal);

  app.get("/ping", (c) => c.json({ code: 0, msg: "pong", data: null }));
  app.get("/metrics", async (c) => c.text(await d.metrics.registry.metrics(), 200, { "content-type": d.metrics.registry.contentType }));
  describeApi(app);
  return app;
}
