// Who an agent is, as every PackagedData says it (proto/transfer.proto fields 2-9): the one
// definition the agent's identity, the AC's batches and connections and the Manager's hosts share.

export interface AgentIdentity {
  agentId: string;
  hostname: string;
  version: string;
  product: string;
  intranetIpv4: string[];
  extranetIpv4: string[];
  intranetIpv6: string[];
  extranetIpv6: string[];
}
