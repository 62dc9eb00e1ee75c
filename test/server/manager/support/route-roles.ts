// Every Manager route with the smallest role it needs: routes.test.ts checks it against
// /openapi.json and each route's 401/403; bad-input.test.ts sends its cases with that role.
import type { UserRole } from "../../../../src/server/manager/repo/types.ts";

/** The minimum role of every route ("public" = no token). */
export const MIN_ROLE: Record<string, UserRole | "public"> = {
  "POST /api/v1/user/login": "public",
  "POST /api/v1/user/logout": "viewer",
  "GET /api/v1/user/me": "viewer",
  "GET /api/v1/users": "admin",
  "POST /api/v1/users": "admin",
  "PATCH /api/v1/users/{id}": "admin",
  "DELETE /api/v1/users/{id}": "admin",
  "GET /api/v1/hosts": "viewer",
  "GET /api/v1/hosts/{id}": "viewer",
  "PUT /api/v1/hosts/{id}/tags": "operator",
  "POST /api/v1/hosts/tags": "operator",
  "POST /api/v1/tasks": "operator",
  "GET /api/v1/tasks": "viewer",
  "GET /api/v1/tasks/{id}": "viewer",
  "GET /api/v1/tasks/{id}/subtasks": "viewer",
  "POST /api/v1/tasks/{id}/cancel": "operator",
  "POST /api/v1/components": "admin",
  "GET /api/v1/components": "viewer",
  "GET /api/v1/components/{id}/download": "public",
  "DELETE /api/v1/components/{id}": "admin",
  "PUT /api/v1/policies/{scope}": "admin",
  "GET /api/v1/policies": "viewer",
  "GET /api/v1/policies/{scope}": "viewer",
  "DELETE /api/v1/policies/{scope}": "admin",
  "GET /api/v1/cluster": "viewer",
  "GET /api/v1/events": "viewer",
  "GET /api/v1/audit": "admin",
};
