// `vigil-server [options]`: validates every setting, then starts the roles in order (SD, the
// event store, AC, the Manager's database, Manager) in one process and stops them in reverse
// order on SIGINT/SIGTERM. With the Manager in this process the AC hands it each durable batch
// directly; without, it forwards heartbeats and task results to ac.manager_urls over HTTP.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { UsageError } from "../../common/errors.ts";
import { createLogger, type Logger } from "../../common/log.ts";
import type { RoleHandle } from "../role.ts";
import { AVAILABLE_ROLES, ROLES, RUN_FLAGS, loadServerConfig, type Role, type ServerConfig } from "../config.ts";
import { startSd } from "../sd/index.ts";
import { startAc, DEFAULT_ACK_INTERVAL_MS } from "../ac/index.ts";
import { openEventStore } from "../store/index.ts";
import { STORE_SUBDIR } from "../store/query-cli.ts";
import { openRepository } from "../manager/repo/index.ts";
import { startManager } from "../manager/index.ts";
import type { BatchListener } from "../sink.ts";
import type { EventStore } from "../store/index.ts";
import { MAIN_HELP } from "./help.ts";
import { prepare } from "./prepare.ts";

/** A URL for reaching a local role that listens on `listen`. */
export function localUrl(listen: string, port: number): string {
  const h = listen === "0.0.0.0" || listen === "" ? "127.0.0.1" : listen === "::" ? "::1" : listen;
  return `http://${h.includes(":") ? `[${h}]` : h}:${port}`;
}

function parseRunFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: RUN_FLAGS, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split(". ")[0]} (vigil-server --help lists the options)`);
  }
}

/** Roles to start, in start order, and the requested ones this build does not have. */
export function planRoles(cfg: ServerConfig): { run: Role[]; missing: Role[]; explicit: boolean } {
  const want = new Set(cfg.roles ?? ROLES);
  return { run: AVAILABLE_ROLES.filter((r) => want.has(r)), missing: ROLES.filter((r) => want.has(r) && !AVAILABLE_ROLES.includes(r)), explicit: cfg.roles !== undefined };
}

async function startRoles(cfg: ServerConfig, run: Role[], log: Logger, handles: RoleHandle[], notice: (s: string) => void): Promise<Record<string, unknown>> {
  const p = await prepare(cfg, { needServerCerts: run.includes("ac"), log, notice });
  const ready: Record<string, unknown> = { roles: run.join(","), data_dir: cfg.data_dir, certs: p.certsDir };
  let sdUrl: string | undefined;
  if (run.includes("sd")) {
    const sd = await startSd({ listen: cfg.listen, port: cfg.sd.port, secret: p.secret, peers: cfg.sd.peers, ttlMs: cfg.sd.ttl, log: log.child("sd") });
    handles.push(sd);
    sdUrl = localUrl(cfg.listen, sd.port);
    ready.sd_port = sd.port;
  }
  // the Manager's heartbeat/result listener, set once the Manager runs (the AC starts first)
  let ingest: BatchListener | undefined;
  let store: EventStore | undefined;
  let acHttpUrl: string | undefined;
  let acAddr: string | undefined;
  if (run.includes("ac")) {
    const events = await openEventStore({ dir: join(cfg.data_dir, STORE_SUBDIR), retentionMs: cfg.store.retention, maxBytes: cfg.store.max_bytes, log: log.child("store") });
    store = events;
    handles.push({ name: "store", stop: () => events.close() });
    const sdUrls = cfg.ac.sd ?? (sdUrl ? [sdUrl] : []);
    const managerHere = run.includes("manager");
    const managerUrls = managerHere ? undefined : cfg.ac.manager_urls;
    if (managerHere && cfg.ac.manager_urls?.length) log.warn("ac.manager_urls is ignored: the Manager runs in this process and gets every batch directly", { manager_urls: cfg.ac.manager_urls.join(",") });
    if (!managerHere && !managerUrls?.length) log.warn("no Manager in this process and no ac.manager_urls (--manager-urls, VIGIL_MANAGER_URLS): no Manager will see this AC's heartbeats and task results");
    const ac = await startAc({
      listen: cfg.listen, grpcPort: cfg.ac.grpc_port, httpPort: cfg.ac.http_port, certs: p.serverCerts!, secret: p.secret, sink: events,
      sdUrls, advertiseHost: cfg.ac.advertise_host, registerIntervalMs: cfg.ac.register_interval, log: log.child("ac"),
      ackIntervalMs: DEFAULT_ACK_INTERVAL_MS,
      onBatch: managerHere ? (b) => ingest?.(b) : undefined,
      managerUrls,
    });
    handles.push(ac);
    acHttpUrl = localUrl(cfg.listen, ac.httpPort);
    acAddr = `${cfg.ac.advertise_host ?? new URL(localUrl(cfg.listen, ac.grpcPort)).hostname}:${ac.grpcPort}`;
    Object.assign(ready, { ac_grpc_port: ac.grpcPort, ac_http_port: ac.httpPort, ac_sd: sdUrls.join(","), ...(managerUrls?.length ? { ac_manager_urls: managerUrls.join(",") } : {}) });
  }
  if (run.includes("manager")) {
    const mlog = log.child("manager");
    const repo = await openRepository({ url: cfg.database.url, dataDir: cfg.data_dir, log: mlog });
    handles.push({ name: "manager-db", stop: () => repo.close() });
    const mgr = await startManager({
      listen: cfg.listen, port: cfg.manager.port, repo, events: store, secret: p.secret,
      acUrls: acHttpUrl ? [acHttpUrl] : undefined,
      sdUrls: cfg.ac.sd ?? (sdUrl ? [sdUrl] : undefined),
      acAddr, dataDir: cfg.data_dir, adminPassword: cfg.manager.admin_password,
      settings: { offlineAfterMs: cfg.manager.offline_after, tokenTtlMs: cfg.manager.token_ttl, publicUrl: cfg.manager.public_url, componentMaxBytes: cfg.manager.component_max_bytes },
      log: mlog,
    });
    ingest = mgr.ingest;
    // stopping: detach the listener first, then the Manager flushes what it holds
    handles.push({ name: "manager", stop: async () => { ingest = undefined; await mgr.stop(); } });
    ready.manager_port = mgr.port;
  }
  return ready;
}

async function stopAll(handles: RoleHandle[], log: Logger): Promise<void> {
  for (const h of [...handles].reverse()) {
    try {
      await h.stop();
    } catch (e) {
      log.error("stopping a role failed", { role: h.name, error: e as Error });
    }
  }
}

/** Runs the server until SIGINT/SIGTERM; returns the exit code. ConfigError/UsageError propagate. */
export async function runServer(argv: string[], version: string, notice = (s: string) => void process.stderr.write(s)): Promise<number> {
  const flags = parseRunFlags(argv);
  if (flags.help) {
    process.stdout.write(MAIN_HELP(version));
    return 0;
  }
  const cfg = loadServerConfig({ file: (flags.config as string | undefined) ?? (process.env.VIGIL_CONFIG || undefined), flags });
  const log = createLogger({ component: "vigil-server" });
  const { run, missing, explicit } = planRoles(cfg);
  if (run.length === 0) {
    notice(`vigil-server: role ${missing.join(", ")} is not available yet in this version (available: ${AVAILABLE_ROLES.join(", ")})\n`);
    return 2;
  }
  if (missing.length) log.warn(`role(s) ${missing.join(", ")} not built yet (a later version); running ${run.join(", ")}`, { requested: explicit ? cfg.roles!.join(",") : "all" });

  let stopRequested: (sig: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (stopRequested = resolve));
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn("second signal: exiting without a clean stop", { signal: sig });
      process.exit(130);
    }
    stopRequested(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const handles: RoleHandle[] = [];
  try {
    const ready = await Promise.race([startRoles(cfg, run, log, handles, notice), stopSignal.then(() => undefined)]);
    if (ready) log.info("vigil-server ready", { version, ...ready });
  } catch (e) {
    await stopAll(handles, log);
    throw e;
  }
  const sig = await stopSignal;
  log.info("stopping", { signal: sig, roles: handles.map((h) => h.name).reverse().join(",") });
  await stopAll(handles, log);
  log.info("stopped");
  return 0;
}
