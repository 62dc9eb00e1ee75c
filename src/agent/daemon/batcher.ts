// Collects records into PackagedData batches about every 100 ms (or sooner at a size cap well
// below the 10 MiB message limit), numbers each with the spool's next seq and appends it to the
// spool before anything is sent (DESIGN.md "Transport").
import { grpc, encodePayload } from "../../common/proto.ts";
import { MAX_MESSAGE_BYTES } from "../../common/wire.ts";
import type { Spool } from "./spool.ts";
import type { Counters } from "./counters.ts";
import type { Identity } from "./identity.ts";

export const DEFAULT_BATCH_INTERVAL_MS = 100;
/** Encoded records per batch at most, in bytes: a fifth of the message limit. */
export const DEFAULT_BATCH_MAX_BYTES = Math.floor(MAX_MESSAGE_BYTES / 5);
/** Per-record framing overhead in an EncodedRecord, generously. */
const RECORD_OVERHEAD = 24;

export interface BatcherOptions {
  spool: Spool;
  counters: Counters;
  identity: () => Identity;
  intervalMs?: number;
  maxBytes?: number;
  /** called after a batch was spooled (the transport sends it) */
  onBatch?: (seq: number) => void;
}

export interface BatcherHandle {
  /** Queue one record; `fields` become its Payload. */
  add(dataType: number, timestampSec: number, fields: Record<string, string>): void;
  /** Spool what is pending now; returns the batch's seq, or the last seq if nothing was pending. */
  flush(): number;
  stop(): void;
}

export function startBatcher(o: BatcherOptions): BatcherHandle {
  const maxBytes = o.maxBytes ?? DEFAULT_BATCH_MAX_BYTES;
  let pending: grpc.EncodedRecord.$Properties[] = [];
  let pendingBytes = 0;
  let lastSeq = o.spool.lastSeq;

  const flush = (): number => {
    if (pending.length === 0) return lastSeq;
    const id = o.identity();
    const seq = o.spool.allocSeq();
    const bytes = grpc.PackagedData.encode({
      records: pending, agentId: id.agentId, intranetIpv4: id.intranetIpv4, extranetIpv4: id.extranetIpv4,
      intranetIpv6: id.intranetIpv6, extranetIpv6: id.extranetIpv6, hostname: id.hostname,
      version: id.version, product: id.product, seq,
    }).finish();
    const n = pending.length;
    pending = [];
    pendingBytes = 0;
    o.spool.append(seq, bytes, n);
    o.counters.inc("batches_spooled");
    lastSeq = seq;
    o.onBatch?.(seq);
    return seq;
  };

  const timer = setInterval(flush, o.intervalMs ?? DEFAULT_BATCH_INTERVAL_MS);
  return {
    add(dataType, timestampSec, fields) {
      let data: Uint8Array;
      try {
        data = encodePayload(fields);
      } catch {
        o.counters.inc("encode_errors");
        return;
      }
      if (data.length + RECORD_OVERHEAD > maxBytes) {
        o.counters.inc("records_too_large");
        return;
      }
      if (pendingBytes + data.length + RECORD_OVERHEAD > maxBytes) flush();
      pending.push({ dataType, timestamp: timestampSec, data });
      pendingBytes += data.length + RECORD_OVERHEAD;
      o.counters.inc("records_produced");
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
