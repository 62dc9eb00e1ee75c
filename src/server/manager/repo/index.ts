// Opens the Manager's Repository from `database.url`: SQLite (the default, <dataDir>/manager.db, or
// "sqlite:<path>", relative paths under dataDir) or PostgreSQL (postgres:// or postgresql://), with
// the embedded migrations applied. Failures name `database.url` and never print a password.
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { Logger } from "../../../common/log.ts";
import { openPostgresRepository } from "./postgres.ts";
import { openSqliteRepository } from "./sqlite.ts";
import type { Repository } from "./types.ts";

export interface OpenRepositoryOptions {
  /** `database.url`; absent or "" means SQLite under dataDir */
  url?: string;
  dataDir: string;
  log: Logger;
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, "//$1:***@");
  }
}

function reason(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: unknown };
  const inner = err?.cause as { message?: string } | undefined;
  return [err?.code, inner?.message ?? err?.message ?? String(e)].filter(Boolean).join(": ");
}

export async function openRepository(o: OpenRepositoryOptions): Promise<Repository> {
  const url = (o.url ?? "").trim();
  if (url === "" || url.startsWith("sqlite:")) {
    const given = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (url !== "" && given === "") throw new Error(`database.url: "sqlite:" needs a file path, e.g. sqlite:manager.db`);
    const path = given === "" ? join(o.dataDir, "manager.db") : isAbsolute(given) ? given : join(o.dataDir, given);
    try {
      mkdirSync(dirname(path), { recursive: true });
      const repo = await openSqliteRepository(path);
      o.log.info("manager database opened", { dialect: "sqlite", path });
      return repo;
    } catch (e) {
      throw new Error(`database.url: cannot open the SQLite database ${path}: ${reason(e)}`);
    }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`database.url: ${redactUrl(url)} is not a valid URL`);
    }
    if (!parsed.hostname && !parsed.searchParams.get("host")) throw new Error(`database.url: ${redactUrl(url)} names no host`);
    try {
      const repo = await openPostgresRepository(url);
      o.log.info("manager database opened", { dialect: "postgres", url: redactUrl(url) });
      return repo;
    } catch (e) {
      throw new Error(`database.url: cannot use the PostgreSQL database ${redactUrl(url)}: ${reason(e)}`);
    }
  }
  throw new Error(`database.url: unsupported value ${JSON.stringify(redactUrl(url))}; expected postgres://…, postgresql://… or sqlite:<path>`);
}
