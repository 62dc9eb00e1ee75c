// The SD role (service discovery): an in-memory registry behind SD's HTTP API, expiring
// entries not renewed for ttlMs (105 s by default) and replicating changes to peer SDs.
import type { Logger } from "../../common/log.ts";
import { serveHttp } from "../../common/http-serve.ts";
import type { RoleHandle } from "../role.ts";
import { DEFAULT_TTL_MS, Registry } from "./registry.ts";
import { startReplicator } from "./replicate.ts";
import { SdMetrics } from "./metrics.ts";
import { MAX_BODY_BYTES, sdApp } from "./app.ts";

export interface SdOptions {
  listen: string;
  port: number;
  /** shared secret of internal calls (register, evict, sync) */
  secret: string;
  /** base URLs of peer SD nodes (http://host:port) */
  peers: string[];
  ttlMs?: number;
  log: Logger;
}

export interface SdHandle extends RoleHandle {
  readonly port: number;
  readonly registry: Registry;
}

/** How often expired entries are swept (reads filter them anyway). */
const sweepInterval = (ttlMs: number) => Math.max(50, Math.min(5000, Math.floor(ttlMs / 4)));

export async function startSd(o: SdOptions): Promise<SdHandle> {
  const ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
  if (!o.secret) throw new Error("SD needs the internal secret (internal.secret) to check register/evict/sync calls");
  const log = o.log;
  const registry = new Registry(ttlMs);
  const metrics = new SdMetrics();
  const replicator = startReplicator({ peers: o.peers, secret: o.secret, metrics, log });
  const sweeper = setInterval(() => {
    const gone = registry.sweep();
    if (gone.length) {
      metrics.evictions.inc({ reason: "expired" }, gone.length);
      for (const e of gone) log.info("entry expired", { name: e.name, ip: e.ip, port: e.port });
    }
  }, sweepInterval(ttlMs));
  let server;
  try {
    server = await serveHttp(sdApp({ registry, replicator, metrics, secret: o.secret, log }), { port: o.port, hostname: o.listen, maxBodyBytes: MAX_BODY_BYTES });
  } catch (e) {
    clearInterval(sweeper);
    await replicator.stop();
    throw new Error(`SD cannot listen on ${o.listen}:${o.port}: ${(e as Error).message}`);
  }
  log.info("SD listening", { address: `${o.listen}:${server.port}`, peers: o.peers.length, ttl_ms: ttlMs });
  return {
    name: "sd",
    port: server.port,
    registry,
    async stop() {
      clearInterval(sweeper);
      await server.close();
      await replicator.stop();
      log.info("SD stopped");
    },
  };
}
