// The agent daemon (`vigil-agent run`): collector → records → batcher → spool → transport → AC,
// plus the heartbeat and the AC's commands. startDaemon() wires the parts; stop() shuts them
// down in reverse order (collector drained, last batch flushed and given a moment to be acked,
// stream closed, spool state written).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { grpc } from "../../common/proto.ts";
import { DataType } from "../../common/wire.ts";
import { ConfigError } from "../../common/errors.ts";
import { loadCerts } from "../../common/tls.ts";
import { createLogger, type Logger } from "../../common/log.ts";
import { Counters } from "./counters.ts";
import { Spool } from "./spool.ts";
import { startBatcher, type BatcherHandle } from "./batcher.ts";
import { startTransport, type TransportHandle } from "./transport.ts";
import { buildIdentity, hostAddresses, type Identity } from "./identity.ts";
import { MetadataStore } from "./metadata.ts";
import { HeartbeatBuilder, startHeartbeat, type HeartbeatHandle } from "./heartbeat.ts";
import { handleCommand, type TaskStatus } from "./commands.ts";
import { uploadFile } from "./upload.ts";
import { startEvents, type EventsHandle } from "./events.ts";
import type { AgentConfig } from "./config.ts";

/** Exit status after a restart task (1060): the systemd unit starts the agent again. */
export const RESTART_EXIT_CODE = 75;
/** How long stop() waits for the AC to acknowledge the last batches. */
export const STOP_FLUSH_MS = 3000;
/** How long a restart waits for its own 5100 report to be acknowledged. */
export const RESTART_FLUSH_MS = 10_000;
const SPOOL_SYNC_MS = 1000;

export interface DaemonOptions {
  config: AgentConfig;
  version: string;
  log?: Logger;
  /** a BPF object to load instead of the embedded one (tests) */
  bpfObject?: Uint8Array;
}

export interface DaemonHandle {
  readonly identity: Identity & { idSource: string };
  readonly spool: Spool;
  readonly counters: Counters;
  readonly transport: TransportHandle;
  readonly batcher: BatcherHandle;
  readonly events?: EventsHandle;
  /** emit a heartbeat now */
  heartbeat(): void;
  /** resolves with the process exit code once the daemon has stopped (0, or RESTART_EXIT_CODE) */
  readonly done: Promise<number>;
  stop(code?: number): Promise<number>;
}

export function startDaemon(o: DaemonOptions): DaemonHandle {
  const cfg = o.config;
  const log = o.log ?? createLogger({ component: "agent" });
  const certs = loadCerts(cfg.certs, "agent", "certs");
  try {
    mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ConfigError("data_dir", `cannot create ${cfg.data_dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let identity = buildIdentity({ dataDir: cfg.data_dir, override: cfg.agent_id, version: o.version });
  let spool: Spool;
  try {
    spool = Spool.open({ dir: join(cfg.data_dir, "spool"), maxBytes: cfg.spool_size });
  } catch (e) {
    throw new ConfigError("data_dir", `cannot open the spool in ${cfg.data_dir}: ${(e as Error).message}`);
  }
  const counters = new Counters();
  const metadata = new MetadataStore(cfg.data_dir);
  let state = { state: "running", detail: "" };
  log.info("starting", { agent_id: identity.agentId, id_source: identity.idSource, version: o.version, spooled: spool.depth, next_seq_after: spool.lastSeq });

  let transport!: TransportHandle;
  const batcher = startBatcher({ spool, counters, identity: () => identity, intervalMs: cfg.batch_interval, onBatch: () => transport.kick() });
  const report = (token: string, status: TaskStatus, msg: string) =>
    batcher.add(DataType.TaskResult, Math.floor(Date.now() / 1000), { token, status, msg });

  let stopping: Promise<number> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  transport = startTransport({
    sd: cfg.sd, ac: cfg.ac, certs, serverName: cfg.tls_server_name, spool, counters, log: log.child("transport"),
    window: cfg.window, backoffMinMs: cfg.reconnect_min, backoffMaxMs: cfg.reconnect_max,
    hello: () => grpc.PackagedData.encode({
      records: [], agentId: identity.agentId, intranetIpv4: identity.intranetIpv4, extranetIpv4: identity.extranetIpv4,
      intranetIpv6: identity.intranetIpv6, extranetIpv6: identity.extranetIpv6, hostname: identity.hostname,
      version: identity.version, product: identity.product, seq: 0,
    }).finish(),
    onCommand: (cmd) => handleCommand(cmd, {
      log: log.child("tasks"), counters, report,
      upload: (token, path, bufSize) => {
        const target = transport.uploadTarget();
        if (!target) return Promise.reject(new Error("no AC to upload to"));
        return uploadFile(target, token, path, bufSize);
      },
      setMetadata: (v) => {
        const r = metadata.set(v);
        heartbeat.beat(); // the new metadata is visible at once
        return r;
      },
      restart: (token) => {
        report(token, "succeeded", "restarting");
        const seq = batcher.flush();
        log.info("restart requested by the AC", { token });
        void transport.flushed(seq, RESTART_FLUSH_MS).then(() => stop(RESTART_EXIT_CODE));
      },
    }),
  });

  let events: EventsHandle | undefined;
  if (cfg.eventSpecs) {
    try {
      events = startEvents({ specs: cfg.eventSpecs, ringSize: cfg.ring_size, batcher, log: log.child("collector"), object: o.bpfObject });
      log.info("collector started", { programs: events.programs, events: cfg.eventSpecs.length, hook_mode: events.report().hookMode() });
    } catch (e) {
      state = { state: "abnormal", detail: `collector: ${(e as Error).message.split("\n")[0]}` };
      log.error("collector failed to start; running without kernel events", { error: e as Error });
    }
  }

  const builder = new HeartbeatBuilder({
    counters, spool, transport: () => transport.stats(), metadata: () => metadata.get(), dataDir: cfg.data_dir,
    agentIdSource: identity.idSource, collector: () => events?.report(),
    state: () => {
      if (state.state !== "running") return state;
      const sp = spool.stats();
      return sp.diskFailed ? { state: "abnormal", detail: sp.lastError || "spool disk failing" } : state;
    },
  });
  const heartbeat: HeartbeatHandle = startHeartbeat({
    builder, intervalMs: cfg.heartbeat_interval,
    emit: (fields) => {
      identity = { ...identity, ...hostAddresses() };
      batcher.add(DataType.AgentHeartbeat, Math.floor(Date.now() / 1000), fields);
    },
  });
  const syncTimer = setInterval(() => spool.sync(), SPOOL_SYNC_MS);

  const stop = (code = 0): Promise<number> => {
    stopping ??= (async () => {
      log.info("stopping", { code });
      heartbeat.stop();
      if (events) await events.drain();
      const seq = batcher.flush();
      batcher.stop();
      await transport.flushed(seq, STOP_FLUSH_MS);
      await transport.stop();
      clearInterval(syncTimer);
      spool.close();
      events?.close();
      log.info("stopped", { spooled: spool.depth, acked_seq: spool.ackedSeq });
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  return { identity, spool, counters, transport, batcher, events, heartbeat: () => heartbeat.beat(), done, stop };
}
