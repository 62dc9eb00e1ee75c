// The event catalogue: every event kind the collector knows, by name and data_type, and the
// parser for `--events all|<families>|<names>`.
import type { EventSpec, Family } from "./events/types.ts";
import { fileEvents } from "./events/file.ts";
import { processEvents } from "./events/process.ts";
import { networkEvents } from "./events/network.ts";
import { userEvents } from "./events/user.ts";
import { vigilEvents } from "./events/vigil.ts";
import { memEvents } from "./events/mem.ts";

export const EVENTS: readonly EventSpec[] = [
  ...processEvents, ...memEvents, ...fileEvents, ...networkEvents, ...userEvents, ...vigilEvents,
];

/** Is the event in the "default" selection on this kernel? */
export function inDefault(e: EventSpec): boolean {
  return e.defaultOn && (e.defaultWhen?.() ?? true);
}

export const BY_NAME = new Map(EVENTS.map((e) => [e.name, e]));
export const BY_DT = new Map(EVENTS.map((e) => [e.dt, e]));
export const FAMILIES: readonly Family[] = ["process", "file", "network", "user", "vigil"];

export class EventSelectionError extends Error {}

/**
 * Parse a comma-separated selection: "all", "default", family names, event names, and
 * "-name" to remove one. Returns the selected specs (sorted by data_type).
 */
export function parseEventSelection(spec: string): EventSpec[] {
  const chosen = new Set<EventSpec>();
  const tokens = spec.split(",").map((t) => t.trim()).filter(Boolean);
  if (tokens.length === 0) throw new EventSelectionError("--events is empty");
  for (const raw of tokens) {
    const remove = raw.startsWith("-");
    const t = remove ? raw.slice(1) : raw;
    let group: EventSpec[];
    if (t === "all") group = [...EVENTS];
    else if (t === "default") group = EVENTS.filter(inDefault);
    else if ((FAMILIES as string[]).includes(t)) group = EVENTS.filter((e) => e.family === t);
    else if (BY_NAME.has(t)) group = [BY_NAME.get(t)!];
    else {
      throw new EventSelectionError(
        `unknown event "${t}". Valid: all, default, ${FAMILIES.join(", ")}, ` +
          [...BY_NAME.keys()].sort().join(", "),
      );
    }
    for (const e of group) remove ? chosen.delete(e) : chosen.add(e);
  }
  return [...chosen].sort((a, b) => a.dt - b.dt);
}

/** Programs to attach for a selection; the canary is always loaded. */
export function programsFor(selected: readonly EventSpec[]): Set<string> {
  const progs = new Set<string>(["vigil_canary"]);
  for (const e of selected) for (const p of e.programs) progs.add(p);
  return progs;
}
