// The AC's HTTP API for the Manager (Elkeid's shapes, responses {code, msg, data}): connection
// stat/list/count/reset, POST /command/ to push a Command to one agent (Elkeid's Manager uses
// it) and POST /command/batch to push many in one call (Vigil's Manager, ac-client.ts). Every
// route but /ping and /metrics must be signed (internal-auth.ts). Errors: 400 bad input, 401
// unsigned, 404 agent not connected (/command/ only), 413 batch over MAX_BATCH_COMMANDS.
import { Hono } from "hono";
import { z } from "zod";
import { status } from "@grpc/grpc-js";
import { internalAuth } from "../../common/internal-auth.ts";
import type { grpc } from "../../common/proto.ts";
import type { Connections, AgentConn } from "./connections.ts";
import type { AcMetrics } from "./metrics.ts";

export const Code = { Ok: 0, NotConnected: 1, BadRequest: 2, Internal: 3 } as const;
const PUBLIC = new Set(["/ping", "/metrics"]);

const zTask = z.object({
  data_type: z.number().int(),
  object_name: z.string().default(""),
  data: z.string().default(""),
  token: z.string().default(""),
});
const zConfig = z.object({
  name: z.string(),
  type: z.string().default(""),
  version: z.string().default(""),
  sha256: z.string().default(""),
  signature: z.string().default(""),
  download_url: z.array(z.string()).optional(),
  download_urls: z.array(z.string()).optional(),
  detail: z.string().default(""),
});
const zCommand = z.object({
  agent_id: z.string().min(1, "agent_id is required"),
  command: z.object({
    agent_ctrl: z.number().int().default(0),
    task: zTask.optional(),
    config: z.array(zConfig).optional(),
  }),
});
/** entries per POST /command/batch; the Manager's ac-client.ts sends chunks below this */
export const MAX_BATCH_COMMANDS = 5_000;
const zBatch = z.object({ commands: z.array(zCommand) });
const zReset = z.object({ agent_id: z.string().min(1).optional(), agent_ids: z.array(z.string().min(1)).optional() })
  .refine((v) => v.agent_id !== undefined || (v.agent_ids?.length ?? 0) > 0, "agent_id or agent_ids is required");

export function toCommand(c: z.infer<typeof zCommand>["command"]): grpc.Command.$Properties {
  return {
    agentCtrl: c.agent_ctrl,
    task: c.task ? { dataType: c.task.data_type, objectName: c.task.object_name, data: c.task.data, token: c.task.token } : undefined,
    configs: (c.config ?? []).map((x) => ({ name: x.name, type: x.type, version: x.version, sha256: x.sha256, signature: x.signature, downloadUrls: x.download_urls ?? x.download_url ?? [], detail: x.detail })),
  };
}

function connInfo(c: AgentConn) {
  return {
    agent_id: c.agentId, hostname: c.hostname, version: c.version, product: c.product,
    intranet_ipv4: c.intranetIpv4, extranet_ipv4: c.extranetIpv4, intranet_ipv6: c.intranetIpv6, extranet_ipv6: c.extranetIpv6,
    addr: c.addr, cert_cn: c.certCn, create_at: Math.floor(c.connectedAt / 1000), last_seen: Math.floor(c.lastSeen / 1000),
    batches: c.batches, records: c.records,
  };
}

export interface HttpApiContext {
  secret: string;
  conns: Connections;
  metrics: AcMetrics;
  sendCommand(agentId: string, cmd: grpc.Command.$Properties): boolean;
}

async function jsonBody(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    return Symbol.for("bad-json");
  }
}

/** the first few problems (a bad 5,000-entry batch must not answer with 5,000 of them) */
function issues(e: z.ZodError, max = 5): string {
  const shown = e.issues.slice(0, max).map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  return e.issues.length > max ? `${shown}; and ${e.issues.length - max} more` : shown;
}

