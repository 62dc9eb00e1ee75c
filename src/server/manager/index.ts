// The Manager role (port 6701): the operators' HTTP API over the repository, plus what keeps
// it current — heartbeat and task-result ingestion from the AC's durable batches, task dispatch
// and expiry, and desired-component pushes. createManagerApp() is the hono app alone (route
// tests call app.request()); startManager() serves it and runs the services.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "../../common/log.ts";
import { serveHttp } from "../../common/http-serve.ts";
import type { BatchListener } from "../sink.ts";
import type { EventStore } from "../store/index.ts";
import type { RoleHandle } from "../role.ts";
import type { Repository } from "./repo/types.ts";
import type { ManagerEnv } from "./api/env.ts";
import { buildApp } from "./api/app.ts";
import type { InternalRouteOptions } from "./api/internal.ts";
import { managerSettings, type ManagerSettings } from "./settings.ts";
import { createServices, type ManagerServices } from "./services/index.ts";
import { createHttpAcClient, type AcClient } from "./services/ac-client.ts";
import { createIngest, type Ingest } from "./services/ingest.ts";
import { startTaskExpiry } from "./services/expiry.ts";
import { ManagerMetrics } from "./services/metrics.ts";
import { ensureAdmin } from "./auth/bootstrap.ts";

export type { ManagerSettings } from "./settings.ts";

export interface ManagerAppOptions {
  repo: Repository;
  events?: EventStore;
  acClient: AcClient;
  log: Logger;
  config: Partial<ManagerSettings> & { dataDir: string };
  /** SD base URLs for GET /api/v1/cluster */
  sdUrls?: string[];
  /** built from acClient when absent */
  services?: ManagerServices;
  /** the internal routes (records forwarded by ACs in other processes); absent = none */
  internal?: InternalRouteOptions;
}

export type ManagerApp = OpenAPIHono<ManagerEnv> & { services: ManagerServices; settings: ManagerSettings };

export function createManagerApp(o: ManagerAppOptions): ManagerApp {
  const settings = managerSettings(o.config);
  const services = o.services ?? createServices({ repo: o.repo, acClient: o.acClient, log: o.log, publicUrl: () => settings.publicUrl, sdUrls: o.sdUrls });
  const app = buildApp({ repo: o.repo, events: o.events, log: o.log, settings, services, metrics: new ManagerMetrics(), internal: o.internal });
  return Object.assign(app, { services, settings });
}

export interface ManagerOptions {
  listen: string;
  /** 6701 by default; 0 = any free port */
  port: number;
  repo: Repository;
  events?: EventStore;
  /** internal HMAC secret for the AC's HTTP API */
  secret: string;
  /** SD URLs: the ACs are found there (and shown in the cluster view) */
  sdUrls?: string[];
  /** fixed AC HTTP URLs (all-in-one: the local AC); take precedence over SD discovery */
  acUrls?: string[];
  /** "ip:port" of the in-process AC, recorded on hosts seen through ingest() */
  acAddr?: string;
  dataDir: string;
  /** password of the first `admin` (else VIGIL_ADMIN_PASSWORD, else generated and logged once) */
  adminPassword?: string;
  log: Logger;
  /** the rest of the settings (offline threshold, token lifetime, limits, publicUrl) */
  settings?: Partial<ManagerSettings>;
  /** how often heartbeats are written; default 500 ms */
  heartbeatFlushMs?: number;
  /** how often overdue sub-tasks are expired; default 5 s */
  expiryIntervalMs?: number;
  dispatchConcurrency?: number;
  /** for tests: another AC client */
  acClient?: AcClient;
}

export interface ManagerHandle extends RoleHandle {
  port: number;
  /** the AC calls this after each durable batch (all-in-one mode; else ACs POST /internal/v1/agent-records) */
  ingest: BatchListener;
  /** write pending heartbeats and results now */
  flush(): Promise<void>;
  readonly app: ManagerApp;
  readonly ingestor: Ingest;
}

function defaultPublicUrl(listen: string, port: number): string {
  const host = listen === "0.0.0.0" || listen === "::" || listen === "" ? "127.0.0.1" : listen;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export async function startManager(o: ManagerOptions): Promise<ManagerHandle> {
  const log = o.log;
  await ensureAdmin({ repo: o.repo, password: o.adminPassword, log });
  const acClient = o.acClient ?? createHttpAcClient({ secret: o.secret, acUrls: o.acUrls, sdUrls: o.sdUrls, log: log.child("ac-client") });
  const settings = managerSettings({ dataDir: o.dataDir, ...o.settings });
  const services = createServices({ repo: o.repo, acClient, log, publicUrl: () => app.settings.publicUrl, sdUrls: o.sdUrls, dispatchConcurrency: o.dispatchConcurrency });
  // before the app: the internal route feeds it (records from ACs in other processes)
  const ingestor = createIngest({ repo: o.repo, log: log.child("ingest"), flushMs: o.heartbeatFlushMs, acAddr: o.acAddr, offlineAfterMs: settings.offlineAfterMs, onArrive: (ids) => services.policyPush.pushTo(ids) });
  const internal: InternalRouteOptions = { secret: o.secret, ingest: ingestor.listener, flush: () => ingestor.flush(), log: log.child("internal") };
  const app = createManagerApp({ repo: o.repo, events: o.events, acClient, log, config: settings, sdUrls: o.sdUrls, services, internal });
  const maxBody = Math.max(settings.bodyLimitBytes, settings.componentMaxBytes + (1 << 20));
  const http = await serveHttp(app, { port: o.port, hostname: o.listen, maxBodyBytes: maxBody }).catch(async (e: Error) => {
    await ingestor.stop();
    throw new Error(`Manager cannot listen on ${o.listen}:${o.port}: ${e.message}`);
  });
  const port = http.port;
  // the default public URL names the port, known only now (port 0 = any)
  if (!o.settings?.publicUrl) app.settings.publicUrl = defaultPublicUrl(o.listen, port);
  const expiry = startTaskExpiry({ repo: o.repo, log: log.child("tasks"), intervalMs: o.expiryIntervalMs });
  log.info("Manager serving", { http: `${o.listen}:${port}`, database: o.repo.dialect, public_url: app.settings.publicUrl, ac: o.acUrls?.join(",") ?? "", sd: o.sdUrls?.join(",") ?? "", event_store: o.events ? "embedded" : "none" });

  let stopping: Promise<void> | undefined;
  return {
    name: "manager",
    port,
    app,
    ingestor,
    ingest: ingestor.listener,
    flush: () => ingestor.flush(),
    stop() {
      stopping ??= (async () => {
        expiry.stop();
        await http.close();
        await ingestor.stop();
        await services.dispatcher.idle();
        await services.policyPush.idle();
        log.info("Manager stopped");
      })();
      return stopping;
    },
  };
}
