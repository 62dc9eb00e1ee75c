// Event specifications of the user family. Mirror of bpf/events/cred.h.
import type { EventSpec } from "./types.ts";

export const userEvents: EventSpec[] = [];
