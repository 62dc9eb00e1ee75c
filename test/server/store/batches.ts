// Test helpers: agent batches with recognisable records (a "n" sequence field per record).
import { encodePayload } from "../../../src/common/proto.ts";
import { createLogger } from "../../../src/common/log.ts";
import type { AgentBatch } from "../../../src/server/sink.ts";

export const quietLog = createLogger({ component: "test", level: (process.env.VIGIL_LOG_LEVEL as any) ?? "error" });

export function makeBatch(o: { agentId?: string; seq?: number; n?: number; first?: number; dataType?: number; receivedAt?: number; fields?: Record<string, string> } = {}): AgentBatch {
  const n = o.n ?? 3;
  const first = o.first ?? 0;
  const records = Array.from({ length: n }, (_, i) => ({
    dataType: o.dataType ?? 59,
    timestamp: 1_700_000_000 + i,
    data: encodePayload({ n: String(first + i), exe: "/usr/bin/true", ...o.fields }),
  }));
  return {
    agentId: o.agentId ?? "agent-1", hostname: "host-1", version: "1.0.0", product: "vigil-agent",
    intranetIpv4: ["10.0.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
    seq: o.seq ?? 1, receivedAt: o.receivedAt ?? Date.now(), records,
  };
}
