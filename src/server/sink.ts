// Where the AC puts what agents send. Every record passes through a Sink; write() resolves only
// once the batch is durable (the embedded store's fsync, or Kafka acks=all in cluster mode), and
// only then is the batch acknowledged to a Vigil agent (Command.ack_seq).
import type { grpc } from "../common/proto.ts";
import type { AgentIdentity } from "../common/agent-identity.ts";

/** One PackagedData from one agent connection, as received (records still serialized). */
export interface AgentBatch extends AgentIdentity {
  /** Vigil's batch sequence number (PackagedData.seq); 0 from Elkeid agents */
  seq: number;
  /** server receive time, unix ms */
  receivedAt: number;
  records: grpc.EncodedRecord.$Properties[];
}

export interface Sink {
  readonly name: string;
  /** Resolves when every record of the batch is durable; rejects if it cannot be kept. */
  write(batch: AgentBatch): Promise<void>;
  close(): Promise<void>;
}

/** Something that wants to see each durable batch (the hub, the Manager's inventory). */
export type BatchListener = (batch: AgentBatch) => void;
