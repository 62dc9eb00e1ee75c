// `vigil-agent trace`: print kernel events without a server, one per line (JSON or text), and a
// per-type summary of events and drops on exit. Kellect's standalone mode, with Elkeid's names.
import { parseArgs } from "node:util";
import { writeSync, closeSync } from "node:fs";
import { EVENTS, FAMILIES, inDefault, parseEventSelection, EventSelectionError } from "./collector/catalog.ts";
import { Collector } from "./collector/index.ts";
import { Decoder } from "./collector/decode.ts";
import { bootToUnixOffsetNs } from "./collector/libbpf.ts";
import { checkRoot, checkBtf, ensureTracefs, openOutput, PreflightError } from "./collector/preflight.ts";
import { UserFilter } from "./collector/filters.ts";
import { Enricher } from "./collector/enrich/index.ts";
import type { EventSpec } from "./collector/events/types.ts";

export function traceHelp(): string {
  const rows = [...EVENTS].sort((a, b) => a.dt - b.dt)
    .map((e) => `  ${String(e.dt).padStart(4)}  ${e.name.padEnd(14)} ${e.family.padEnd(8)} ${inDefault(e) ? "on " : "off"}  ${e.summary}` +
      (e.defaultOn && !inDefault(e) && e.defaultWhenNote ? `; ${e.defaultWhenNote}` : ""));
  return `Usage: vigil-agent trace [options]

Print kernel events as they happen, without a server. Runs as root; stops on SIGINT, SIGTERM
or after --duration, then prints events and drops per type to stderr.

Options:
  --events LIST      all | default | a family (${FAMILIES.join(", ")}) | event names,
                     comma-separated; "-name" removes one (default: "default")
  --format FMT       json (one object per line) | text | null (decode every event fully,
                     print nothing: for benchmarks) (default: json)
  --output FILE      write events to FILE instead of standard output
  --duration SECS    stop after SECS seconds
  --ring-size BYTES  ring buffer size, a power of two (default: 4194304; its pages count
                     twice in RSS, so raise it only for hosts with bursts above ~100k/s)
  --allow-exe PATH   never report events of this executable (in kernel; repeatable)
  --allow-path PFX   drop file events whose path starts with PFX (repeatable)
  --allow-argv PFX   drop exec events whose argv starts with PFX (repeatable)
  --rate-limit N     at most N events per second per executable (in kernel; 0 = off)
  --no-enrich        skip user-space enrichment (exe, username, pid_tree, hashes)
  -h, --help         this text

JSON lines: {"data_type": 59, "event": "execve", "timestamp": <unix ns>, "fields": {...}}

Events (data_type, name, family, default, what):
${rows.join("\n")}
`;
}

export class UsageError extends Error {}

interface TraceArgs {
  events: EventSpec[];
  format: "json" | "text" | "null";
  output?: string;
  duration?: number;
  ringSize: number;
  allowExe: string[];
  allowPath: string[];
  allowArgv: string[];
  rateLimit: number;
  enrich: boolean;
}

export function parseTraceArgs(argv: string[]): TraceArgs | "help" {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        events: { type: "string", default: "default" },
        format: { type: "string", default: "json" },
        output: { type: "string" },
        duration: { type: "string" },
        "ring-size": { type: "string", default: String(4 << 20) },
        "allow-exe": { type: "string", multiple: true, default: [] },
        "allow-path": { type: "string", multiple: true, default: [] },
        "allow-argv": { type: "string", multiple: true, default: [] },
        "rate-limit": { type: "string", default: "0" },
        "no-enrich": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) return "help";
  let events: EventSpec[];
  try {
    events = parseEventSelection(v.events!);
  } catch (e) {
    if (e instanceof EventSelectionError) throw new UsageError(e.message);
    throw e;
  }
  if (v.format !== "json" && v.format !== "text" && v.format !== "null") {
    throw new UsageError(`--format must be json, text or null, not "${v.format}"`);
  }
  const num = (name: string, s: string | undefined, min: number): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, not "${s}"`);
    return n;
  };
  const ringSize = num("ring-size", v["ring-size"], 4096)!;
  if ((ringSize & (ringSize - 1)) !== 0) throw new UsageError(`--ring-size must be a power of two, not ${ringSize}`);
  return {
    events,
    format: v.format,
    output: v.output,
    duration: num("duration", v.duration, 0),
    ringSize,
    allowExe: v["allow-exe"] as string[],
    allowPath: v["allow-path"] as string[],
    allowArgv: v["allow-argv"] as string[],
    rateLimit: num("rate-limit", v["rate-limit"], 0)!,
    enrich: !v["no-enrich"],
  };
}

function textLine(ts: bigint, spec: EventSpec, f: Record<string, string>): string {
  const t = new Date(Number(ts / 1_000_000n)).toISOString();
  const kv = Object.entries(f).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${/[\s"]/.test(v) ? JSON.stringify(v) : v}`);
  return `${t} ${spec.name}(${spec.dt}) ${kv.join(" ")}`;
}

