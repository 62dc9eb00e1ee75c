// The Manager's Prometheus metrics: requests by route and status, logins, and dispatch results.
import { Counter, Registry, collectDefaultMetrics } from "prom-client";

export class ManagerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "vigil_manager_http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [this.registry] });
  readonly logins = new Counter({ name: "vigil_manager_logins_total", help: "Login attempts by result", labelNames: ["result"], registers: [this.registry] });
  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "vigil_manager_" });
  }
}
