// Finding an AC (DESIGN.md "Transport"): ask each SD for hids_svr_grpc and take its entries
// least-loaded first; if no SD answers, the configured addresses, private before public.
import { Service } from "../../common/wire.ts";
import { isPrivateIp } from "./identity.ts";
import type { Logger } from "../../common/log.ts";
import type { Counters } from "./counters.ts";

export const SD_TIMEOUT_MS = 5000;

export interface Endpoint {
  /** host:port as grpc-js takes it ([v6]:port for IPv6) */
  address: string;
  via: "sd" | "config";
  weight?: number;
}

/** "host:port" or "[v6]:port" → its host part, without brackets. */
export function hostOf(address: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^([^:]+):\d+$/.exec(address);
  return m ? m[1] : address;
}

/** Configured addresses, private ones first (a hostname counts as private: it is ours to resolve). */
export function configuredEndpoints(ac: readonly string[]): Endpoint[] {
  const priv = (a: string) => {
    const h = hostOf(a);
    return /^[\d.]+$/.test(h) || h.includes(":") ? isPrivateIp(h) : true;
  };
  return [...ac.filter(priv), ...ac.filter((a) => !priv(a))].map((address) => ({ address, via: "config" as const }));
}

interface SdEntry { ip?: unknown; port?: unknown; weight?: unknown }

/** One SD's answer, sorted by weight (lowest first). Throws naming the SD on any failure. */
export async function querySd(sd: string, timeoutMs = SD_TIMEOUT_MS): Promise<Endpoint[]> {
  const url = `${sd.replace(/\/+$/, "")}/registry/detail?name=${Service.Grpc}`;
  let body: { code?: unknown; msg?: unknown; data?: unknown };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json() as typeof body;
  } catch (e) {
    throw new Error(`SD ${url}: ${(e as Error).message}`);
  }
  if (body.code !== 0 || !Array.isArray(body.data)) throw new Error(`SD ${url}: code ${String(body.code)} ${String(body.msg ?? "")}`.trim());
  return (body.data as SdEntry[])
    .filter((e) => typeof e.ip === "string" && Number.isInteger(e.port))
    .sort((a, b) => Number(a.weight ?? 0) - Number(b.weight ?? 0))
    .map((e) => ({ address: String(e.ip).includes(":") ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`, via: "sd" as const, weight: Number(e.weight ?? 0) }));
}

/** SD first (each in turn), then the configured addresses; never empty unless both are. */
export async function discover(o: { sd: readonly string[]; ac: readonly string[]; log: Logger; counters: Counters }): Promise<Endpoint[]> {
  for (const sd of o.sd) {
    try {
      const eps = await querySd(sd);
      if (eps.length > 0) return [...eps, ...configuredEndpoints(o.ac).filter((c) => !eps.some((e) => e.address === c.address))];
      o.log.warn("SD knows no AC", { sd });
    } catch (e) {
      o.counters.inc("sd_failures");
      o.log.warn("service discovery failed", { error: (e as Error).message });
    }
  }
  return configuredEndpoints(o.ac);
}
