// SD's HTTP API (DESIGN.md "SD HTTP"): register, evict and sync are signed internal calls;
// detail, list and summary are read by agents and stay open. Every answer is {code, msg, data}
// (code 0 = ok); bad input gets a 400 naming the field.
import { Hono } from "hono";
import type { Context } from "hono";
import type { z } from "zod";
import { internalAuth } from "../../common/internal-auth.ts";
import type { Logger } from "../../common/log.ts";
import type { Registry } from "./registry.ts";
import type { Replicator } from "./replicate.ts";
import type { SdMetrics } from "./metrics.ts";
import { DetailQuery, EvictBody, RegisterBody, SyncBody, describe } from "./schemas.ts";

/** Largest request body SD reads (a full sync batch of small entries fits). */
export const MAX_BODY_BYTES = 4 << 20;
const SIGNED = new Set(["/registry/register", "/registry/evict", "/registry/sync"]);

export interface SdAppOptions {
  registry: Registry;
  replicator: Replicator;
  metrics: SdMetrics;
  secret: string;
  log: Logger;
}

class BadRequest extends Error {}

async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new BadRequest(`body over ${MAX_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRequest("body is not valid JSON");
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new BadRequest(describe(r.error));
  return r.data;
}

const ok = (c: Context, data: unknown = null) => c.json({ code: 0, msg: "ok", data });

export function sdApp(o: SdAppOptions): Hono {
  const { registry: reg, replicator, metrics } = o;
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    metrics.requests.inc({ route: SIGNED.has(c.req.path) || c.req.path.startsWith("/registry/") ? c.req.path : c.req.path === "/metrics" || c.req.path === "/ping" ? c.req.path : "other", status: String(c.res.status) });
  });
  app.use("/registry/*", internalAuth({
    secret: o.secret,
    skip: (p) => !SIGNED.has(p),
    onReject: (reason) => { metrics.rejects.inc({ reason: "unauthorized" }); o.log.warn("unsigned or badly signed call refused", { reason }); },
  }));

  app.post("/registry/register", async (c) => {
    const e = await body(c, RegisterBody);
    const entry = reg.register(e);
    metrics.registrations.inc({ origin: "client" });
    replicator.register(e);
    return ok(c, entry);
  });
  app.post("/registry/evict", async (c) => {
    const k = await body(c, EvictBody);
    const had = reg.evict(k);
    if (had) metrics.evictions.inc({ reason: "api" });
    replicator.evict(k);
    return ok(c, { evicted: had });
  });
  app.post("/registry/sync", async (c) => {
    const s = await body(c, SyncBody);
    for (const e of s.register) reg.register(e);
    let evicted = 0;
    for (const k of s.evict) if (reg.evict(k)) evicted++;
    metrics.registrations.inc({ origin: "sync" }, s.register.length);
    metrics.evictions.inc({ reason: "sync" }, evicted);
    return ok(c, { registered: s.register.length, evicted });
  });
  app.get("/registry/detail", (c) => {
    const q = DetailQuery.safeParse({ name: c.req.query("name"), count: c.req.query("count") });
    if (!q.success) throw new BadRequest(describe(q.error));
    return ok(c, reg.detail(q.data.name, q.data.count));
  });
  app.get("/registry/list", (c) => ok(c, reg.list()));
  app.get("/registry/summary", (c) => ok(c, reg.summary()));
  app.get("/ping", (c) => c.json({ code: 0, msg: "pong", data: null }));
  app.get("/metrics", async (c) => {
    metrics.entries.reset();
    for (const [name, n] of reg.counts()) metrics.entries.set({ name }, n);
    return c.text(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });

  app.notFound((c) => {
    metrics.rejects.inc({ reason: "not_found" });
    return c.json({ code: 404, msg: `no route ${c.req.method} ${c.req.path}`, data: null }, 404);
  });
  app.onError((err, c) => {
    if (err instanceof BadRequest) {
      metrics.rejects.inc({ reason: "invalid" });
      return c.json({ code: 400, msg: err.message, data: null }, 400);
    }
    o.log.error("request failed", { path: c.req.path, error: err });
    return c.json({ code: 500, msg: "internal error", data: null }, 500);
  });
  return app;
}
