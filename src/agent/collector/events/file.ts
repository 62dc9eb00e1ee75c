// Event specifications of the file family. Mirror of bpf/events/file.h.
import type { EventSpec } from "./types.ts";

export const fileEvents: EventSpec[] = [];
