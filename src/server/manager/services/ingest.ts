// What the Manager takes from each durable batch (the AC calls listener() in process): agent
// and plugin heartbeats (1000, 1001), coalesced per agent and written every flushMs in one
// repository call, and task results (5100) that complete sub-tasks. Other records are skipped
// by data_type without decoding. An agent not seen for the offline threshold (or never, by this
// process) gets its desired components pushed after its heartbeat is written.
import { decodePayload } from "../../../common/proto.ts";
import { DataType } from "../../../common/wire.ts";
import type { Logger } from "../../../common/log.ts";
import type { AgentBatch, BatchListener } from "../../sink.ts";
import type { HostHeartbeat, Repository } from "../repo/types.ts";
import { isWireBatch } from "../../store/entry.ts";
import { scanPackagedData } from "../../ac/packaged.ts";

export interface IngestOptions {
  repo: Repository;
  log: Logger;
  /** default 500 ms */
  flushMs?: number;
  /** "ip:port" of the AC whose batches these are (all-in-one) */
  acAddr?: string;
  offlineAfterMs: number;
  /** agents that (re)appeared, after their heartbeat is stored */
  onArrive?: (agentIds: string[]) => void;
}

export interface Ingest {
  listener: BatchListener;
  /** write what is pending now */
  flush(): Promise<void>;
  stop(): Promise<void>;
  stats(): { heartbeats: number; results: number; errors: number };
}

const WANTED = new Set<number>([DataType.AgentHeartbeat, DataType.PluginHeartbeat, DataType.TaskResult]);
const SUCCESS = new Set(["succeeded", "succeed", "success", "ok", "0"]);

/** The batch's data_types without decoding its records: the AC's scan when it exposes it, else a rescan of the wire bytes. */
function dataTypesOf(batch: AgentBatch): ArrayLike<number> | undefined {
  const given = (batch as { dataTypes?: ArrayLike<number> }).dataTypes;
  if (given) return given;
  if (!isWireBatch(batch)) return undefined;
  const w = batch.wire;
  return scanPackagedData(Buffer.from(w.buffer, w.byteOffset, w.byteLength)).dataTypes;
}

function wants(batch: AgentBatch): boolean {
  const dts = dataTypesOf(batch);
  if (!dts) return true;
  for (let i = 0; i < dts.length; i++) if (WANTED.has(dts[i]!)) return true;
  return false;
}

export function createIngest(o: IngestOptions): Ingest {
  const pending = new Map<string, HostHeartbeat>();
  const results: { token: string; ok: boolean; msg: string; at: number }[] = [];
  const lastSeen = new Map<string, number>();
  const stats = { heartbeats: 0, results: 0, errors: 0 };
  let writing: Promise<void> = Promise.resolve();

  const write = async () => {
    const hbs = [...pending.values()];
    pending.clear();
    const res = results.splice(0);
    if (hbs.length) {
      const arrived = hbs.filter((h) => !h.plugin && (lastSeen.get(h.agentId) ?? 0) < h.at - o.offlineAfterMs).map((h) => h.agentId);
      for (const h of hbs) lastSeen.set(h.agentId, Math.max(lastSeen.get(h.agentId) ?? 0, h.at));
      try {
        await o.repo.recordHeartbeats(hbs);
        stats.heartbeats += hbs.length;
        if (arrived.length) o.onArrive?.(arrived);
      } catch (e) {
        stats.errors++;
        o.log.error("storing heartbeats failed", { hosts: hbs.length, error: e as Error });
      }
    }
    for (const r of res) {
      try {
        if (await o.repo.completeSubTask(r.token, r.ok ? "succeeded" : "failed", r.msg, r.at)) stats.results++;
      } catch (e) {
        stats.errors++;
        o.log.error("storing a task result failed", { token: r.token, error: e as Error });
      }
    }
  };
  const flush = () => (writing = writing.then(write));
  const timer = setInterval(() => void flush(), o.flushMs ?? 500);
  timer.unref?.();

  const listener: BatchListener = (batch) => {
    if (!wants(batch)) return;
    for (const r of batch.records) {
      const dt = r.dataType ?? 0;
      if (!WANTED.has(dt)) continue;
      let fields: Record<string, string>;
      try {
        fields = decodePayload(r.data ?? new Uint8Array());
      } catch {
        stats.errors++;
        continue;
      }
      if (dt === DataType.TaskResult) {
        if (fields.token) results.push({ token: fields.token, ok: SUCCESS.has((fields.status ?? "").toLowerCase()), msg: (fields.msg ?? "").slice(0, 4096), at: batch.receivedAt });
        continue;
      }
      const plugin = dt === DataType.PluginHeartbeat ? fields.name || "unknown" : undefined;
      pending.set(plugin ? `${batch.agentId}\n${plugin}` : batch.agentId, {
        agentId: batch.agentId, hostname: batch.hostname, version: batch.version, product: batch.product,
        intranetIpv4: batch.intranetIpv4, extranetIpv4: batch.extranetIpv4, intranetIpv6: batch.intranetIpv6, extranetIpv6: batch.extranetIpv6,
        acAddr: o.acAddr ?? "", at: batch.receivedAt, plugin, fields,
      });
    }
  };
  return {
    listener,
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
    stats: () => ({ ...stats }),
  };
}
