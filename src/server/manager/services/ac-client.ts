// The Manager's client of the AC HTTP API (signed with the internal secret): push a Command to
// one agent (/command/) or many (/command/batch, see src/server/ac/http-api.ts) through
// whichever AC holds each connection, list the ACs (static URLs or SD's hids_svr_http entries)
// and read their load. An AC without /command/batch (404: Elkeid's, or an older Vigil) is sent
// single commands instead.
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

export interface SendEntry {
  agentId: string;
  cmd: CommandJson;
}

export interface AcClient {
  /** deliver to the agent; throws when no AC could be asked */
  send(agentId: string, cmd: CommandJson): Promise<SendResult>;
  /**
   * deliver many, in chunks, each agent first to the AC known to hold it, then to the others;
   * one result per entry, in order (an Error when its only AC failed); throws when no AC is known
   */
  sendMany(entries: SendEntry[]): Promise<(SendResult | Error)[]>;
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
  /** commands per /command/batch call; default 1,000 (the AC takes at most 5,000) */
  batchSize?: number;
  /** /command/batch calls in flight per AC, whoever asks; default 2 */
  batchesPerAc?: number;
  /** /command/ calls in flight for an AC without /command/batch; default 32 */
  singleConcurrency?: number;
}

/** fn over items, at most `n` at a time; results in order (also used by dispatch.ts, policy-push.ts) */
export async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** a counting semaphore: at most `n` holders */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const wake = waiting.shift();
      if (wake) wake();
      else active--;
    }
  };
}

export function createHttpAcClient(o: HttpAcClientOptions): AcClient {
  const timeoutMs = o.timeoutMs ?? 5_000;
  const batchSize = o.batchSize ?? 1_000;
  const owner = new Map<string, string>();
  const perAc = new Map<string, ReturnType<typeof limiter>>();
  const noBatch = new Set<string>();
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
  const post = async (base: string, agentId: string, cmd: CommandJson): Promise<SendResult> => {
    const body = JSON.stringify({ agent_id: agentId, command: cmd });
    const r = await signedFetch(o.secret, `${base}/command/`, { method: "POST", body, signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    if (r.status === 200) return "sent";
    if (r.status === 404) return "not_connected";
    throw new Error(`AC ${base} refused the command: HTTP ${r.status}`);
  };
  /** one chunk to one AC: per entry "sent", "not_connected" or the AC's error */
  const postBatch = async (base: string, chunk: SendEntry[]): Promise<(SendResult | Error)[]> => {
    if (noBatch.has(base)) return postSingles(base, chunk);
    const body = JSON.stringify({ commands: chunk.map((e) => ({ agent_id: e.agentId, command: e.cmd })) });
    let lim = perAc.get(base);
    if (!lim) perAc.set(base, (lim = limiter(o.batchesPerAc ?? 2)));
    const r = await lim(async () => {
      const res = await signedFetch(o.secret, `${base}/command/batch`, { method: "POST", body, signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, json: res.status === 200 ? ((await res.json()) as { data?: { sent?: string[]; not_connected?: string[] } }) : (await res.arrayBuffer(), undefined) };
    });
    if (r.status === 404) {
      if (!noBatch.has(base)) o.log.info("AC has no /command/batch; sending single commands", { ac: base });
      noBatch.add(base);
      return postSingles(base, chunk);
    }
    if (r.status !== 200) throw new Error(`AC ${base} refused the commands: HTTP ${r.status}`);
    const sent = new Set(r.json?.data?.sent ?? []);
    const missing = new Set(r.json?.data?.not_connected ?? []);
    return chunk.map((e) => (sent.has(e.agentId) ? "sent" : missing.has(e.agentId) ? "not_connected" : new Error(`AC ${base} did not report on agent ${e.agentId}`)));
  };
  const postSingles = (base: string, chunk: SendEntry[]): Promise<(SendResult | Error)[]> =>
    mapLimit(chunk, o.singleConcurrency ?? 32, (e) => post(base, e.agentId, e.cmd).catch((err: Error) => err));

  return {
    acUrls,
    get,
    async sendMany(entries) {
      if (!entries.length) return [];
      const urls = await acUrls();
      if (!urls.length) throw new Error("no AC known (none configured and none registered with SD)");
      const out: (SendResult | Error)[] = new Array(entries.length);
      // per entry: the ACs still to ask, and the last AC error
      const order = entries.map((e) => {
        const known = owner.get(e.agentId);
        return known && urls.includes(known) ? [known, ...urls.filter((u) => u !== known)] : urls;
      });
      const tried = new Array<number>(entries.length).fill(0);
      const lastError = new Array<Error | undefined>(entries.length);
      let pending = [...entries.keys()];
      while (pending.length) {
        const byAc = new Map<string, number[]>();
        for (const i of pending) {
          const base = order[i]![tried[i]!]!;
          const list = byAc.get(base);
          if (list) list.push(i);
          else byAc.set(base, [i]);
        }
        const again: number[] = [];
        const chunks = [...byAc].flatMap(([base, idx]) => Array.from({ length: Math.ceil(idx.length / batchSize) }, (_, k) => ({ base, idx: idx.slice(k * batchSize, (k + 1) * batchSize) })));
        await Promise.all(chunks.map(async ({ base, idx }) => {
          const res = await postBatch(base, idx.map((i) => entries[i]!)).catch((e: Error) => idx.map(() => e));
          idx.forEach((i, k) => {
            const r = res[k]!;
            if (r === "sent") {
              owner.set(entries[i]!.agentId, base);
              out[i] = "sent";
              return;
            }
            if (r instanceof Error) lastError[i] = r;
            if (++tried[i]! < order[i]!.length) return void again.push(i);
            owner.delete(entries[i]!.agentId);
            out[i] = lastError[i] && order[i]!.length === 1 ? lastError[i]! : "not_connected";
          });
        }));
        pending = again;
      }
      return out;
    },
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
