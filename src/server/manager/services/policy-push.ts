// Policies → agents: an agent's desired component set is the "all" policy plus the policies of
// its tags (a tag's entry replaces an "all" entry of the same name). It is sent as a Command
// with configs and no task, on an agent's first heartbeat and whenever a policy or its tags
// change. An empty set is not sent: on the wire it equals an ack-only Command, which agents
// ignore, so "remove every component" cannot be expressed yet.
import type { Logger } from "../../../common/log.ts";
import type { Component, Repository } from "../repo/types.ts";
import { mapLimit, type AcClient, type ConfigJson, type SendEntry } from "./ac-client.ts";

export interface PolicyPush {
  desiredFor(agentId: string): Promise<ConfigJson[]>;
  /** push to these agents in the background (errors are logged) */
  pushTo(agentIds: string[]): void;
  /** push to every agent a scope covers ("all" or "tag:<name>") */
  pushScope(scope: string): void;
  idle(): Promise<void>;
}

export interface PolicyPushOptions {
  repo: Repository;
  acClient: AcClient;
  log: Logger;
  /** base URL of the Manager for download URLs (read at push time) */
  publicUrl: () => string;
  /** slices in flight; default 4 */
  concurrency?: number;
  /** agents per AcClient.sendMany call; default 1,000 */
  slice?: number;
}

/** desired sets read at once per slice (each is a few repository reads) */
const DESIRED_AT_ONCE = 8;

export function downloadUrl(publicUrl: string, c: Component): string {
  return `${publicUrl.replace(/\/$/, "")}/api/v1/components/${encodeURIComponent(c.id)}/download`;
}

export function createPolicyPush(o: PolicyPushOptions): PolicyPush {
  const running = new Set<Promise<void>>();
  const toConfig = (c: Component): ConfigJson => ({ name: c.name, type: c.type, version: c.version, sha256: c.sha256, signature: "", download_urls: [downloadUrl(o.publicUrl(), c)], detail: "" });

  const desiredFor = async (agentId: string): Promise<ConfigJson[]> => {
    const host = await o.repo.getHost(agentId);
    const scopes = ["all", ...(host?.tags ?? []).map((t) => `tag:${t}`)];
    const byName = new Map<string, ConfigJson>();
    for (const scope of scopes) {
      const p = await o.repo.getPolicy(scope);
      for (const id of p?.components ?? []) {
        const c = await o.repo.getComponent(id);
        if (c) byName.set(c.name, toConfig(c));
      }
    }
    return [...byName.values()];
  };

  // sent through the AC's /command/batch; failures are logged once per slice, not per agent
  const push = async (agentIds: string[]) => {
    const size = o.slice ?? 1_000;
    const slices = Array.from({ length: Math.ceil(agentIds.length / size) }, (_, k) => agentIds.slice(k * size, (k + 1) * size));
    let next = 0;
    let sent = 0;
    const worker = async () => {
      while (next < slices.length) {
        const ids = slices[next++]!;
        const configs = await mapLimit(ids, DESIRED_AT_ONCE, (id) => desiredFor(id));
        const entries: SendEntry[] = ids.flatMap((agentId, i) => (configs[i]!.length ? [{ agentId, cmd: { agent_ctrl: 0, config: configs[i]! } }] : []));
        try {
          const results = await o.acClient.sendMany(entries);
          sent += results.filter((r) => r === "sent").length;
          const failed = results.flatMap((r, i) => (r instanceof Error ? [{ id: entries[i]!.agentId, error: r }] : []));
          if (failed.length) o.log.warn("could not push the desired components", { agents: failed.length, agent_id: failed[0]!.id, error: failed[0]!.error });
        } catch (e) {
          o.log.warn("could not push the desired components", { agents: entries.length, error: e as Error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, slices.length) }, worker));
    if (agentIds.length) o.log.debug("desired components pushed", { agents: agentIds.length, sent });
  };
  const track = (p: Promise<void>) => {
    const q = p.catch((e) => o.log.error("pushing policies failed", { error: e as Error }));
    running.add(q);
    void q.finally(() => running.delete(q));
  };

  return {
    desiredFor,
    pushTo: (ids) => track(push([...new Set(ids)])),
    pushScope(scope) {
      track((async () => {
        const f = scope === "all" ? {} : { tag: scope.slice("tag:".length) };
        await push(await o.repo.hostIds(f, 0));
      })());
    },
    async idle() {
      while (running.size) await Promise.all([...running]);
    },
  };
}
