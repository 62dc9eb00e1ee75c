// Event specifications of the network family. Mirror of bpf/events/net.h.
import type { EventSpec } from "./types.ts";

export const networkEvents: EventSpec[] = [];
