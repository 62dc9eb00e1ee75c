// The AC's table of live agent streams: one per agent id (a new stream replaces the old one),
// with what /conn/list and /conn/stat report and a way to push a Command to the agent.
import type { grpc } from "../../common/proto.ts";
import type { AgentIdentity } from "../../common/agent-identity.ts";

export interface AgentConn extends AgentIdentity {
  /** peer address host:port */
  addr: string;
  /** client certificate subject CN */
  certCn: string;
  connectedAt: number;
  lastSeen: number;
  batches: number;
  records: number;
  /** the latest agent heartbeat (1000) fields */
  heartbeat?: Record<string, string>;
  send(cmd: grpc.Command.$Properties): void;
  /** close the stream with a status (replaced, reset, shutdown) */
  close(code: number, details: string): void;
}

export class Connections {
  private readonly byId = new Map<string, AgentConn>();

  get size(): number {
    return this.byId.size;
  }

  get(agentId: string): AgentConn | undefined {
    return this.byId.get(agentId);
  }

  /** Add a stream; returns the one it replaces, if any. */
  add(c: AgentConn): AgentConn | undefined {
    const old = this.byId.get(c.agentId);
    this.byId.set(c.agentId, c);
    return old;
  }

  /** Remove c if it is still the live stream of its agent. */
  remove(c: AgentConn): boolean {
    if (this.byId.get(c.agentId) !== c) return false;
    this.byId.delete(c.agentId);
    return true;
  }

  all(): AgentConn[] {
    return [...this.byId.values()];
  }
}
