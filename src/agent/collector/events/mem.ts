// Event specifications of the memory/misc process events (family "process"). Mirror of bpf/events/mem.h.
import type { EventSpec } from "./types.ts";

export const memEvents: EventSpec[] = [];
