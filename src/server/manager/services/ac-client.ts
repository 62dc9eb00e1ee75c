// The Manager's client of the AC HTTP API (signed with the internal secret): push a Command to
// one agent through whichever AC holds its connection, list the ACs (static URLs or SD's
// hids_svr_http entries) and read their load.
import { signedFetch } from "../../../common/internal-auth.ts";
import { Service } from "../../../common/wire.ts";
import type { Logger } from "../../../common/log.ts";

export interface ConfigJson {
  name: string;
  type: string;
  version: string;
  sha256: string;
  signature: string;
  download_urls: string[];
  detail: string;
}

export interface CommandJson {
  agent_ctrl: number;
  task?: { data_type: number; object_name: string; data: string; token: string };
  config?: ConfigJson[];
}

export type SendResult = "sent" | "not_connected";

export interface AcClient {
  /** deliver to the agent; throws when no AC could be asked */
  send(agentId: string, cmd: CommandJson): Promise<SendResult>;
  /** the ACs' HTTP base URLs */
  acUrls(): Promise<string[]>;
  /** GET on one AC (signed); the parsed JSON or an error */
  get(baseUrl: string, path: string): Promise<unknown>;
}

export interface HttpAcClientOptions {
  secret: string;
  /** fixed AC HTTP URLs (all-in-one: the local AC) */
  acUrls?: string[];
  /** else the ACs registered with these SDs */
  sdUrls?: string[];
  log: Logger;
  /** per call; default 5 s */
  timeoutMs?: number;
  /** how long an SD answer is reused; default 10 s */
  discoveryTtlMs?: number;
}

export function createHttpAcClient(o: HttpAcClientOptions): AcClient {
  const timeoutMs = o.timeoutMs ?? 5_000;
  const owner = new Map<string, string>();
  let discovered: { at: number; urls: string[] } | undefined;

  const get = async (base: string, path: string): Promise<unknown> => {
    const r = await signedFetch(o.secret, base + path, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new Error(`${base}${path}: HTTP ${r.status}`);
    return r.json();
  };
  const acUrls = async (): Promise<string[]> => {
    if (o.acUrls?.length) return o.acUrls;
    if (discovered && Date.now() - discovered.at < (o.discoveryTtlMs ?? 10_000)) return discovered.urls;
    for (const sd of o.sdUrls ?? []) {
      try {
        const body = (await get(sd, `/registry/detail?name=${Service.Http}`)) as { data?: { ip: string; port: number }[] };
        const urls = (body.data ?? []).map((e) => `http://${e.ip.includes(":") ? `[${e.ip}]` : e.ip}:${e.port}`);
        discovered = { at: Date.now(), urls };
        return urls;
      } catch (e) {
        o.log.warn("SD did not answer; trying the next", { sd, error: e as Error });
      }
    }
    return discovered?.urls ?? [];
  };
  const post = async (base: string, agentId: string, cmd: CommandJson): Promise<SendResult | "error"> => {
    const body = JSON.stringify({ agent_id: agentId, command: cmd });
    const r = await signedFetch(o.secret, `${base}/command/`, { method: "POST", body, signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    if (r.status === 200) return "sent";
    if (r.status === 404) return "not_connected";
    throw new Error(`AC ${base} refused the command: HTTP ${r.status}`);
  };
  return {
    acUrls,
    get,
    async send(agentId, cmd) {
      const urls = await acUrls();
      if (!urls.length) throw new Error("no AC known (none configured and none registered with SD)");
      const known = owner.get(agentId);
      const order = known && urls.includes(known) ? [known, ...urls.filter((u) => u !== known)] : urls;
      let lastError: Error | undefined;
      for (const base of order) {
        try {
          if ((await post(base, agentId, cmd)) === "sent") {
            owner.set(agentId, base);
            return "sent";
          }
        } catch (e) {
          lastError = e as Error;
        }
      }
      owner.delete(agentId);
      if (lastError && order.length === 1) throw lastError;
      return "not_connected";
    },
  };
}
