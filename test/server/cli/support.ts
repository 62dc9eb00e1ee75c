// Helpers for vigil-server CLI tests: run the server from source as a real process, wait for
// its "vigil-server ready" log line (JSON logs) and read the ports it chose.
import { createServer } from "node:net";
import { join } from "node:path";
import { bun, root } from "../../harness.ts";

export const serverMain = join(root, "src/server/main.ts");

export interface RunningServer {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  ready: Record<string, any>;
  /** every stderr line so far */
  lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Servers still running when the test process exits (a test that failed before its stop()) are killed. */
const running = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => { for (const p of running) p.kill("SIGKILL"); });

/** Start `vigil-server ARGS`; resolves once it logs ready, rejects if it exits first. */
export async function startServer(args: string[], env: Record<string, string> = {}, ms = 30_000): Promise<RunningServer> {
  const proc = Bun.spawn([bun, serverMain, ...args], { env: { ...process.env, VIGIL_LOG_FORMAT: "json", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  const lines: string[] = [];
  const reader = proc.stderr.getReader();
  let buf = "";
  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vigil-server not ready after ${ms} ms:\n${lines.join("\n")}`)), ms);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          lines.push(line);
          try {
            const o = JSON.parse(line);
            if (o.msg === "vigil-server ready") { clearTimeout(timer); resolve(o); }
          } catch {}
        }
      }
      clearTimeout(timer);
      reject(new Error(`vigil-server exited (${await proc.exited}) before ready:\n${lines.join("\n")}`));
    })();
  });
  return {
    proc, ready, lines,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** Run `vigil-server ARGS` to completion. */
export async function runServerCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([bun, serverMain, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function listening(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}
