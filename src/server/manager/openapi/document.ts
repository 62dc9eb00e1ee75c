// /openapi.json: the OpenAPI 3 document generated from the routes' zod definitions, with the
// two ways to send a token as security schemes.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ManagerEnv } from "../api/env.ts";

export function describeApi(app: OpenAPIHono<ManagerEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "token", { type: "apiKey", in: "header", name: "token", description: "the token from POST /api/v1/user/login (Elkeid's header)" });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", description: "the same token as Authorization: Bearer" });
  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: { title: "Vigil Manager API", version: "1", description: "Errors are {code, msg} with code = the HTTP status; successes are {code: 0, msg, data}." },
  });
}