export async function runTrace(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseTraceArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vigil-agent trace: ${e.message}\nRun "vigil-agent trace --help" for the list of events.\n`);
      return 2;
    }
    throw e;
  }
  if (args === "help") {
    process.stdout.write(traceHelp());
    return 0;
  }
  let outFd = 1;
  try {
    checkRoot();
    checkBtf();
    ensureTracefs();
    if (args.output) outFd = openOutput(args.output);
  } catch (e) {
    if (e instanceof PreflightError) {
      process.stderr.write(`vigil-agent trace: ${e.message}\n`);
      return 1;
    }
    throw e;
  }

  const enricher = args.enrich ? new Enricher() : undefined;
  const decoder = new Decoder({ bootToUnixNs: bootToUnixOffsetNs(), enricher });
  const filter = new UserFilter({ paths: args.allowPath, argv: args.allowArgv });
  let filtered = 0;
  const wanted = new Set(args.events.map((e) => e.dt));
  const collector = new Collector({
    events: args.events,
    ringSize: args.ringSize,
    agentTgid: process.pid,
    rateLimitPerSec: args.rateLimit,
    exeAllow: args.allowExe,
    onBatch: (buf) => {
      let out = "";
      decoder.forEach(buf, (rec, spec) => {
        if (!wanted.has(spec.dt)) return; // the canary, unless asked for
        const fields = decoder.fields(rec, spec);
        if (filter.drop(spec, fields)) {
          filtered++;
          return;
        }
        const ts = decoder.timestamp(rec);
        if (args.format === "null") return;
        out += args.format === "json"
          ? `{"data_type":${spec.dt},"event":"${spec.name}","timestamp":${ts},"fields":${JSON.stringify(fields)}}\n`
          : textLine(ts, spec, fields) + "\n";
      });
      if (out) writeAll(outFd, out);
    },
    onError: (m) => process.stderr.write(`vigil-agent trace: ring reader: ${m}\n`),
  });
  try {
    collector.start();
  } catch (e) {
    process.stderr.write(`vigil-agent trace: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`vigil-agent trace: ${collector.bpf.attached.length} programs attached, ${args.events.length} events; Ctrl-C to stop\n`);
  // A developer's profile of the decode path: `bun --cpu-prof` cannot be used (its sampling
  // signals make the verifier's long BPF_PROG_LOAD fail with EAGAIN), so JSC's sampling
  // profiler starts once everything is attached; it writes its report at exit.
  if (process.env.VIGIL_JSC_PROFILE_DIR) require("bun:jsc").startSamplingProfiler(process.env.VIGIL_JSC_PROFILE_DIR, 200);

  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    if (args.duration !== undefined) setTimeout(done, args.duration * 1000);
  });
  await collector.drain();
  if (outFd !== 1) closeSync(outFd);
  process.stderr.write(summary(args.events, decoder.stats.decoded, collector.drops(), collector.rateLimited(), filtered, decoder.stats));
  collector.close();
  return 0;
}

function writeAll(fd: number, s: string): void {
  const b = Buffer.from(s);
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

export function summary(
  events: EventSpec[], decoded: Map<number, number>, drops: Map<number, number>,
  limited: Map<number, number>, filtered: number, stats: { unknownType: number; malformed: number },
): string {
  const lines = ["", "event            dt      events     drops   limited"];
  let te = 0, td = 0;
  const seen = new Set<number>();
  for (const e of events) {
    if (seen.has(e.dt)) continue; // two names for one data_type (priv_esc, priv_esc_sweep)
    seen.add(e.dt);
    const n = decoded.get(e.dt) ?? 0, d = drops.get(e.dt) ?? 0, l = limited.get(e.dt) ?? 0;
    te += n; td += d;
    if (n || d || l) lines.push(`${e.name.padEnd(14)} ${String(e.dt).padStart(4)} ${String(n).padStart(11)} ${String(d).padStart(9)} ${String(l).padStart(9)}`);
  }
  lines.push(`${"total".padEnd(14)}      ${String(te).padStart(11)} ${String(td).padStart(9)}`);
  lines.push(`filtered in user space: ${filtered}; unknown records: ${stats.unknownType}; malformed: ${stats.malformed}`);
  return lines.join("\n") + "\n";
}

