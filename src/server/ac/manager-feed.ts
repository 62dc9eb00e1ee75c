// The AC's feed to the Manager when the Manager runs elsewhere (cluster mode): after each durable
// batch, the records a Manager needs (heartbeats 1000/1001, task results 5100) are queued with the
// batch's identity and receive time, and POSTed as JSON, signed with the internal secret, to one
// of the Managers (stateless over one database: any will do) every intervalMs or at a size cap.
// The queue is bounded: when full, the oldest heartbeats go first (a newer one supersedes them),
// task results last; every drop and failed attempt is counted (metrics.ts). The route that takes
// the POST is src/server/manager/api/internal.ts; both use the path, limits and body shape below.
import { signedFetch } from "../../common/internal-auth.ts";
import { DataType } from "../../common/wire.ts";
import type { Logger } from "../../common/log.ts";
import type { AgentBatch } from "../sink.ts";
import type { AcMetrics } from "./metrics.ts";

export const AGENT_RECORDS_PATH = "/internal/v1/agent-records";
export const FEED_DATA_TYPES: ReadonlySet<number> = new Set([DataType.AgentHeartbeat, DataType.PluginHeartbeat, DataType.TaskResult]);

/** What the Manager accepts (internal.ts validates with these); the AC never sends more. */
export const FEED_LIMITS = {
  /** records in one POST (over all its batches) */
  recordsPerPost: 5_000,
  /** one record's Payload bytes */
  recordBytes: 256 * 1024,
  /** agent_id, hostname, version, product, ac_addr */
  stringChars: 1_024,
  /** each entry of the four address lists */
  addressChars: 64,
  addressesPerList: 256,
  bodyBytes: 8 << 20,
} as const;

/** POST AGENT_RECORDS_PATH body. */
export interface AgentRecordsBody {
  /** "ip:port" of the sending AC's gRPC listener */
  ac_addr?: string;
  batches: AgentBatchJson[];
}
export interface AgentBatchJson {
  agent_id: string;
  hostname: string;
  version: string;
  product: string;
  intranet_ipv4: string[];
  extranet_ipv4: string[];
  intranet_ipv6: string[];
  extranet_ipv6: string[];
  /** when the AC received the batch, unix ms */
  received_at: number;
  records: { data_type: number; timestamp: number; /** base64 of the serialized Payload */ data: string }[];
}

type Kind = "heartbeat" | "task_result";
export type FeedDropReason = "queue_full" | "refused" | "invalid" | "stopped";

export interface ManagerFeedOptions {
  /** Manager base URLs ("http://10.0.0.5:6701") */
  urls: string[];
  secret: string;
  metrics: AcMetrics;
  log: Logger;
  /** this AC's gRPC "ip:port", sent along */
  acAddr?: string;
  /** default 500 ms */
  intervalMs?: number;
  /** POST earlier once this many records (or postMaxBytes) wait; defaults 1000 and 1 MiB */
  postMaxRecords?: number;
  postMaxBytes?: number;
  /** queue bounds; defaults 20,000 records and 32 MiB */
  maxQueued?: number;
  maxQueuedBytes?: number;
  /** after a round where every Manager failed, wait minBackoffMs doubling up to maxBackoffMs; defaults 500 ms, 10 s */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** per request; default 10 s */
  requestTimeoutMs?: number;
}

export interface ManagerFeed {
  /** the AC's BatchListener: call after the batch is durable */
  add(batch: AgentBatch): void;
  /** queued = not yet delivered (waiting, or in the POST under way) */
  stats(): { queued: number; sent: number; dropped: Record<FeedDropReason, number>; failures: number };
  /** deliver what can be delivered within graceMs (default 3 s); the rest is counted dropped */
  stop(graceMs?: number): Promise<void>;
}

type Head = Omit<AgentBatchJson, "records">;
interface Item { n: number; kind: Kind; head: Head; headBytes: number; rec: AgentBatchJson["records"][number]; bytes: number }

