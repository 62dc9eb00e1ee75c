// vigil-server's settings: one zod schema (the YAML file's shape, snake_case), the environment
// variables (VIGIL_*) and flags that override it, in that order (flags last). Any bad value
// stops start-up with a ConfigError naming the setting and where it came from.
import { z } from "zod";
import { loadConfig, zBytes, zDuration, zPort, type SettingSource } from "../common/config.ts";
import { DefaultPort } from "../common/wire.ts";
import { DEFAULT_TTL_MS } from "./sd/registry.ts";
import { DEFAULT_DATA_DIR } from "./store/query-cli.ts";

export { DEFAULT_DATA_DIR };

export const ROLES = ["sd", "ac", "manager", "hub"] as const;
export type Role = (typeof ROLES)[number];
/** Roles this build can run; the others are announced and skipped. */
export const AVAILABLE_ROLES: readonly Role[] = ["sd", "ac", "manager"];

export const DEFAULT_RETENTION = "7d";
export const DEFAULT_STORE_MAX_BYTES = "10GiB";
export const DEFAULT_REGISTER_INTERVAL = "30s";

const host = z.string().min(1, "expected an address").regex(/^[A-Za-z0-9.:%_-]+$/, "expected an IP address or host name");

const url = z.string().transform((s, ctx) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    ctx.addIssue({ code: "custom", message: `"${s}" is not a URL (expected http://host:port)` });
    return z.NEVER;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: `"${s}": expected an http:// or https:// URL` });
    return z.NEVER;
  }
  return s.replace(/\/+$/, "");
});

const role = z.string().transform((r, ctx) => {
  if ((ROLES as readonly string[]).includes(r)) return r as Role;
  ctx.addIssue({ code: "custom", message: `unknown role "${r}" (expected ${ROLES.join(", ")})` });
  return z.NEVER;
});

export const ServerConfigSchema = z.strictObject({
  /** roles to run; absent = every role */
  roles: z.array(role).min(1, "expected at least one role").optional(),
  data_dir: z.string().min(1).default(DEFAULT_DATA_DIR),
  /** certificate directory; absent = <data_dir>/certs, created on first start */
  certs: z.string().min(1).optional(),
  /** secret of internal HTTP calls; absent = <certs>/internal.secret */
  internal_secret: z.string().min(16, "expected at least 16 characters").optional(),
  listen: host.default("0.0.0.0"),
  sd: z.strictObject({
    port: zPort.default(DefaultPort.sd),
    peers: z.array(url).default([]),
    ttl: zDuration.default(DEFAULT_TTL_MS),
  }).prefault({}),
  ac: z.strictObject({
    grpc_port: zPort.default(DefaultPort.acGrpc),
    http_port: zPort.default(DefaultPort.acHttp),
    /** SD URLs to register with; absent = the local SD when it runs in this process */
    sd: z.array(url).optional(),
    /** the address registered with SD (default: listen, or 127.0.0.1 for a wildcard) */
    advertise_host: host.optional(),
    register_interval: zDuration.prefault(DEFAULT_REGISTER_INTERVAL),
    /** Manager URLs the AC forwards heartbeats and task results to when no Manager runs in this process */
    manager_urls: z.array(url).optional(),
  }).prefault({}),
  manager: z.strictObject({
    port: zPort.default(DefaultPort.manager),
    /** the first start's admin password (else VIGIL_ADMIN_PASSWORD, else generated and logged once) */
    admin_password: z.string().min(8, "expected at least 8 characters").optional(),
    /** a host without a heartbeat for this long is offline */
    offline_after: zDuration.prefault("3m"),
    /** login tokens expire after this long */
    token_ttl: zDuration.prefault("12h"),
    /** the URL agents download components from (default http://<listen or 127.0.0.1>:<port>) */
    public_url: url.optional(),
    component_max_bytes: zBytes.prefault("256MiB"),
  }).prefault({}),
  database: z.strictObject({
    /** absent or sqlite:<path>: SQLite under data_dir; postgres://…: PostgreSQL */
    url: z.string().min(1).regex(/^(sqlite:|postgres(ql)?:\/\/)/, "expected sqlite:<path> or postgres://user:pass@host:port/db").optional(),
  }).prefault({}),
  store: z.strictObject({
    retention: zDuration.prefault(DEFAULT_RETENTION),
    max_bytes: zBytes.prefault(DEFAULT_STORE_MAX_BYTES),
  }).prefault({}),
});
export type ServerConfig = z.output<typeof ServerConfigSchema>;

