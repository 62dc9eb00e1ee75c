// Settings from a YAML file, then environment variables, then command-line flags (later
// wins), validated by a zod schema; any bad value stops start-up with a ConfigError naming the
// setting ("ac.grpc_port (flag --ac-port): expected a port 1-65535, got \"x\"").
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

/** Where a setting can also come from, besides its dotted path in the YAML file. */
export interface SettingSource {
  /** dotted path in the config object, e.g. "ac.grpc_port" */
  path: string;
  env?: string;
  /** the flag's name without dashes, as parseArgs returns it */
  flag?: string;
  /** how env/flag strings are turned into values */
  kind: "string" | "int" | "bool" | "list" | "duration" | "bytes";
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };
/** "250ms", "30s", "15m", "7d", or a plain number of seconds → milliseconds. */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(s);
  if (!m) throw new Error(`expected a duration like 30s, 15m, 7d, got "${s}"`);
  return Math.round(Number(m[1]) * UNITS_MS[m[2] ?? "s"]);
}

const UNITS_B: Record<string, number> = { "": 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };
/** "512MiB", "10GB", "4096" → bytes. */
export function parseBytes(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = m ? UNITS_B[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`expected a size like 512MiB or 10GB, got "${s}"`);
  return Math.round(Number(m[1]) * unit);
}

/** zod helpers for settings that accept a number or a string with a unit. (One transform, not
 * a union, so the unit parser's message reaches the ConfigError instead of "Invalid input".) */
export const zDuration = z.union([z.number(), z.string()], { message: "expected a duration like 30s, 15m, 7d" }).transform((v, ctx) => {
  if (typeof v === "number") {
    if (v >= 0) return v * 1000;
    ctx.addIssue({ code: "custom", message: `expected a duration ≥ 0, got ${v}` });
    return z.NEVER;
  }
  try { return parseDuration(v); } catch (e) { ctx.addIssue({ code: "custom", message: (e as Error).message }); return z.NEVER; }
});
export const zBytes = z.union([z.number(), z.string()], { message: "expected a size like 512MiB or 10GB" }).transform((v, ctx) => {
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 0) return v;
    ctx.addIssue({ code: "custom", message: `expected a whole number of bytes ≥ 0, got ${v}` });
    return z.NEVER;
  }
  try { return parseBytes(v); } catch (e) { ctx.addIssue({ code: "custom", message: (e as Error).message }); return z.NEVER; }
});
export const zPort = z.number({ message: "expected a port number" }).int().min(0).max(65535, "expected a port 0-65535");

function convert(src: SettingSource, raw: string | boolean | string[], origin: string): unknown {
  if (src.kind === "bool") {
    if (typeof raw === "boolean") return raw;
    if (/^(1|true|yes|on)$/i.test(String(raw))) return true;
    if (/^(0|false|no|off)$/i.test(String(raw))) return false;
    throw new ConfigError(`${src.path} (${origin})`, `expected true or false, got "${raw}"`);
  }
  if (src.kind === "list") return Array.isArray(raw) ? raw : String(raw).split(",").map((x) => x.trim()).filter(Boolean);
  const s = String(raw);
  if (src.kind === "int") {
    if (!/^-?\d+$/.test(s.trim())) throw new ConfigError(`${src.path} (${origin})`, `expected an integer, got "${s}"`);
    return Number(s);
  }
  return s; // string, duration and bytes are parsed by the schema
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

export interface LoadOptions {
  file?: string;
  env?: Record<string, string | undefined>;
  flags?: Record<string, string | boolean | string[] | undefined>;
  sources?: SettingSource[];
}

/** Read, merge and validate. Throws ConfigError for an unreadable file or any invalid setting. */
export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadOptions = {}): z.output<S> {
  let base: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (e) {
      throw new ConfigError("--config", `cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new ConfigError(opts.file, `not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    if (doc != null && (typeof doc !== "object" || Array.isArray(doc))) throw new ConfigError(opts.file, "the top level must be a mapping of settings");
    base = (doc ?? {}) as Record<string, unknown>;
  }
  const origins = new Map<string, string>();
  const env = opts.env ?? process.env;
  for (const src of opts.sources ?? []) {
    const ev = src.env ? env[src.env] : undefined;
    if (src.env && ev !== undefined && ev !== "") {
      setPath(base, src.path, convert(src, ev, `env ${src.env}`));
      origins.set(src.path, `env ${src.env}`);
    }
    const fv = src.flag ? opts.flags?.[src.flag] : undefined;
    if (src.flag && fv !== undefined) {
      setPath(base, src.path, convert(src, fv, `flag --${src.flag}`));
      origins.set(src.path, `flag --${src.flag}`);
    }
  }
  const r = schema.safeParse(base);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.join(".") || "(top level)";
    // an element of a list ("roles.1") came from wherever the list came from
    const from = [...origins.keys()].filter((k) => path === k || path.startsWith(k + ".")).sort((a, b) => b.length - a.length)[0];
    const origin = (from && origins.get(from)) ?? (opts.file ? `in ${opts.file}` : "default");
    let msg = issue.message;
    if (issue.code === "unrecognized_keys") msg = `unknown setting(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    throw new ConfigError(`${path} (${origin})`, msg);
  }
  return r.data;
}
