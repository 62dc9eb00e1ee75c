// Named counters of the daemon: every drop and failure increments one, and the heartbeat
// reports them all (Vigil's "count, never swallow").

/** Every counter the daemon keeps; the heartbeat sends each as a field of the same name. */
export const COUNTERS = [
  "records_produced",     // records handed to the batcher (events, heartbeats, task results)
  "records_too_large",    // a single record above the batch cap, dropped
  "batches_spooled",      // batches appended to the spool
  "batches_sent",         // batch writes to an AC (replays included)
  "batches_acked",        // batches acknowledged durable by an AC
  "send_errors",          // streams that ended in an error
  "connect_failures",     // attempts to reach an AC that failed
  "sd_failures",          // service-discovery queries that failed
  "commands_received",
  "commands_malformed",   // commands whose task data could not be parsed
  "tasks_failed",
  "encode_errors",        // events whose fields could not be encoded
] as const;
export type CounterName = (typeof COUNTERS)[number];

export class Counters {
  private readonly values = new Map<CounterName, number>(COUNTERS.map((c) => [c, 0]));

  inc(name: CounterName, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: CounterName): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<CounterName, number> {
    return Object.fromEntries(this.values) as Record<CounterName, number>;
  }
}
