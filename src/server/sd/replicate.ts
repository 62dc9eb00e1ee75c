// Peer replication of SD: every registration and eviction received from a client is queued
// for each configured peer and sent as one signed POST /registry/sync per flush. Peers do not
// forward sync calls again, so a full mesh of peers converges without loops. A peer that is
// down costs nothing but a counter: the queue is bounded (oldest dropped, counted) and ACs
// re-register every 30 s anyway.
import { signedFetch } from "../../common/internal-auth.ts";
import type { Logger } from "../../common/log.ts";
import type { EntryInput, EntryKey } from "./registry.ts";
import type { SdMetrics } from "./metrics.ts";
import { MAX_SYNC_OPS, type SyncBody } from "./schemas.ts";

export const FLUSH_INTERVAL_MS = 200;
export const PEER_TIMEOUT_MS = 5000;
/** Queued operations per peer beyond which the oldest are dropped. */
export const MAX_QUEUED_OPS = MAX_SYNC_OPS;

type Op = { register: EntryInput } | { evict: EntryKey };

class PeerQueue {
  private ops: Op[] = [];
  private inFlight: Promise<void> | undefined;

  constructor(readonly url: string, private readonly secret: string, private readonly metrics: SdMetrics, private readonly log: Logger) {}

  push(op: Op): void {
    this.ops.push(op);
    if (this.ops.length > MAX_QUEUED_OPS) {
      const n = this.ops.length - MAX_QUEUED_OPS;
      this.ops.splice(0, n);
      this.metrics.syncDropped.inc({ peer: this.url }, n);
    }
  }

  /** Sends what is queued (one request at a time per peer). */
  flush(): Promise<void> {
    if (this.inFlight || this.ops.length === 0) return this.inFlight ?? Promise.resolve();
    const ops = this.ops;
    this.ops = [];
    const body: SyncBody = { register: [], evict: [] };
    for (const op of ops) "register" in op ? body.register.push(op.register) : body.evict.push(op.evict);
    this.inFlight = (async () => {
      try {
        const res = await signedFetch(this.secret, `${this.url}/registry/sync`, { body: JSON.stringify(body), signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
        if (!res.ok) throw new Error(`HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
        this.metrics.syncSent.inc({ peer: this.url, result: "ok" });
      } catch (e) {
        this.metrics.syncSent.inc({ peer: this.url, result: "error" });
        this.log.warn("replication to peer failed", { peer: this.url, ops: ops.length, error: (e as Error).message });
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

export interface Replicator {
  register(e: EntryInput): void;
  evict(k: EntryKey): void;
  /** Sends everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function startReplicator(o: { peers: string[]; secret: string; metrics: SdMetrics; log: Logger }): Replicator {
  const queues = o.peers.map((p) => new PeerQueue(p.replace(/\/+$/, ""), o.secret, o.metrics, o.log));
  const flush = async () => { await Promise.all(queues.map((q) => q.flush())); };
  const timer = queues.length ? setInterval(() => void flush(), FLUSH_INTERVAL_MS) : undefined;
  return {
    register: (e) => { for (const q of queues) q.push({ register: e }); },
    evict: (k) => { for (const q of queues) q.push({ evict: k }); },
    flush,
    async stop() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}
