// The AC's Prometheus metrics (one Registry per AC, served on /metrics): connections, records
// and bytes by data_type, batches, acks, rejects by reason, commands, uploads, SD registration,
// and the feed to a Manager in another process (manager-feed.ts).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { BY_DT } from "../../agent/collector/catalog.ts";
import { DataType } from "../../common/wire.ts";
import { accel } from "../../common/accel.ts";

/** Why a connection, stream or message was refused (the `reason` label). */
export const RejectReason = {
  BadCert: "bad_cert",
  NoAgentId: "no_agent_id",
  AgentIdChanged: "agent_id_changed",
  Malformed: "malformed",
  Truncated: "truncated",
  Oversized: "oversized",
  Decompression: "decompression",
  SinkError: "sink_error",
  FirstMessageTimeout: "first_message_timeout",
  IdleConnection: "idle_connection",
  Replaced: "replaced",
  BadUpload: "bad_upload",
  Protocol: "protocol",
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

const KNOWN_DT = new Set<number>([...BY_DT.keys(), ...Object.values(DataType)]);

/** data_type label: known numbers as themselves, anything else "other" (bounded cardinality). */
export function dtLabel(dt: number): string {
  return KNOWN_DT.has(dt) ? String(dt) : "other";
}

export class AcMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: "vigil_ac_connections", help: "live agent streams", registers: [this.registry] });
  readonly streams = new Counter({ name: "vigil_ac_streams_total", help: "agent streams accepted (first message named the agent)", registers: [this.registry] });
  // the per-batch counters are kept in plain fields and handed to prom-client when scraped
  // (prom-client's labelled inc() per record was a measurable share of the AC's time)
  readonly records = new Counter({ name: "vigil_ac_records_total", help: "records received, by data_type", labelNames: ["data_type"], registers: [this.registry], collect: () => this.flushHot() });
  readonly bytes = new Counter({ name: "vigil_ac_record_bytes_total", help: "record payload bytes received, by data_type", labelNames: ["data_type"], registers: [this.registry], collect: () => this.flushHot() });
  readonly batches = new Counter({ name: "vigil_ac_batches_total", help: "batches (PackagedData) received", registers: [this.registry], collect: () => this.flushHot() });
  readonly durable = new Counter({ name: "vigil_ac_batches_durable_total", help: "batches the sink made durable", registers: [this.registry], collect: () => this.flushHot() });
  readonly acks = new Counter({ name: "vigil_ac_acks_total", help: "acknowledgements (Command.ack_seq) sent", registers: [this.registry], collect: () => this.flushHot() });
  readonly rejects = new Counter({ name: "vigil_ac_rejects_total", help: "connections, streams or messages refused, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly commands = new Counter({ name: "vigil_ac_commands_total", help: "commands sent to agents, by result", labelNames: ["result"], registers: [this.registry] });
  readonly uploads = new Counter({ name: "vigil_ac_uploads_total", help: "file uploads, by result", labelNames: ["result"], registers: [this.registry] });
  readonly registrations = new Counter({ name: "vigil_ac_sd_registrations_total", help: "registrations with SD, by result", labelNames: ["result"], registers: [this.registry] });
  readonly httpUnauthorized = new Counter({ name: "vigil_ac_http_unauthorized_total", help: "HTTP API calls refused for a missing or bad signature", registers: [this.registry] });
  readonly managerFeedSent = new Counter({ name: "vigil_ac_manager_feed_sent_total", help: "heartbeats and task results delivered to a Manager, by kind", labelNames: ["kind"], registers: [this.registry] });
  readonly managerFeedDropped = new Counter({ name: "vigil_ac_manager_feed_dropped_total", help: "heartbeats and task results never delivered to a Manager, by kind and reason (queue_full, refused, invalid, stopped)", labelNames: ["kind", "reason"], registers: [this.registry] });
  readonly managerFeedFailures = new Counter({ name: "vigil_ac_manager_feed_failures_total", help: "POSTs to a Manager that failed (each Manager tried counts once; the records are retried)", registers: [this.registry] });
  readonly managerFeedQueued = new Gauge({ name: "vigil_ac_manager_feed_queued", help: "records waiting to be forwarded to a Manager", registers: [this.registry] });
  readonly tlsErrors = new Counter({ name: "vigil_ac_tls_errors_total", help: "TLS handshakes that failed (bad/missing/expired client certificate, timeouts, garbage)", registers: [this.registry] });

  readonly memory: Gauge = new Gauge({
    name: "vigil_process_memory_bytes", help: "process memory by kind: rss, js_heap_used, js_heap_total, external (buffers outside the JS heap)", labelNames: ["kind"], registers: [this.registry],
    collect: (): void => {
      const m = process.memoryUsage();
      this.memory.set({ kind: "rss" }, m.rss);
      this.memory.set({ kind: "js_heap_used" }, m.heapUsed);
      this.memory.set({ kind: "js_heap_total" }, m.heapTotal);
      this.memory.set({ kind: "external" }, m.external);
    },
  });
  readonly nativeAccel: Gauge = new Gauge({
    name: "vigil_native_accel", help: "1 when CRC-32C and snappy decoding run natively (libvigil-accel), 0 on the JavaScript fallback", registers: [this.registry],
    collect: (): void => this.nativeAccel.set(accel() ? 1 : 0),
  });
  readonly loopLag = new Histogram({ name: "vigil_ac_event_loop_lag_seconds", help: "event-loop lag: how late a 100 ms timer fires", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  readonly loopLagMax: Gauge = new Gauge({
    name: "vigil_ac_event_loop_lag_max_seconds", help: "largest event-loop lag since the previous scrape of /metrics", registers: [this.registry],
    collect: (): void => this.loopLagMax.set(this.takeLoopLagMax()),
  });

  private readonly rejectCounts = new Map<string, number>();
  /** not yet flushed to prom-client: per data_type number [records, bytes] */
  private readonly hotDt = new Map<number, [number, number]>();
  private hotBatches = 0;
  private hotDurable = 0;
  private hotAcks = 0;

  /** Count one received batch: record data types and payload sizes (typed arrays of one batch). */
  countBatch(dataTypes: ArrayLike<number>, dataBytes: ArrayLike<number>): void {
    this.hotBatches++;
    for (let i = 0; i < dataTypes.length; i++) {
      let e = this.hotDt.get(dataTypes[i]);
      if (!e) this.hotDt.set(dataTypes[i], (e = [0, 0]));
      e[0]++;
      e[1] += dataBytes[i];
    }
  }

  countDurable(): void {
    this.hotDurable++;
  }

  countAck(): void {
    this.hotAcks++;
  }

  private flushHot(): void {
    for (const [dt, e] of this.hotDt) {
      if (e[0] === 0) continue;
      const label = dtLabel(dt);
      this.records.inc({ data_type: label }, e[0]);
      this.bytes.inc({ data_type: label }, e[1]);
      e[0] = e[1] = 0;
    }
    if (this.hotDt.size > 4096) this.hotDt.clear(); // unknown data types sent at random: keep it bounded
    if (this.hotBatches) this.batches.inc(this.hotBatches);
    if (this.hotDurable) this.durable.inc(this.hotDurable);
    if (this.hotAcks) this.acks.inc(this.hotAcks);
    this.hotBatches = this.hotDurable = this.hotAcks = 0;
  }
  private lagTimer: ReturnType<typeof setInterval> | undefined;
  private lagMax = 0;

  /** Start the event-loop lag probe (a 100 ms timer; its drift is the lag). */
  startLoopProbe(everyMs = 100): void {
    if (this.lagTimer) return;
    let last = performance.now();
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      const lag = Math.max(0, now - last - everyMs) / 1000;
      last = now;
      this.loopLag.observe(lag);
      if (lag > this.lagMax) this.lagMax = lag;
    }, everyMs);
    this.lagTimer.unref?.();
  }

  /** The largest lag since the previous call (for /metrics and the benchmark), then reset. */
  takeLoopLagMax(): number {
    const m = this.lagMax;
    this.lagMax = 0;
    return m;
  }

  stopLoopProbe(): void {
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
  }

  reject(reason: RejectReason, n = 1): void {
    this.rejects.inc({ reason }, n);
    this.rejectCounts.set(reason, (this.rejectCounts.get(reason) ?? 0) + n);
  }

  /** Rejects so far by reason (for tests and logs, without parsing /metrics). */
  rejectsByReason(): Record<string, number> {
    return Object.fromEntries(this.rejectCounts);
  }
}
