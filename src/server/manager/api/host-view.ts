// How hosts leave the API: snake_case, the online state computed from the offline threshold,
// and Vigil's counters split out of the heartbeat facts for the detail view.
import type { Host, HostState } from "../repo/types.ts";
import { z } from "@hono/zod-openapi";

const COUNTER = /^(spool_|event|decode_|tasks_|records_|connects$|inflight_|tx_|rx_)/;

export const HostSummary = z.object({
  agent_id: z.string(), hostname: z.string(), state: z.enum(["online", "offline"]),
  intranet_ipv4: z.array(z.string()), extranet_ipv4: z.array(z.string()), intranet_ipv6: z.array(z.string()), extranet_ipv6: z.array(z.string()),
  version: z.string(), product: z.string(), ac_addr: z.string(), first_seen_at: z.number(), last_seen_at: z.number(), tags: z.array(z.string()),
}).openapi("HostSummary");
export const HostDetail = HostSummary.extend({
  facts: z.record(z.string(), z.string()),
  counters: z.record(z.string(), z.string()),
  plugins: z.record(z.string(), z.record(z.string(), z.string())),
}).openapi("HostDetail");

export function hostState(h: Host, onlineSince: number): HostState {
  return h.lastSeenAt >= onlineSince ? "online" : "offline";
}

export function hostSummary(h: Host, onlineSince: number) {
  return {
    agent_id: h.agentId, hostname: h.hostname, state: hostState(h, onlineSince),
    intranet_ipv4: h.intranetIpv4, extranet_ipv4: h.extranetIpv4, intranet_ipv6: h.intranetIpv6, extranet_ipv6: h.extranetIpv6,
    version: h.version, product: h.product, ac_addr: h.acAddr, first_seen_at: h.firstSeenAt, last_seen_at: h.lastSeenAt, tags: h.tags,
  };
}

export function hostDetail(h: Host, onlineSince: number) {
  const facts: Record<string, string> = {};
  const counters: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.facts)) (COUNTER.test(k) ? counters : facts)[k] = v;
  return { ...hostSummary(h, onlineSince), facts, counters, plugins: h.plugins };
}
