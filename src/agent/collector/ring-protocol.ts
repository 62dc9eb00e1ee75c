// Messages between the ring reader Worker (ring-worker.ts) and the main thread (ring-reader.ts).
export type WorkerIn =
  | { type: "start"; fd: number; size: number; cap: number; credits: number; pollMs: number }
  | { type: "credit"; n: number }
  | { type: "stop" };

export type WorkerOut =
  | { type: "batch"; buf: ArrayBuffer; records: number }
  | { type: "error"; message: string }
  | { type: "stopped"; records: number; batches: number };
