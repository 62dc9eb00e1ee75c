// A private PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp dir, listening
// on a free loopback port, run as an unprivileged user when we are root; stopped and removed by
// stop() (and at process exit, should a suite forget). Declares what it needs: hasPostgres.
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

function findBinDir(): string | undefined {
  const env = process.env.VIGIL_PG_BIN;
  if (env) return existsSync(join(env, "initdb")) ? env : undefined;
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  return versions.map((v) => join(base, v, "bin")).find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")));
}

export const pgBinDir = findBinDir();
export const hasPostgres = pgBinDir !== undefined;
export const noPostgresReason = "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; install Debian's postgresql package or set VIGIL_PG_BIN";

const isRoot = process.getuid?.() === 0;

/** uid/gid of the user the server runs as when we are root (postgres, else nobody). */
function serverUser(): { name: string; uid: number; gid: number } {
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((l) => l.split(":"));
  for (const name of ["postgres", "nobody"]) {
    const p = passwd.find((f) => f[0] === name);
    if (p) return { name, uid: Number(p[2]), gid: Number(p[3]) };
  }
  throw new Error("no unprivileged user (postgres or nobody) to run the test PostgreSQL server as");
}

function asServerUser(cmd: string[]): string[] {
  return isRoot ? ["runuser", "-u", serverUser().name, "--", ...cmd] : cmd;
}

function runSync(cmd: string[], what: string): void {
  const r = Bun.spawnSync(asServerUser(cmd), { stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${r.stdout.toString()}${r.stderr.toString()}`);
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface PgServer {
  port: number;
  /** superuser URL of the given database */
  url(db?: string): string;
  /** create an empty database and return its URL */
  createDatabase(name?: string): Promise<string>;
  stop(): void;
}

let dbSeq = 0;

export function startPostgres(): PgServer {
  if (!pgBinDir) throw new Error(noPostgresReason);
  const dir = mkdtempSync(join(tmpdir(), "vigil-pg-"));
  const data = join(dir, "data");
  let stopped = false;
  let started = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", stop);
    if (started) Bun.spawnSync(asServerUser([join(pgBinDir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]), { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  try {
    if (isRoot) {
      const u = serverUser();
      chownSync(dir, u.uid, u.gid);
    }
    runSync([join(pgBinDir, "initdb"), "-D", data, "-U", "vigil", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], "initdb");
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = freePort();
      const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
      try {
        runSync([join(pgBinDir, "pg_ctl"), "-D", data, "-l", join(dir, "server.log"), "-w", "-t", "30", "-o", opts, "start"], "pg_ctl start");
        started = true;
        break;
      } catch (e) {
        if (attempt >= 2) throw new Error(`${(e as Error).message}\n${existsSync(join(dir, "server.log")) ? readFileSync(join(dir, "server.log"), "utf8") : ""}`);
      }
    }
    const url = (db = "postgres") => `postgres://vigil@127.0.0.1:${port}/${db}`;
    return {
      port,
      url,
      stop,
      async createDatabase(name = `t${process.pid}_${++dbSeq}`) {
        const admin = postgres(url(), { max: 1, onnotice: () => {} });
        try {
          await admin.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
        } finally {
          await admin.end({ timeout: 5 });
        }
        return url(name);
      },
    };
  } catch (e) {
    stop();
    throw e;
  }
}
