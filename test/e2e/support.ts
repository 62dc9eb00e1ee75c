// End-to-end helpers: run the built binaries (dist/vigil-server, dist/vigil-agent) as real
// processes on loopback, wait for them, read the store back with `vigil-server events query`.
import { createServer } from "node:net";
import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { root } from "../harness.ts";

export const serverBinary = join(root, "dist/vigil-server");
export const agentBinary = join(root, "dist/vigil-agent");
export const haveBinaries = existsSync(serverBinary) && existsSync(agentBinary);

/** A free TCP port on host (bound once, then released). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Proc {
  proc: ReturnType<typeof Bun.spawn>;
  /** everything written to stderr and stdout so far */
  output(): string;
  kill(signal?: NodeJS.Signals | number): Promise<number>;
}

/** Spawn a binary, capturing its output (shown when a test fails). */
export function spawn(cmd: string[], env: Record<string, string> = {}): Proc {
  const chunks: string[] = [];
  const proc = Bun.spawn(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const c of s) chunks.push(dec.decode(c));
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return {
    proc,
    output: () => chunks.join(""),
    async kill(signal: NodeJS.Signals | number = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return await proc.exited;
    },
  };
}

/** Poll url until it answers 200 (a correctness wait with a generous deadline). */
export async function waitHttp(url: string, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return true;
    } catch {}
    await Bun.sleep(100);
  }
  return false;
}

export interface QueriedEvent {
  data_type: number;
  event: string;
  timestamp: number;
  agent_id: string;
  hostname: string;
  fields: Record<string, string>;
}

/** `vigil-server events query --format json` over a data dir. */
export function queryEvents(dataDir: string, args: string[] = []): QueriedEvent[] {
  const r = Bun.spawnSync([serverBinary, "events", "query", "--data-dir", dataDir, "--format", "json", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`events query failed (${r.exitCode}): ${r.stderr.toString()}`);
  return r.stdout.toString().split("\n").filter(Boolean).map((l) => JSON.parse(l) as QueriedEvent);
}

export function secretOf(certsDir: string): string {
  return readFileSync(join(certsDir, "internal.secret"), "utf8").trim();
}
