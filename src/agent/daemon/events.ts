// Kernel events for the daemon: runs the collector (as `vigil-agent trace` does), decodes and
// enriches each event and queues it as a record with Elkeid's fields plus ts_ns (unix ns).
import { Collector } from "../collector/index.ts";
import { Decoder } from "../collector/decode.ts";
import { Enricher } from "../collector/enrich/index.ts";
import { bootToUnixOffsetNs } from "../collector/libbpf.ts";
import { checkBtf, checkRoot, ensureTracefs } from "../collector/preflight.ts";
import type { EventSpec } from "../collector/events/types.ts";
import type { Logger } from "../../common/log.ts";
import type { BatcherHandle } from "./batcher.ts";
import type { CollectorReport } from "./heartbeat.ts";

export interface EventsOptions {
  specs: EventSpec[];
  ringSize: number;
  batcher: BatcherHandle;
  log: Logger;
  object?: Uint8Array;
}

export interface EventsHandle {
  programs: number;
  report(): CollectorReport;
  /** stop producing and drain the ring (fast) */
  drain(): Promise<void>;
  /** detach everything (slow: the kernel waits a grace period per tracepoint) */
  close(): void;
}

/** Start the collector; throws (PreflightError, BpfLoadError) naming what is missing. */
export function startEvents(o: EventsOptions): EventsHandle {
  checkRoot();
  checkBtf();
  ensureTracefs();
  const decoder = new Decoder({ bootToUnixNs: bootToUnixOffsetNs(), enricher: new Enricher() });
  const wanted = new Set(o.specs.map((e) => e.dt));
  const collector = new Collector({
    events: o.specs,
    ringSize: o.ringSize,
    agentTgid: process.pid,
    object: o.object,
    onBatch: (buf) => {
      decoder.forEach(buf, (rec, spec) => {
        if (!wanted.has(spec.dt)) return; // the canary, unless asked for
        const fields = decoder.fields(rec, spec);
        const ts = decoder.timestamp(rec);
        fields.ts_ns = ts.toString();
        o.batcher.add(spec.dt, Number(ts / 1_000_000_000n), fields);
      });
    },
    onError: (m) => o.log.error("ring reader", { error: m }),
  });
  collector.start();
  const hookMode = () => [...collector.bpf.hookChoices].map(([k, v]) => `${k}=${v}`).join(",") || "tracepoint";
  return {
    programs: collector.bpf.attached.length,
    report: () => ({
      decoded: () => decoder.stats.decoded,
      drops: () => collector.drops(),
      limited: () => collector.rateLimited(),
      hookMode,
      malformed: () => decoder.stats.malformed,
      unknownType: () => decoder.stats.unknownType,
    }),
    drain: () => collector.drain(),
    close: () => collector.close(),
  };
}