export function createAcHttpApi(ctx: HttpApiContext): Hono {
  const app = new Hono();
  app.use("*", internalAuth({ secret: ctx.secret, skip: (p) => PUBLIC.has(p), onReject: () => ctx.metrics.httpUnauthorized.inc() }));
  app.get("/ping", (c) => c.text("PONG"));
  app.get("/metrics", async (c) => c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType }));
  app.get("/conn/count", (c) => c.json({ code: Code.Ok, msg: "success", data: ctx.conns.size }));
  app.get("/conn/list", (c) => c.json({ code: Code.Ok, msg: "success", data: ctx.conns.all().map((x) => x.agentId) }));
  app.get("/conn/stat", (c) => {
    const id = c.req.query("agent_id");
    const list = id ? [ctx.conns.get(id)].filter((x): x is AgentConn => !!x) : ctx.conns.all();
    return c.json({ code: Code.Ok, msg: "success", data: list.map((x) => ({ ...connInfo(x), heartbeat: x.heartbeat ?? {} })) });
  });
  app.post("/conn/reset", async (c) => {
    const body = await jsonBody(c.req.raw);
    const r = zReset.safeParse(body);
    if (!r.success) return c.json({ code: Code.BadRequest, msg: `bad request: ${typeof body === "symbol" ? "body is not JSON" : issues(r.error)}` }, 400);
    const ids = [...(r.data.agent_ids ?? []), ...(r.data.agent_id ? [r.data.agent_id] : [])];
    const reset: string[] = [];
    for (const id of ids) {
      const conn = ctx.conns.get(id);
      if (conn) {
        conn.close(status.UNAVAILABLE, "connection reset by the server; reconnect");
        reset.push(id);
      }
    }
    return c.json({ code: Code.Ok, msg: "success", data: { reset, not_connected: ids.filter((i) => !reset.includes(i)) } });
  });
  const command = async (c: import("hono").Context) => {
    const body = await jsonBody(c.req.raw);
    const r = zCommand.safeParse(body);
    if (!r.success) {
      ctx.metrics.commands.inc({ result: "bad_request" });
      return c.json({ code: Code.BadRequest, msg: `bad request: ${typeof body === "symbol" ? "body is not JSON" : issues(r.error)}` }, 400);
    }
    if (!ctx.sendCommand(r.data.agent_id, toCommand(r.data.command))) {
      ctx.metrics.commands.inc({ result: "not_connected" });
      return c.json({ code: Code.NotConnected, msg: `agent ${r.data.agent_id} is not connected to this AC` }, 404);
    }
    ctx.metrics.commands.inc({ result: "sent" });
    return c.json({ code: Code.Ok, msg: "success" });
  };
  app.post("/command/", command);
  app.post("/command", command);
  // all entries are validated before any is sent: a bad batch sends nothing
  const batch = async (c: import("hono").Context) => {
    const body = await jsonBody(c.req.raw);
    const n = (body as { commands?: unknown } | null)?.commands;
    if (Array.isArray(n) && n.length > MAX_BATCH_COMMANDS) {
      ctx.metrics.commands.inc({ result: "bad_request" });
      return c.json({ code: Code.BadRequest, msg: `bad request: ${n.length} commands, at most ${MAX_BATCH_COMMANDS} per batch` }, 413);
    }
    const r = zBatch.safeParse(body);
    if (!r.success) {
      ctx.metrics.commands.inc({ result: "bad_request" });
      return c.json({ code: Code.BadRequest, msg: `bad request: ${typeof body === "symbol" ? "body is not JSON" : issues(r.error)}` }, 400);
    }
    const sent: string[] = [];
    const notConnected: string[] = [];
    for (const e of r.data.commands) (ctx.sendCommand(e.agent_id, toCommand(e.command)) ? sent : notConnected).push(e.agent_id);
    if (sent.length) ctx.metrics.commands.inc({ result: "sent" }, sent.length);
    if (notConnected.length) ctx.metrics.commands.inc({ result: "not_connected" }, notConnected.length);
    return c.json({ code: Code.Ok, msg: "success", data: { sent, not_connected: notConnected } });
  };
  app.post("/command/batch", batch);
  app.post("/command/batch/", batch);
  app.notFound((c) => c.json({ code: Code.BadRequest, msg: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((e, c) => c.json({ code: Code.Internal, msg: `internal error: ${e.message}` }, 500));
  return app;
}
