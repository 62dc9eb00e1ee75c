// Event specifications of the process family. Mirror of bpf/events/process.h.
import type { EventSpec } from "./types.ts";

export const processEvents: EventSpec[] = [];
