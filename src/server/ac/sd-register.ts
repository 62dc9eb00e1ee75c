// Keeps this AC registered with service discovery: every interval, POST /registry/register for
// hids_svr_grpc and hids_svr_http (weight = live connections) to each SD URL, signed; failures
// are logged and counted, never fatal. stop() evicts both entries.
import { signedFetch } from "../../common/internal-auth.ts";
import { Service } from "../../common/wire.ts";
import type { Logger } from "../../common/log.ts";
import type { AcMetrics } from "./metrics.ts";

export interface SdRegisterOptions {
  sdUrls: string[];
  secret: string;
  ip: string;
  grpcPort: number;
  httpPort: number;
  intervalMs: number;
  weight(): number;
  metrics: AcMetrics;
  log: Logger;
}

const REQUEST_TIMEOUT_MS = 5_000;

export interface SdRegistration {
  /** register now (also done every intervalMs) */
  registerNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startSdRegistration(o: SdRegisterOptions): SdRegistration {
  const entries = [
    { name: Service.Grpc, port: o.grpcPort },
    { name: Service.Http, port: o.httpPort },
  ];
  const post = async (base: string, path: string, body: unknown): Promise<void> => {
    const url = new URL(path, base.endsWith("/") ? base : base + "/").toString();
    const res = await signedFetch(o.secret, url, { body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  };
  let failingLogged = new Set<string>();
  const registerNow = async () => {
    const weight = o.weight();
    await Promise.all(o.sdUrls.flatMap((base) => entries.map(async (e) => {
      try {
        await post(base, "registry/register", { name: e.name, ip: o.ip, port: e.port, weight, extra: {} });
        o.metrics.registrations.inc({ result: "ok" });
        if (failingLogged.delete(base)) o.log.info("registered with SD again", { sd: base });
      } catch (err) {
        o.metrics.registrations.inc({ result: "error" });
        if (!failingLogged.has(base)) o.log.warn("SD registration failed (will retry)", { sd: base, name: e.name, error: err as Error });
        failingLogged.add(base);
      }
    })));
  };
  let inflight: Promise<void> = registerNow();
  const timer = setInterval(() => {
    inflight = registerNow();
  }, o.intervalMs);
  timer.unref?.();
  return {
    registerNow: () => (inflight = registerNow()),
    async stop() {
      clearInterval(timer);
      await inflight.catch(() => {});
      await Promise.all(o.sdUrls.flatMap((base) => entries.map(async (e) => {
        try {
          await post(base, "registry/evict", { name: e.name, ip: o.ip, port: e.port });
        } catch (err) {
          o.metrics.registrations.inc({ result: "evict_error" });
          o.log.warn("SD evict failed", { sd: base, name: e.name, error: err as Error });
        }
      })));
    },
  };
}
