// grpc.Transfer/Transfer, the agent's bidirectional stream: the first PackagedData names the
// agent; every batch goes to the sink, and once it is durable a Vigil agent (seq > 0) gets
// Command{ack_seq}, in order. A sink failure ends the stream with UNAVAILABLE and no ack, so the
// agent replays from its spool. Reading pauses while too many batches await the sink.
import { status, type ServerDuplexStream } from "@grpc/grpc-js";
import { decodePayload, type grpc } from "../../common/proto.ts";
import { DataType } from "../../common/wire.ts";
import type { Logger } from "../../common/log.ts";
import type { AgentBatch, BatchListener, Sink } from "../sink.ts";
import type { Connections, AgentConn } from "./connections.ts";
import { type AcMetrics, RejectReason, dtLabel } from "./metrics.ts";

export interface TransferContext {
  sink: Sink;
  conns: Connections;
  metrics: AcMetrics;
  log: Logger;
  onBatch?: BatchListener;
  firstMessageTimeoutMs: number;
  maxInflightBatches: number;
}

type Call = ServerDuplexStream<grpc.PackagedData, grpc.Command.$Properties>;

function peerCn(call: Call): string {
  try {
    const cert = call.getAuthContext()?.sslPeerCertificate as { subject?: { CN?: string | string[] } } | undefined;
    const cn = cert?.subject?.CN;
    return Array.isArray(cn) ? cn.join(",") : cn ?? "";
  } catch {
    return "";
  }
}

function toBatch(pd: grpc.PackagedData, agentId: string, receivedAt: number): AgentBatch {
  return {
    agentId,
    hostname: pd.hostname,
    version: pd.version,
    product: pd.product,
    intranetIpv4: pd.intranetIpv4,
    extranetIpv4: pd.extranetIpv4,
    intranetIpv6: pd.intranetIpv6,
    extranetIpv6: pd.extranetIpv6,
    seq: Number(pd.seq ?? 0),
    receivedAt,
    records: pd.records,
  };
}

export function transferHandler(ctx: TransferContext): (call: Call) => void {
  const { sink, conns, metrics, log } = ctx;
  return function transfer(call: Call): void {
    let conn: AgentConn | undefined;
    let ended = false;
    let inflight = 0;
    let chain: Promise<void> = Promise.resolve();
    const addr = call.getPeer();

    const end = (code: number, details: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(firstTimer);
      if (conn && conns.remove(conn)) metrics.connections.set(conns.size);
      call.emit("error", { code, details });
    };
    const firstTimer = setTimeout(() => {
      if (conn || ended) return;
      metrics.reject(RejectReason.FirstMessageTimeout);
      log.warn("agent stream sent no first message in time; closing", { peer: addr, timeout_ms: ctx.firstMessageTimeoutMs });
      end(status.DEADLINE_EXCEEDED, `no PackagedData within ${ctx.firstMessageTimeoutMs} ms`);
    }, ctx.firstMessageTimeoutMs);
    firstTimer.unref?.();

    call.on("data", (pd: grpc.PackagedData) => {
      if (ended) return;
      const now = Date.now();
      if (!conn) {
        if (!pd.agentId) {
          metrics.reject(RejectReason.NoAgentId);
          log.warn("agent stream refused: the first message has no agent_id", { peer: addr });
          return end(status.INVALID_ARGUMENT, "the first PackagedData must carry agent_id");
        }
        clearTimeout(firstTimer);
        const c: AgentConn = {
          agentId: pd.agentId, hostname: pd.hostname, version: pd.version, product: pd.product,
          intranetIpv4: pd.intranetIpv4, extranetIpv4: pd.extranetIpv4, intranetIpv6: pd.intranetIpv6, extranetIpv6: pd.extranetIpv6,
          addr, certCn: peerCn(call), connectedAt: now, lastSeen: now, batches: 0, records: 0,
          send: (cmd) => {
            if (!ended) call.write(cmd);
          },
          close: (code, details) => end(code, details),
        };
        conn = c;
        const old = conns.add(c);
        if (old) {
          metrics.reject(RejectReason.Replaced);
          log.info("a new stream replaces the agent's old one", { agent_id: c.agentId, old_peer: old.addr, peer: addr });
          old.close(status.ABORTED, "replaced by a newer stream of the same agent");
        }
        metrics.streams.inc();
        metrics.connections.set(conns.size);
        log.info("agent connected", { agent_id: c.agentId, hostname: c.hostname, version: c.version, peer: addr, cert_cn: c.certCn });
      } else if (pd.agentId && pd.agentId !== conn.agentId) {
        metrics.reject(RejectReason.AgentIdChanged);
        log.warn("agent stream refused: agent_id changed mid-stream", { agent_id: conn.agentId, new_agent_id: pd.agentId, peer: addr });
        return end(status.INVALID_ARGUMENT, "agent_id changed within one stream");
      }
      const c = conn;
      c.lastSeen = now;
      c.batches++;
      c.records += pd.records.length;
      if (pd.hostname) c.hostname = pd.hostname;
      metrics.batches.inc();
      const perDt = new Map<string, [number, number]>();
      for (const r of pd.records) {
        const label = dtLabel(r.dataType ?? 0);
        const e = perDt.get(label) ?? [0, 0];
        e[0]++;
        e[1] += r.data?.length ?? 0;
        perDt.set(label, e);
        if (r.dataType === DataType.AgentHeartbeat) {
          try {
            c.heartbeat = decodePayload(r.data ?? new Uint8Array());
          } catch {
            metrics.reject(RejectReason.Malformed);
          }
        }
      }
      for (const [label, [n, b]] of perDt) {
        metrics.records.inc({ data_type: label }, n);
        metrics.bytes.inc({ data_type: label }, b);
      }

      const batch = toBatch(pd, c.agentId, now);
      const written = batch.records.length > 0 ? sink.write(batch) : Promise.resolve();
      written.catch(() => {}); // handled in order below
      if (++inflight >= ctx.maxInflightBatches) call.pause();
      chain = chain.then(async () => {
        try {
          await written;
        } catch (e) {
          if (!ended) {
            metrics.reject(RejectReason.SinkError);
            log.error("sink refused a batch; closing the stream so the agent replays it", { agent_id: c.agentId, sink: sink.name, seq: batch.seq, error: e as Error });
            end(status.UNAVAILABLE, `the server could not store the batch (${sink.name}); replay it`);
          }
          return;
        } finally {
          if (--inflight < ctx.maxInflightBatches && !ended) call.resume();
        }
        if (ended) return;
        if (batch.records.length > 0) {
          metrics.durable.inc();
          try {
            ctx.onBatch?.(batch);
          } catch (e) {
            log.error("batch listener failed", { error: e as Error });
          }
        }
        if (batch.seq > 0) {
          call.write({ ackSeq: batch.seq });
          metrics.acks.inc();
        }
      });
    });
    call.on("end", () => {
      // the agent half-closed: finish acks in flight, then close with OK
      chain.then(() => {
        if (ended) return;
        ended = true;
        clearTimeout(firstTimer);
        if (conn && conns.remove(conn)) metrics.connections.set(conns.size);
        call.end();
      });
    });
    call.on("cancelled", () => {
      if (ended) return;
      ended = true;
      clearTimeout(firstTimer);
      if (conn && conns.remove(conn)) metrics.connections.set(conns.size);
      if (conn) log.info("agent disconnected", { agent_id: conn.agentId, peer: addr });
    });
    call.on("error", () => {}); // the status is sent by grpc-js; nothing else to do
  };
}