/** A FIFO with O(1) shift and a prepend for items taken and given back. */
class Fifo<T> {
  private a: (T | undefined)[] = [];
  private h = 0;
  get length(): number {
    return this.a.length - this.h;
  }
  push(x: T): void {
    this.a.push(x);
  }
  peek(): T | undefined {
    return this.a[this.h];
  }
  shift(): T | undefined {
    if (this.h >= this.a.length) return undefined;
    const x = this.a[this.h];
    this.a[this.h++] = undefined;
    if (this.h === this.a.length) (this.a = []), (this.h = 0);
    else if (this.h > 1024 && this.h * 2 > this.a.length) (this.a = this.a.slice(this.h)), (this.h = 0);
    return x;
  }
  prepend(xs: T[]): void {
    if (this.h >= xs.length) {
      this.h -= xs.length;
      for (let i = 0; i < xs.length; i++) this.a[this.h + i] = xs[i];
    } else (this.a = [...xs, ...this.a.slice(this.h)]), (this.h = 0);
  }
}

const badString = (s: string, max: number) => s.length > max || s.includes("\0");

/** The batch's identity as the Manager accepts it, or undefined when the Manager would refuse it. */
function headOf(b: AgentBatch): Head | undefined {
  const L = FEED_LIMITS;
  if (!b.agentId || [b.agentId, b.hostname, b.version, b.product].some((s) => badString(s ?? "", L.stringChars))) return undefined;
  const lists = [b.intranetIpv4, b.extranetIpv4, b.intranetIpv6, b.extranetIpv6].map((l) => l ?? []);
  if (lists.some((l) => l.length > L.addressesPerList || l.some((s) => badString(s, L.addressChars)))) return undefined;
  return {
    agent_id: b.agentId, hostname: b.hostname ?? "", version: b.version ?? "", product: b.product ?? "",
    intranet_ipv4: lists[0]!, extranet_ipv4: lists[1]!, intranet_ipv6: lists[2]!, extranet_ipv6: lists[3]!, received_at: b.receivedAt,
  };
}

/** Whether the batch holds a record for the Manager: the AC's scan (dataTypes), never a decode. */
function wanted(batch: AgentBatch): boolean {
  const dts = (batch as { dataTypes?: ArrayLike<number> }).dataTypes;
  if (!dts) return true;
  for (let i = 0; i < dts.length; i++) if (FEED_DATA_TYPES.has(dts[i]!)) return true;
  return false;
}

/** true at most once per everyMs (log throttling). */
function throttle(everyMs: number): () => boolean {
  let last = -Infinity;
  return () => {
    const now = Date.now();
    if (now - last < everyMs) return false;
    last = now;
    return true;
  };
}

