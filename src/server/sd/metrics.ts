// SD's Prometheus metrics (one registry per SD instance, so several SDs can share a process).
import { Counter, Gauge, Registry } from "prom-client";

export class SdMetrics {
  readonly registry = new Registry();
  readonly entries = new Gauge({ name: "vigil_sd_entries", help: "live registry entries, by service name", labelNames: ["name"], registers: [this.registry] });
  readonly registrations = new Counter({ name: "vigil_sd_registrations_total", help: "registrations and renewals accepted, by origin (client or peer sync)", labelNames: ["origin"], registers: [this.registry] });
  readonly evictions = new Counter({ name: "vigil_sd_evictions_total", help: "entries removed, by reason (api, sync, expired)", labelNames: ["reason"], registers: [this.registry] });
  readonly rejects = new Counter({ name: "vigil_sd_rejects_total", help: "requests refused, by reason (invalid, unauthorized, not_found)", labelNames: ["reason"], registers: [this.registry] });
  readonly syncSent = new Counter({ name: "vigil_sd_sync_sent_total", help: "replication calls to peers, by peer and result", labelNames: ["peer", "result"], registers: [this.registry] });
  readonly syncDropped = new Counter({ name: "vigil_sd_sync_dropped_total", help: "replication operations dropped because a peer's queue was full", labelNames: ["peer"], registers: [this.registry] });
  readonly requests = new Counter({ name: "vigil_sd_http_requests_total", help: "HTTP requests, by route and status", labelNames: ["route", "status"], registers: [this.registry] });
}
