// `vigil-agent run` settings: /etc/vigil/agent.yaml < VIGIL_* environment < flags, validated by
// one zod schema. Every bad value stops start-up with a ConfigError naming the setting, before
// the spool is opened or any hook attached.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { loadConfig, zBytes, zDuration, type SettingSource } from "../../common/config.ts";
import { ConfigError, UsageError } from "../../common/errors.ts";
import { parseEventSelection, EventSelectionError } from "../collector/catalog.ts";
import type { EventSpec } from "../collector/events/types.ts";

export const DEFAULT_CONFIG_FILE = "/etc/vigil/agent.yaml";
export const MIN_SPOOL_BYTES = 256 << 10;

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected HOST:PORT (or [IPv6]:PORT)")
  .refine((s) => { const p = Number(s.slice(s.lastIndexOf(":") + 1)); return p >= 1 && p <= 65535; }, "port must be 1-65535");
const sdUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "expected an http:// or https:// URL");

export const AgentConfigSchema = z.object({
  sd: z.array(sdUrl).default([]),
  ac: z.array(hostPort).default([]),
  certs: z.string().min(1).default("/etc/vigil/certs"),
  data_dir: z.string().min(1).default("/var/lib/vigil-agent"),
  /** an event selection as `vigil-agent trace --events` takes it, or "none" (no collector) */
  events: z.string().min(1).default("default"),
  agent_id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "expected 1-128 letters, digits or . _ : -").optional(),
  spool_size: zBytes.refine((n) => n >= MIN_SPOOL_BYTES, `must be at least ${MIN_SPOOL_BYTES} bytes (256KiB)`).default(256 << 20),
  heartbeat_interval: zDuration.refine((n) => n >= 100, "must be at least 100ms").default(60_000),
  batch_interval: zDuration.refine((n) => n >= 1 && n <= 10_000, "must be between 1ms and 10s").default(100),
  tls_server_name: z.string().min(1).optional(),
  ring_size: zBytes.refine((n) => n >= 4096 && (n & (n - 1)) === 0, "must be a power of two ≥ 4096").default(4 << 20),
  window: z.number().int().min(1).max(4096).default(64),
  reconnect_min: zDuration.refine((n) => n >= 1, "must be positive").default(1000),
  reconnect_max: zDuration.refine((n) => n >= 1, "must be positive").default(60_000),
}).strict();

export type AgentConfig = z.output<typeof AgentConfigSchema> & { eventSpecs: EventSpec[] | null };

const SOURCES: SettingSource[] = [
  { path: "sd", env: "VIGIL_SD", flag: "sd", kind: "list" },
  { path: "ac", env: "VIGIL_AC", flag: "ac", kind: "list" },
  { path: "certs", env: "VIGIL_CERTS", flag: "certs", kind: "string" },
  { path: "data_dir", env: "VIGIL_DATA_DIR", flag: "data-dir", kind: "string" },
  { path: "events", env: "VIGIL_EVENTS", flag: "events", kind: "string" },
  { path: "agent_id", env: "VIGIL_AGENT_ID", flag: "agent-id", kind: "string" },
  { path: "spool_size", env: "VIGIL_SPOOL_SIZE", flag: "spool-size", kind: "bytes" },
  { path: "heartbeat_interval", env: "VIGIL_HEARTBEAT_INTERVAL", flag: "heartbeat-interval", kind: "duration" },
  { path: "batch_interval", env: "VIGIL_BATCH_INTERVAL", kind: "duration" },
  { path: "tls_server_name", env: "VIGIL_TLS_SERVER_NAME", flag: "tls-server-name", kind: "string" },
  { path: "ring_size", env: "VIGIL_RING_SIZE", flag: "ring-size", kind: "bytes" },
  { path: "window", env: "VIGIL_WINDOW", kind: "int" },
  { path: "reconnect_min", env: "VIGIL_RECONNECT_MIN", kind: "duration" },
  { path: "reconnect_max", env: "VIGIL_RECONNECT_MAX", kind: "duration" },
];

export const RUN_HELP = `Usage: vigil-agent run [options]

Run the agent daemon: collect kernel events and host facts and stream them to an AC over
mutual-TLS gRPC, through an on-disk spool that keeps every batch until the AC has stored it.
Settings come from the config file, then VIGIL_* environment variables, then these flags.

Options:
  --config FILE            YAML settings (default ${DEFAULT_CONFIG_FILE}, if it exists)
  --sd URL[,URL]           service discovery (asks for hids_svr_grpc, least-loaded first)
  --ac HOST:PORT[,...]     AC addresses to use when SD does not answer (private first)
  --certs DIR              ca.crt, agent.crt, agent.key (default /etc/vigil/certs)
  --data-dir DIR           spool, agent id, metadata (default /var/lib/vigil-agent)
  --events LIST            as for "vigil-agent trace", or "none" (default: default)
  --agent-id ID            override the machine-derived agent id
  --spool-size BYTES       on-disk spool limit, e.g. 512MiB (default 256MiB); beyond it the
                           oldest batches are dropped and counted
  --heartbeat-interval D   e.g. 60s (default 60s)
  --tls-server-name NAME   the name in the AC's certificate, when it differs from the address
  --ring-size BYTES        BPF ring buffer size, a power of two (default 4MiB)
  -h, --help               this text

YAML keys: the flag names with "_" (data_dir, spool_size...), plus batch_interval, window,
reconnect_min, reconnect_max. Environment: VIGIL_SD, VIGIL_AC, VIGIL_CERTS, VIGIL_DATA_DIR...

Exit codes: 0 stopped by SIGTERM/SIGINT; 1 start-up failure; 2 bad settings;
75 restart requested by the AC (task 1060): the systemd unit restarts the agent
(Restart=always, or RestartForceExitStatus=75).
`;

/** Parse argv and settings. Returns "help" for --help. Throws UsageError or ConfigError. */
export function parseRunConfig(argv: string[], env: Record<string, string | undefined> = process.env): AgentConfig | "help" {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        config: { type: "string" }, sd: { type: "string" }, ac: { type: "string" }, certs: { type: "string" },
        "data-dir": { type: "string" }, events: { type: "string" }, "agent-id": { type: "string" },
        "spool-size": { type: "string" }, "heartbeat-interval": { type: "string" },
        "tls-server-name": { type: "string" }, "ring-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (flags.help) return "help";
  const file = flags.config ?? env.VIGIL_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const cfg = loadConfig(AgentConfigSchema, { file, env, flags: flags as Record<string, string | undefined>, sources: SOURCES });
  if (cfg.sd.length === 0 && cfg.ac.length === 0) throw new ConfigError("sd / ac", "give --sd URL or --ac HOST:PORT (or sd:/ac: in the config file): the agent needs a server");
  if (cfg.reconnect_max < cfg.reconnect_min) throw new ConfigError("reconnect_max", "must not be smaller than reconnect_min");
  let eventSpecs: EventSpec[] | null = null;
  if (cfg.events !== "none") {
    try {
      eventSpecs = parseEventSelection(cfg.events);
    } catch (e) {
      if (e instanceof EventSelectionError) throw new ConfigError("events", e.message);
      throw e;
    }
  }
  return { ...cfg, eventSpecs };
}
