// The AC's Prometheus metrics (one Registry per AC, served on /metrics): connections, records
// and bytes by data_type, batches, acks, rejects by reason, commands, uploads, SD registration.
import { Counter, Gauge, Registry } from "prom-client";
import { BY_DT } from "../../agent/collector/catalog.ts";
import { DataType } from "../../common/wire.ts";

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
  readonly records = new Counter({ name: "vigil_ac_records_total", help: "records received, by data_type", labelNames: ["data_type"], registers: [this.registry] });
  readonly bytes = new Counter({ name: "vigil_ac_record_bytes_total", help: "record payload bytes received, by data_type", labelNames: ["data_type"], registers: [this.registry] });
  readonly batches = new Counter({ name: "vigil_ac_batches_total", help: "batches (PackagedData) received", registers: [this.registry] });
  readonly durable = new Counter({ name: "vigil_ac_batches_durable_total", help: "batches the sink made durable", registers: [this.registry] });
  readonly acks = new Counter({ name: "vigil_ac_acks_total", help: "acknowledgements (Command.ack_seq) sent", registers: [this.registry] });
  readonly rejects = new Counter({ name: "vigil_ac_rejects_total", help: "connections, streams or messages refused, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly commands = new Counter({ name: "vigil_ac_commands_total", help: "commands sent to agents, by result", labelNames: ["result"], registers: [this.registry] });
  readonly uploads = new Counter({ name: "vigil_ac_uploads_total", help: "file uploads, by result", labelNames: ["result"], registers: [this.registry] });
  readonly registrations = new Counter({ name: "vigil_ac_sd_registrations_total", help: "registrations with SD, by result", labelNames: ["result"], registers: [this.registry] });
  readonly httpUnauthorized = new Counter({ name: "vigil_ac_http_unauthorized_total", help: "HTTP API calls refused for a missing or bad signature", registers: [this.registry] });
  readonly tlsErrors = new Counter({ name: "vigil_ac_tls_errors_total", help: "TLS handshakes that failed (bad/missing/expired client certificate, timeouts, garbage)", registers: [this.registry] });

  private readonly rejectCounts = new Map<string, number>();

  reject(reason: RejectReason, n = 1): void {
    this.rejects.inc({ reason }, n);
    this.rejectCounts.set(reason, (this.rejectCounts.get(reason) ?? 0) + n);
  }

  /** Rejects so far by reason (for tests and logs, without parsing /metrics). */
  rejectsByReason(): Record<string, number> {
    return Object.fromEntries(this.rejectCounts);
  }
}
