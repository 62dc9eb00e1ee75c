// grpc.Transfer/Transfer, the agent's bidirectional stream: the first PackagedData names the
// agent; every batch goes to the sink, and once it is durable a Vigil agent (seq > 0) gets
// Command{ack_seq}, in order (cumulative; coalesced per stream by ack-batcher.ts). A sink
// failure ends the stream with UNAVAILABLE and no ack for it, so the agent replays from its
// spool. Reading pauses while too many batches await the sink. Batches stay the protobuf bytes
// they arrived as (packaged.ts); the store writes those bytes.
import { Status as status, type ServerCall } from "./h2/grpc.ts";
import { decodePayload, type grpc } from "../../common/proto.ts";
import type { Logger } from "../../common/log.ts";
import type { BatchListener, Sink } from "../sink.ts";
import type { WireBatch } from "../store/entry.ts";
import type { Connections, AgentConn } from "./connections.ts";
import { type AcMetrics, RejectReason } from "./metrics.ts";
import type { ScannedPackagedData } from "./packaged.ts";
import type { AckBatcher, AckTarget } from "./ack-batcher.ts";

export interface TransferContext {
  sink: Sink;
  conns: Connections;
  metrics: AcMetrics;
  log: Logger;
  acks: AckBatcher;
  onBatch?: BatchListener;
  firstMessageTimeoutMs: number;
  maxInflightBatches: number;
}

type Call = ServerCall;

function peerCn(call: Call): string {
  try {
    const cn = (call.peerCertificate()?.subject as { CN?: string | string[] } | undefined)?.CN;
    return Array.isArray(cn) ? cn.join(",") : cn ?? "";
  } catch {
    return "";
  }
}

/** The sink's view of one received PackagedData: its wire bytes, records decoded only on demand. */
function toBatch(pd: ScannedPackagedData, agentId: string, receivedAt: number): WireBatch {
  return {
    agentId,
    hostname: pd.hostname,
    version: pd.version,
    product: pd.product,
    intranetIpv4: pd.intranetIpv4,
    extranetIpv4: pd.extranetIpv4,
    intranetIpv6: pd.intranetIpv6,
    extranetIpv6: pd.extranetIpv6,
    seq: pd.seq,
    receivedAt,
    wire: pd.wire,
    wireHasAgentId: pd.agentId === agentId,
    recordCount: pd.recordCount,
    dataTypes: pd.dataTypes,
    get records() {
      return pd.records;
    },
  };
}

/** A batch handed to the sink, waiting for its turn to be acknowledged (in order). */
interface InFlight {
  batch: WireBatch;
  settled: boolean;
  error?: unknown;
}

export function transferHandler(ctx: TransferContext): (call: Call) => void {
  const { sink, conns, metrics, log, acks } = ctx;
  return function transfer(call: Call): void {
    let conn: AgentConn | undefined;
    let ended = false;
    let paused = false;
    let halfClosed = false;
    const fifo: InFlight[] = [];
    let head = 0;
    const addr = call.peer;
    const ackTarget: AckTarget = {
      sendAck(seq: number) {
        if (ended) return;
        call.write({ ackSeq: seq });
        metrics.countAck();
      },
    };

    const forget = () => {
      clearTimeout(firstTimer);
      acks.drop(ackTarget);
      if (conn && conns.remove(conn)) metrics.connections.set(conns.size);
    };
    const end = (code: number, details: string) => {
      if (ended) return;
      acks.flush(ackTarget); // what is durable is acknowledged before the stream goes
      ended = true;
      forget();
      call.end(code, details);
    };
    const finish = () => {
      // the agent half-closed and every batch is settled: last acks, then close with OK
      if (ended) return;
      acks.flush(ackTarget);
      ended = true;
      forget();
      call.end(status.OK);
    };
    const firstTimer = setTimeout(() => {
      if (conn || ended) return;
      metrics.reject(RejectReason.FirstMessageTimeout);
      log.warn("agent stream sent no first message in time; closing", { peer: addr, timeout_ms: ctx.firstMessageTimeoutMs });
      end(status.DEADLINE_EXCEEDED, `no PackagedData within ${ctx.firstMessageTimeoutMs} ms`);
    }, ctx.firstMessageTimeoutMs);
    firstTimer.unref?.();

    // acknowledge settled batches in order, up to the first one still in the sink
    const drain = () => {
      while (head < fifo.length && fifo[head].settled) {
        const e = fifo[head];
        fifo[head++] = undefined as unknown as InFlight;
        if (ended) continue;
        if (e.error !== undefined) {
          metrics.reject(RejectReason.SinkError);
          log.error("sink refused a batch; closing the stream so the agent replays it", { agent_id: e.batch.agentId, sink: sink.name, seq: e.batch.seq, error: e.error as Error });
          end(status.UNAVAILABLE, `the server could not store the batch (${sink.name}); replay it`);
          continue;
        }
        if (e.batch.recordCount > 0) {
          metrics.countDurable();
          if (ctx.onBatch) {
            try {
              ctx.onBatch(e.batch);
            } catch (err) {
              log.error("batch listener failed", { error: err as Error });
            }
          }
        }
        if (e.batch.seq > 0) acks.durable(ackTarget, e.batch.seq);
      }
      if (head === fifo.length) {
        fifo.length = 0;
        head = 0;
      } else if (head > 1024) {
        fifo.splice(0, head);
        head = 0;
      }
      if (paused && fifo.length - head < ctx.maxInflightBatches && !ended) {
        paused = false;
        call.resume();
      }
      if (halfClosed && head === fifo.length) finish();
    };

    call.on("data", (pd: ScannedPackagedData) => {
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
      c.records += pd.recordCount;
      if (pd.hostname) c.hostname = pd.hostname;
      metrics.countBatch(pd.dataTypes, pd.dataBytes);
      if (pd.heartbeat) {
        try {
          c.heartbeat = decodePayload(pd.heartbeat);
        } catch {
          metrics.reject(RejectReason.Malformed);
        }
      }

      const e: InFlight = { batch: toBatch(pd, c.agentId, now), settled: false };
      fifo.push(e);
      if (e.batch.recordCount > 0) {
        sink.write(e.batch).then(
          () => {
            e.settled = true;
            if (fifo[head] === e) drain();
          },
          (err) => {
            e.settled = true;
            e.error = err ?? new Error("sink write failed");
            if (fifo[head] === e) drain();
          },
        );
      } else {
        e.settled = true;
        if (fifo[head] === e) drain();
      }
      if (!paused && fifo.length - head >= ctx.maxInflightBatches) {
        paused = true;
        call.pause();
      }
    });
    call.on("end", () => {
      halfClosed = true;
      if (head === fifo.length) finish();
    });
    call.on("cancelled", () => {
      if (ended) return;
      ended = true;
      forget();
      if (conn) log.info("agent disconnected", { agent_id: conn.agentId, peer: addr });
    });
  };
}
