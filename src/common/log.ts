// Structured logging to stderr: one line per entry, text for people or JSON lines for machines
// (VIGIL_LOG_FORMAT=json). Level from VIGIL_LOG_LEVEL (debug, info, warn, error).

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  component: string;
  level?: Level;
  format?: "text" | "json";
  write?: (line: string) => void;
}

function envLevel(): Level {
  const v = process.env.VIGIL_LOG_LEVEL;
  return v === "debug" || v === "info" || v === "warn" || v === "error" ? v : "info";
}

function fmtValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w./:@-]*$/.test(v) && v !== "" ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? envLevel();
  const format = opts.format ?? (process.env.VIGIL_LOG_FORMAT === "json" ? "json" : "text");
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const min = ORDER[level];
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const ts = new Date().toISOString();
    if (format === "json") {
      const o: Record<string, unknown> = { ts, level: lvl, component: opts.component, msg };
      for (const [k, v] of Object.entries(fields ?? {})) o[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify(o) + "\n");
    } else {
      const kv = Object.entries(fields ?? {}).map(([k, v]) => `${k}=${fmtValue(v)}`).join(" ");
      write(`${ts} ${lvl.toUpperCase().padEnd(5)} [${opts.component}] ${msg}${kv ? " " + kv : ""}\n`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (c) => createLogger({ ...opts, level, format, write, component: `${opts.component}/${c}` }),
  };
}
