// `vigil-server events query`: prints events from the embedded store (<data-dir>/events), one
// per line as JSON (the shape of `vigil-agent trace` plus agent_id and hostname) or text. Safe
// to run while the server writes: it only reads, up to the last complete entry of each segment.
import { parseArgs } from "node:util";
import { existsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseDuration } from "../../common/config.ts";
import { UsageError } from "../../common/errors.ts";
import { scanEvents, type EventQuery } from "./query.ts";
import { jsonLine, textLine } from "./event-format.ts";

export const DEFAULT_DATA_DIR = "/var/lib/vigil-server";
export const STORE_SUBDIR = "events";

export const EVENTS_QUERY_HELP = `Usage: vigil-server events query [options]

  --data-dir DIR     the server's data directory (default ${DEFAULT_DATA_DIR}); the store is DIR/${STORE_SUBDIR}
  --agent ID         only this agent
  --data-type N      only this data_type (59 = execve, 1000 = heartbeat, ...)
  --since DURATION   received within this long before now (30s, 15m, 2h, 7d)
  --limit N          at most N events (the oldest that match)
  --format FMT       json (one object per line, default) | text
`;

export interface EventsQueryArgs {
  storeDir: string;
  query: EventQuery;
  format: "json" | "text";
}

function wholeNumber(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag} must be a whole number ≥ ${min}, not "${v}"`);
  return Number(v);
}

export function parseEventsQueryArgs(argv: string[], now = Date.now()): EventsQueryArgs | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        agent: { type: "string" },
        "data-type": { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return "help";
  const format = values.format ?? "json";
  if (format !== "json" && format !== "text") throw new UsageError(`--format must be json or text, not "${format}"`);
  if (values.agent === "") throw new UsageError("--agent needs an agent id");
  let sinceMs: number | undefined;
  if (values.since !== undefined) {
    try {
      sinceMs = now - parseDuration(values.since);
    } catch (e) {
      throw new UsageError(`--since: ${(e as Error).message}`);
    }
  }
  const dataDir = values["data-dir"] ?? DEFAULT_DATA_DIR;
  return {
    storeDir: join(dataDir, STORE_SUBDIR),
    format,
    query: { agentId: values.agent, dataType: wholeNumber("--data-type", values["data-type"], 0), sinceMs, limit: wholeNumber("--limit", values.limit, 1) },
  };
}

function writeOut(s: string): void {
  const b = Buffer.from(s);
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      throw e;
    }
  }
}

/** Runs the sub-command with the arguments after "events query"; returns the exit code. */
export async function runEventsQuery(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseEventsQueryArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vigil-server events query: ${e.message}\nRun "vigil-server events query --help" for the options.\n`);
      return 2;
    }
    throw e;
  }
  if (args === "help") {
    process.stdout.write(EVENTS_QUERY_HELP);
    return 0;
  }
  if (!existsSync(args.storeDir)) {
    process.stderr.write(`vigil-server events query: no event store at ${args.storeDir} (is --data-dir right?)\n`);
    return 1;
  }
  const line = args.format === "json" ? jsonLine : textLine;
  let out = "";
  let n = 0;
  const stats = scanEvents(args.storeDir, args.query, (e) => {
    out += line(e) + "\n";
    n++;
    if (out.length > 1 << 16) {
      writeOut(out);
      out = "";
    }
  });
  if (out) writeOut(out);
  if (stats.corrupt > 0) process.stderr.write(`vigil-server events query: skipped ${stats.corrupt} undecodable entries or records\n`);
  return 0;
}