/** Every setting that an environment variable or a flag can set. Flags are kebab-case. */
export const SERVER_SOURCES: SettingSource[] = [
  { path: "roles", env: "VIGIL_ROLE", flag: "role", kind: "list" },
  { path: "data_dir", env: "VIGIL_DATA_DIR", flag: "data-dir", kind: "string" },
  { path: "certs", env: "VIGIL_CERTS", flag: "certs", kind: "string" },
  { path: "internal_secret", env: "VIGIL_INTERNAL_SECRET", kind: "string" },
  { path: "listen", env: "VIGIL_LISTEN", flag: "listen", kind: "string" },
  { path: "sd.port", env: "VIGIL_SD_PORT", flag: "sd-port", kind: "int" },
  { path: "sd.peers", env: "VIGIL_SD_PEERS", flag: "sd-peers", kind: "list" },
  { path: "sd.ttl", env: "VIGIL_SD_TTL", flag: "sd-ttl", kind: "duration" },
  { path: "ac.grpc_port", env: "VIGIL_AC_PORT", flag: "ac-port", kind: "int" },
  { path: "ac.http_port", env: "VIGIL_AC_HTTP_PORT", flag: "ac-http-port", kind: "int" },
  { path: "ac.sd", env: "VIGIL_SD", flag: "sd", kind: "list" },
  { path: "ac.advertise_host", env: "VIGIL_ADVERTISE_HOST", flag: "advertise-host", kind: "string" },
  { path: "ac.register_interval", env: "VIGIL_REGISTER_INTERVAL", flag: "register-interval", kind: "duration" },
  { path: "ac.manager_urls", env: "VIGIL_MANAGER_URLS", flag: "manager-urls", kind: "list" },
  { path: "manager.port", env: "VIGIL_MANAGER_PORT", flag: "manager-port", kind: "int" },
  { path: "manager.admin_password", env: "VIGIL_ADMIN_PASSWORD", kind: "string" },
  { path: "manager.offline_after", env: "VIGIL_OFFLINE_AFTER", flag: "offline-after", kind: "duration" },
  { path: "manager.public_url", env: "VIGIL_PUBLIC_URL", flag: "public-url", kind: "string" },
  { path: "database.url", env: "VIGIL_DATABASE_URL", flag: "database-url", kind: "string" },
  { path: "store.retention", env: "VIGIL_RETENTION", flag: "retention", kind: "duration" },
  { path: "store.max_bytes", env: "VIGIL_STORE_MAX_BYTES", flag: "store-max-bytes", kind: "bytes" },
];

/** The flags of the run command (parseArgs options), derived from SERVER_SOURCES. */
export const RUN_FLAGS = Object.fromEntries([
  ...SERVER_SOURCES.filter((s) => s.flag).map((s) => [s.flag!, { type: "string" as const }]),
  ["config", { type: "string" as const }],
  ["help", { type: "boolean" as const, short: "h" }],
]) as Record<string, { type: "string" | "boolean"; short?: string }>;

/** YAML file < env < flags, validated. Throws ConfigError. */
export function loadServerConfig(o: { file?: string; env?: Record<string, string | undefined>; flags?: Record<string, string | boolean | undefined> }): ServerConfig {
  return loadConfig(ServerConfigSchema, { file: o.file, env: o.env ?? process.env, flags: o.flags, sources: SERVER_SOURCES });
}
