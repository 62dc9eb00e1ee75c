// The agent heartbeat (data_type 1000) at start and every interval (60 s by default): Elkeid's
// host and agent fields (host-facts.ts) plus Vigil's counters: events, drops and rate-limited
// events per type, spool depth, bytes and drops, transport and task counters, hook mode.
import { ProcessSampler, diskUsage, staticFacts } from "./host-facts.ts";
import type { Counters } from "./counters.ts";
import type { Spool } from "./spool.ts";
import type { TransportStats } from "./transport.ts";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 60_000;

/** What the collector contributes (absent when the daemon runs without one). */
export interface CollectorReport {
  decoded(): Map<number, number>;
  drops(): Map<number, number>;
  limited(): Map<number, number>;
  hookMode(): string;
  malformed(): number;
  unknownType(): number;
}

export interface HeartbeatSources {
  counters: Counters;
  spool: Spool;
  transport: () => TransportStats;
  metadata: () => { idc: string; region: string };
  state: () => { state: string; detail: string };
  collector?: () => CollectorReport | undefined;
  dataDir: string;
  agentIdSource: string;
}

const mapJson = (m: Map<number, number>) => JSON.stringify(Object.fromEntries([...m].filter(([, v]) => v > 0).sort((a, b) => a[0] - b[0])));
const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

export class HeartbeatBuilder {
  private readonly facts = staticFacts();
  private readonly sampler = new ProcessSampler();
  private last = { at: performance.now(), tx: 0, rx: 0, txRecords: 0, rxCommands: 0 };

  constructor(private readonly s: HeartbeatSources) {}

  fields(): Record<string, string> {
    const t = this.s.transport();
    const c = this.s.counters.snapshot();
    const now = performance.now();
    const secs = Math.max(0.001, (now - this.last.at) / 1000);
    const rate = (a: number, b: number) => ((a - b) / secs).toFixed(2);
    const { state, detail } = this.s.state();
    const md = this.s.metadata();
    const sp = this.s.spool.stats();
    const f: Record<string, string> = {
      ...this.facts,
      state,
      state_detail: detail,
      idc: md.idc,
      region: md.region,
      net_mode: "direct",
      tx_speed: rate(t.txBytes, this.last.tx),
      rx_speed: rate(t.rxBytes, this.last.rx),
      tx_tps: rate(c.records_produced, this.last.txRecords),
      rx_tps: rate(t.rxCommands, this.last.rxCommands),
      du: String(diskUsage(this.s.dataDir)),
      ...this.sampler.sample(),
      // Vigil's own
      agent_id_source: this.s.agentIdSource,
      connected_ac: t.connected,
      connects: String(t.connects),
      inflight_batches: String(t.inflight),
      spool_depth: String(sp.depth),
      spool_bytes: String(sp.bytes),
      spool_disk_bytes: String(sp.diskBytes),
      spool_memory_only: String(sp.memoryOnlyBatches),
      spool_dropped_batches: String(sp.droppedBatches),
      spool_dropped_records: String(sp.droppedRecords),
      spool_write_errors: String(sp.writeErrors),
      spool_read_errors: String(sp.readErrors),
      spool_state_errors: String(sp.stateErrors),
      spool_torn_tails: String(sp.tornTails),
      spool_disk_failed: String(sp.diskFailed),
      spool_acked_seq: String(sp.acked),
    };
    for (const [k, v] of Object.entries(c)) f[k] = String(v);
    const col = this.s.collector?.();
    if (col) {
      const decoded = col.decoded(), drops = col.drops(), limited = col.limited();
      f.events = mapJson(decoded);
      f.event_drops = mapJson(drops);
      f.event_limited = mapJson(limited);
      f.events_total = String(sum(decoded));
      f.event_drops_total = String(sum(drops));
      f.decode_malformed = String(col.malformed());
      f.decode_unknown = String(col.unknownType());
      f.hook_mode = col.hookMode();
    } else {
      f.events = "{}";
      f.event_drops = "{}";
      f.event_limited = "{}";
      f.events_total = "0";
      f.event_drops_total = "0";
      f.hook_mode = "none";
    }
    this.last = { at: now, tx: t.txBytes, rx: t.rxBytes, txRecords: c.records_produced, rxCommands: t.rxCommands };
    return f;
  }
}

export interface HeartbeatHandle {
  beat(): void;
  stop(): void;
}

/** Emit one heartbeat now and one every `intervalMs`. */
export function startHeartbeat(o: { builder: HeartbeatBuilder; intervalMs: number; emit: (fields: Record<string, string>) => void }): HeartbeatHandle {
  const beat = () => o.emit(o.builder.fields());
  beat();
  const timer = setInterval(beat, o.intervalMs);
  return { beat, stop: () => clearInterval(timer) };
}
