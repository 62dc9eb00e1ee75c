// The Manager's routes for other roles, not for operators (so not in /openapi.json, and not
// behind the token auth): POST /internal/v1/agent-records takes the heartbeats and task results an
// AC in another process forwards (src/server/ac/manager-feed.ts defines the body and its limits)
// and gives them to the same ingest as the in-process path; it answers once they are written.
// Every /internal/* request must be signed with the internal secret (internal-auth.ts) → else 401.
import { z } from "zod";
import { bodyLimit } from "hono/body-limit";
import type { Hono } from "hono";
import { internalAuth } from "../../../common/internal-auth.ts";
import type { Logger } from "../../../common/log.ts";
import { AGENT_RECORDS_PATH, FEED_DATA_TYPES, FEED_LIMITS, type AgentBatchJson } from "../../ac/manager-feed.ts";
import type { AgentBatch, BatchListener } from "../../sink.ts";
import { ApiError, describeIssues, findNul, nulMessage } from "./errors.ts";

export interface InternalRouteOptions {
  secret: string;
  /** the ingest's listener (services/ingest.ts) */
  ingest: BatchListener;
  /** resolves once what ingest holds is written; awaited before answering */
  flush?: () => Promise<void>;
  log: Logger;
}

const L = FEED_LIMITS;
const str = z.string().max(L.stringChars);
const addresses = z.array(z.string().max(L.addressChars)).max(L.addressesPerList);
// canonical base64 (what Buffer#toString("base64") writes), at most recordBytes decoded
const base64 = z.string().max(Math.ceil(L.recordBytes / 3) * 4).regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "expected base64");
const record = z.strictObject({
  data_type: z.int().refine((dt) => FEED_DATA_TYPES.has(dt), { message: `expected one of ${[...FEED_DATA_TYPES].join(", ")}` }),
  timestamp: z.int(),
  data: base64,
});
const batch = z.strictObject({
  agent_id: str.min(1), hostname: str, version: str, product: str,
  intranet_ipv4: addresses, extranet_ipv4: addresses, intranet_ipv6: addresses, extranet_ipv6: addresses,
  received_at: z.int().nonnegative(),
  records: z.array(record).min(1).max(L.recordsPerPost),
});
export const AgentRecordsSchema = z.strictObject({
  ac_addr: str.optional(),
  batches: z.array(batch).min(1).max(L.recordsPerPost),
}).refine((b) => b.batches.reduce((n, x) => n + x.records.length, 0) <= L.recordsPerPost, { message: `at most ${L.recordsPerPost} records in all`, path: ["batches"] });

function toBatch(b: AgentBatchJson): AgentBatch {
  return {
    agentId: b.agent_id, hostname: b.hostname, version: b.version, product: b.product,
    intranetIpv4: b.intranet_ipv4, extranetIpv4: b.extranet_ipv4, intranetIpv6: b.intranet_ipv6, extranetIpv6: b.extranet_ipv6,
    seq: 0, receivedAt: b.received_at,
    records: b.records.map((r) => ({ dataType: r.data_type, timestamp: r.timestamp, data: Buffer.from(r.data, "base64") })),
  };
}

export function internalRoutes(app: Hono<any>, o: InternalRouteOptions): void {
  app.use(
    "/internal/*",
    bodyLimit({ maxSize: L.bodyBytes, onError: () => { throw new ApiError(413, `request body too large (at most ${L.bodyBytes} bytes)`); } }),
    internalAuth({ secret: o.secret, onReject: (reason) => o.log.warn("refused an internal call", { reason }) }),
  );
  app.post(AGENT_RECORDS_PATH, async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new ApiError(400, "bad request: the body is not JSON");
    }
    const parsed = AgentRecordsSchema.safeParse(raw);
    if (!parsed.success) throw new ApiError(400, `bad request: ${describeIssues(parsed.error)}`);
    const nul = findNul(parsed.data);
    if (nul !== undefined) throw new ApiError(400, nulMessage(`body${nul}`));
    let records = 0;
    for (const b of parsed.data.batches) {
      o.ingest(toBatch(b));
      records += b.records.length;
    }
    await o.flush?.();
    return c.json({ code: 0, msg: "ok", data: { batches: parsed.data.batches.length, records } });
  });
}
