// How stored events are named and printed: the event name by data_type (the collector's
// catalogue plus the agent's own data types) and the JSON/text lines of `vigil-server events
// query`, which mirror `vigil-agent trace` (src/agent/trace.ts) plus agent_id and hostname.
import { BY_DT } from "../../agent/collector/catalog.ts";
import { DataType } from "../../common/wire.ts";

const EXTRA_NAMES = new Map<number, string>([
  [DataType.AgentHeartbeat, "heartbeat"],
  [DataType.PluginHeartbeat, "plugin_heartbeat"],
  [DataType.TaskResult, "task_result"],
]);

export function eventName(dataType: number): string {
  return BY_DT.get(dataType)?.name ?? EXTRA_NAMES.get(dataType) ?? `dt_${dataType}`;
}

/** One event as read back from the store; tsNs keeps the exact nanosecond digits. */
export interface ReadEvent {
  agentId: string;
  hostname: string;
  dataType: number;
  tsNs: bigint;
  serverTime: number;
  fields: Record<string, string>;
}

export function jsonLine(e: ReadEvent): string {
  return `{"data_type":${e.dataType},"event":${JSON.stringify(eventName(e.dataType))},"timestamp":${e.tsNs},"fields":${JSON.stringify(e.fields)},"agent_id":${JSON.stringify(e.agentId)},"hostname":${JSON.stringify(e.hostname)}}`;
}

export function textLine(e: ReadEvent): string {
  const t = new Date(Number(e.tsNs / 1_000_000n)).toISOString();
  const kv = Object.entries(e.fields).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${/[\s"]/.test(v) || v === "" ? JSON.stringify(v) : v}`);
  return `${t} ${eventName(e.dataType)}(${e.dataType}) agent_id=${e.agentId} hostname=${JSON.stringify(e.hostname)} ${kv.join(" ")}`.trimEnd();
}