export function startManagerFeed(o: ManagerFeedOptions): ManagerFeed {
  if (!o.urls.length) throw new Error("manager feed: no Manager URLs");
  const urls = o.urls.map((u) => u.replace(/\/+$/, "") + AGENT_RECORDS_PATH);
  const intervalMs = o.intervalMs ?? 500;
  const postMaxRecords = Math.min(o.postMaxRecords ?? 1_000, FEED_LIMITS.recordsPerPost);
  const postMaxBytes = Math.min(o.postMaxBytes ?? 1 << 20, FEED_LIMITS.bodyBytes / 2);
  const maxQueued = o.maxQueued ?? 20_000;
  const maxQueuedBytes = o.maxQueuedBytes ?? 32 << 20;
  const minBackoff = o.minBackoffMs ?? 500;
  const maxBackoff = o.maxBackoffMs ?? 10_000;
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  const { metrics, log } = o;

  const heartbeats = new Fifo<Item>();
  const results = new Fifo<Item>();
  let queuedBytes = 0;
  /** records of the POST under way (not queued, not yet delivered) */
  let inFlight = 0;
  let n = 0;
  const counts = { sent: 0, failures: 0, dropped: { queue_full: 0, refused: 0, invalid: 0, stopped: 0 } as Record<FeedDropReason, number> };
  const warnFull = throttle(60_000);
  const warnInvalid = throttle(60_000);
  const warnFailing = throttle(60_000);
  let failingSince = 0;
  let preferred = 0;
  let backoff = 0;
  let retryAt = 0;
  let stopped = false;
  let sending: Promise<void> | undefined;
  const abort = new AbortController();

  const queued = () => heartbeats.length + results.length;
  const gauge = () => metrics.managerFeedQueued.set(queued() + inFlight);
  const drop = (kind: Kind, reason: FeedDropReason, k = 1) => {
    counts.dropped[reason] += k;
    metrics.managerFeedDropped.inc({ kind, reason }, k);
  };

  const enforceCap = () => {
    let dropped = 0;
    while (queued() > maxQueued || queuedBytes > maxQueuedBytes) {
      const victim = (heartbeats.length ? heartbeats : results).shift()!;
      queuedBytes -= victim.bytes;
      drop(victim.kind, "queue_full");
      dropped++;
    }
    if (dropped && warnFull()) log.warn("Manager feed queue full: dropped the oldest records (heartbeats first)", { dropped, queued: queued(), max_queued: maxQueued, max_queued_bytes: maxQueuedBytes });
  };

  /** The oldest queued records up to the POST caps, in arrival order (merged by n). */
  const take = (): Item[] => {
    const items: Item[] = [];
    let bytes = 64;
    let last: Head | undefined;
    while (items.length < postMaxRecords) {
      const r = results.peek(), h = heartbeats.peek();
      const next = !r ? h : !h ? r : r.n < h.n ? r : h;
      if (!next) break;
      const add = next.bytes + (next.head === last ? 0 : next.headBytes);
      if (items.length && bytes + add > postMaxBytes) break;
      (next === r ? results : heartbeats).shift();
      queuedBytes -= next.bytes;
      items.push(next);
      bytes += add;
      last = next.head;
    }
    return items;
  };
  const giveBack = (items: Item[]) => {
    heartbeats.prepend(items.filter((i) => i.kind === "heartbeat"));
    results.prepend(items.filter((i) => i.kind === "task_result"));
    for (const i of items) queuedBytes += i.bytes;
    enforceCap();
  };
  const countByKind = (items: Item[], f: (kind: Kind, k: number) => void) => {
    const hb = items.filter((i) => i.kind === "heartbeat").length;
    if (hb) f("heartbeat", hb);
    if (items.length - hb) f("task_result", items.length - hb);
  };
  const bodyOf = (items: Item[]): string => {
    const batches: AgentBatchJson[] = [];
    let cur: Head | undefined;
    for (const it of items) {
      if (it.head !== cur) batches.push({ ...(cur = it.head), records: [] });
      batches[batches.length - 1]!.records.push(it.rec);
    }
    return JSON.stringify({ ...(o.acAddr ? { ac_addr: o.acAddr } : {}), batches } satisfies AgentRecordsBody);
  };

  /** One POST of the oldest records, trying each Manager once; false when every one failed. */
  const sendOnce = async (): Promise<boolean> => {
    const items = take();
    if (!items.length) return true;
    inFlight = items.length;
    try {
      return await post(items);
    } finally {
      inFlight = 0;
      gauge();
    }
  };
  const post = async (items: Item[]): Promise<boolean> => {
    const body = bodyOf(items);
    for (let k = 0; k < urls.length; k++) {
      const i = (preferred + k) % urls.length;
      const url = urls[i]!;
      let reason: string;
      try {
        const res = await signedFetch(o.secret, url, { body, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), abort.signal]) });
        const text = await res.text().catch(() => "");
        if (res.ok || res.status === 400 || res.status === 413) {
          preferred = i;
          if (failingSince) log.info("Manager feed delivers again", { manager: url, failing_for_ms: Date.now() - failingSince });
          failingSince = 0;
          if (res.ok) {
            counts.sent += items.length;
            countByKind(items, (kind, c) => metrics.managerFeedSent.inc({ kind }, c));
          } else {
            // the Manager will never take these (a version mismatch): retrying cannot help
            countByKind(items, (kind, c) => drop(kind, "refused", c));
            log.error("a Manager refused forwarded records; dropped them", { manager: url, status: res.status, records: items.length, msg: text.slice(0, 300) });
          }
          return true;
        }
        reason = `HTTP ${res.status}: ${text.slice(0, 200)}`;
      } catch (e) {
        reason = (e as Error).message;
      }
      counts.failures++;
      metrics.managerFeedFailures.inc();
      if (!failingSince || warnFailing()) log.warn("forwarding records to a Manager failed (trying the next, then retrying)", { manager: url, error: reason, queued: queued() + items.length });
      failingSince ||= Date.now();
    }
    giveBack(items);
    return false;
  };

  const full = () => queued() >= postMaxRecords || queuedBytes >= postMaxBytes;
  const pump = () => {
    if (sending || stopped || queued() === 0 || Date.now() < retryAt) return;
    sending = (async () => {
      try {
        do {
          if (!(await sendOnce())) {
            backoff = backoff ? Math.min(maxBackoff, backoff * 2) : minBackoff;
            retryAt = Date.now() + backoff * (0.8 + 0.4 * Math.random());
            return;
          }
          backoff = retryAt = 0;
        } while (!stopped && full());
      } finally {
        sending = undefined;
      }
    })();
  };
  const timer = setInterval(pump, intervalMs);
  timer.unref?.();

  const add = (batch: AgentBatch) => {
    if (!wanted(batch)) return;
    let head: Head | undefined | null = null;
    let headBytes = 0;
    for (const r of batch.records) {
      const dt = r.dataType ?? 0;
      if (!FEED_DATA_TYPES.has(dt)) continue;
      const kind: Kind = dt === DataType.TaskResult ? "task_result" : "heartbeat";
      if (stopped) {
        drop(kind, "stopped");
        continue;
      }
      if (head === null) {
        head = headOf(batch);
        headBytes = head ? JSON.stringify(head).length + 16 : 0;
      }
      const data = r.data ?? new Uint8Array();
      if (!head || data.length > FEED_LIMITS.recordBytes) {
        drop(kind, "invalid");
        if (warnInvalid()) log.warn("a record cannot be forwarded to the Manager (identity or payload over the limits, or NUL characters); dropped", { agent_id: batch.agentId.slice(0, 128), data_type: dt, bytes: data.length });
        continue;
      }
      const ts = Number(r.timestamp ?? 0);
      const rec = { data_type: dt, timestamp: Number.isSafeInteger(ts) ? ts : 0, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64") };
      const item: Item = { n: n++, kind, head, headBytes, rec, bytes: rec.data.length + 48 };
      (kind === "heartbeat" ? heartbeats : results).push(item);
      queuedBytes += item.bytes;
    }
    enforceCap();
    gauge();
    if (full()) pump();
  };

  let stopping: Promise<void> | undefined;
  return {
    add,
    stats: () => ({ queued: queued() + inFlight, sent: counts.sent, dropped: { ...counts.dropped }, failures: counts.failures }),
    stop(graceMs = 3_000) {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(timer);
        const deadline = setTimeout(() => abort.abort(new Error("the AC is stopping")), graceMs);
        await sending;
        while (queued() > 0 && !abort.signal.aborted && (await sendOnce()));
        clearTimeout(deadline);
        const left = queued();
        if (left) {
          for (const f of [heartbeats, results]) for (let it = f.shift(); it; it = f.shift()) drop(it.kind, "stopped");
          queuedBytes = 0;
          log.warn("stopping: records not delivered to any Manager were dropped", { records: left });
        }
        gauge();
      })();
      return stopping;
    },
  };
}
