// The cluster view (viewer): SD nodes (/ping, their registry) and AC nodes (/ping, live
// connection count) with health and load.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import type { ManagerApp, RouteDeps } from "./deps.ts";
import { errors, json, ok, SECURITY } from "./schemas.ts";

const Node = z.object({ url: z.string(), healthy: z.boolean(), error: z.string().optional(), connections: z.number().optional(), entries: z.number().optional() }).openapi("ClusterNode");
const route = createRoute({
  method: "get", path: "/api/v1/cluster", tags: ["cluster"], summary: "SD and AC nodes with health and load", security: SECURITY, middleware: [requireRole("viewer")],
  responses: { ...json(z.object({ sd: z.array(Node), ac: z.array(Node) })), ...errors() },
});

const TIMEOUT_MS = 3_000;

export function clusterRoutes(app: ManagerApp, d: RouteDeps): void {
  const acs = d.services.acClient;
  const probe = async (url: string, load: () => Promise<Partial<z.infer<typeof Node>>>) => {
    try {
      const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      await r.arrayBuffer();
      if (!r.ok) return { url, healthy: false, error: `ping: HTTP ${r.status}` };
      return { url, healthy: true, ...(await load()) };
    } catch (e) {
      return { url, healthy: false, error: (e as Error).message };
    }
  };
  app.openapi(route, async (c) => {
    const sd = await Promise.all(d.services.sdUrls.map((url) => probe(url, async () => {
      const r = await fetch(`${url}/registry/list`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const body = (await r.json()) as { data?: unknown[] };
      return { entries: body.data?.length ?? 0 };
    })));
    let acUrls: string[] = [];
    try {
      acUrls = await acs.acUrls();
    } catch {}
    const ac = await Promise.all(acUrls.map((url) => probe(url, async () => {
      const body = (await d.services.acClient.get(url, "/conn/count")) as { data?: number };
      return { connections: Number(body.data ?? 0) };
    })));
    return ok(c, { sd, ac });
  });
}
