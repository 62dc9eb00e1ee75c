// Vigil's own events (the canary). Mirror of struct vigil_canary in bpf/events.h.
import type { EventSpec } from "./types.ts";
import { HDR } from "../layouts.ts";

export const vigilEvents: EventSpec[] = [
  {
    name: "canary", dt: 999, family: "vigil", struct: "vigil_canary", size: HDR.SIZE + 8,
    defaultOn: true, programs: ["vigil_canary"],
    fields: [{ name: "seq", off: HDR.SIZE, kind: "u64", size: 8 }],
    summary: "health probe: lseek(-1, seq, 4729)",
  },
];
