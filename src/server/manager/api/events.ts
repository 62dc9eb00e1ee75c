// Event queries on the embedded store (viewer): by host, data_type, time range (server receive
// time) and field values (`field.<name>=<value>`, exact). 501 when this Manager has no store.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import type { ManagerApp, RouteDeps } from "./deps.ts";
import { ApiError, badRequest, nulMessage } from "./errors.ts";
import { errors, json, ok, SECURITY } from "./schemas.ts";

const zTime = z.string().max(40).transform((s, ctx) => {
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: "custom", message: "must be unix milliseconds or an ISO 8601 time" });
    return z.NEVER;
  }
  return t;
});
const Query = z.object({
  agent_id: z.string().min(1).max(128).optional(),
  data_type: z.coerce.number().int().min(0).max(1_000_000).optional(),
  since: zTime.optional(),
  until: zTime.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
});
const KNOWN = new Set(Object.keys(Query.shape));
const Event = z.object({ agent_id: z.string(), hostname: z.string(), data_type: z.number(), timestamp: z.number(), server_time: z.number(), fields: z.record(z.string(), z.string()) }).openapi("Event");
const route = createRoute({
  method: "get", path: "/api/v1/events", tags: ["events"], summary: "Query stored events (field.<name>=<value> filters)", security: SECURITY, middleware: [requireRole("viewer")],
  request: { query: Query }, responses: { ...json(z.object({ count: z.number(), items: z.array(Event) })), ...errors(501) },
});

/** With field filters the store is scanned for up to this many events. */
const FIELD_SCAN_LIMIT = 100_000;

export function eventRoutes(app: ManagerApp, d: RouteDeps): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const fields: [string, string][] = [];
    for (const [k, v] of Object.entries(c.req.query())) {
      if (KNOWN.has(k)) continue;
      const m = /^field\.([A-Za-z0-9_.-]{1,64})$/.exec(k);
      if (!m) throw badRequest(`bad request: query.${k}: unknown parameter (filters on fields are field.<name>=<value>)`);
      if (v.includes("\0")) throw badRequest(nulMessage(`query.${k}`));
      fields.push([m[1]!, v]);
    }
    if (!d.events) throw new ApiError(501, "event queries need the embedded event store (this Manager runs without one; in cluster mode events go to Kafka)");
    const base = { agentId: q.agent_id, dataType: q.data_type, sinceMs: q.since, untilMs: q.until };
    const found = await d.events.query({ ...base, limit: fields.length ? FIELD_SCAN_LIMIT : q.limit });
    const items = (fields.length ? found.filter((e) => fields.every(([k, v]) => e.fields[k] === v)) : found).slice(0, q.limit);
    return ok(c, { count: items.length, items });
  });
}
