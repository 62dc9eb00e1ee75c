// The shipped binaries end to end: `vigil-server --role sd,ac` and `vigil-agent run --sd URL`
// (found through SD), real BPF exec events, read back with `vigil-server events query`.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { agentBinary, canLoadBpf, hasAgentBinary, root, run, tempDir, waitFor } from "../harness.ts";

const serverBinary = join(root, "dist/vigil-server");
const ready = canLoadBpf && hasAgentBinary && existsSync(serverBinary);
const port = () => 20_000 + Math.floor(Math.random() * 40_000);

describe.skipIf(!ready)("binaries (needs root, BPF, dist/vigil-agent and dist/vigil-server)", () => {
  test("agent → SD → AC → store, read back with events query", async () => {
    using d = tempDir("vigil-agent-bin-");
    const certs = join(d.path, "certs");
    expect((await run([serverBinary, "certs", "init", "--out", certs, "--server-hosts", "localhost,127.0.0.1"])).code).toBe(0);
    const sdPort = port(), acPort = port(), acHttp = port();
    const server = Bun.spawn([serverBinary, "--role", "sd,ac", "--data-dir", join(d.path, "server"), "--certs", certs, "--listen", "127.0.0.1",
      "--sd-port", String(sdPort), "--ac-port", String(acPort), "--ac-http-port", String(acHttp)], { stdout: "ignore", stderr: "pipe" });
    const agentId = `bin-${process.pid}`;
    let agent: ReturnType<typeof Bun.spawn> | undefined;
    try {
      agent = Bun.spawn([agentBinary, "run", "--sd", `http://127.0.0.1:${sdPort}`, "--certs", certs, "--data-dir", join(d.path, "agent"),
        "--events", "execve", "--agent-id", agentId], { stdout: "ignore", stderr: "pipe", env: { ...process.env, VIGIL_CONFIG: "" } });
      const marker = `vigil-bin-${Date.now()}`;
      const query = async () => {
        const r = await run([serverBinary, "events", "query", "--data-dir", join(d.path, "server"), "--agent", agentId, "--data-type", "59", "--format", "json"]);
        return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.fields?.argv === `/bin/echo ${marker}`);
      };
      let ev: any;
      const end = Date.now() + 60_000;
      while (!ev && Date.now() < end) {
        await run(["/bin/echo", marker]);
        ev = await query();
        if (!ev) await Bun.sleep(500);
      }
      expect(ev).toBeDefined();
      expect(ev.agent_id).toBe(agentId);
      expect(ev.data_type).toBe(59);
      expect(ev.fields.exe).toBe("/usr/bin/echo");
      expect(Number(ev.fields.ts_ns)).toBeGreaterThan(0);
      agent.kill("SIGTERM");
      expect(await agent.exited).toBe(0);
      const log = await new Response(agent.stderr as ReadableStream).text();
      expect(log).toContain("via=sd");
    } finally {
      agent?.kill("SIGKILL");
      server.kill("SIGTERM");
      await waitFor(() => server.exitCode !== null, 10_000);
      server.kill("SIGKILL");
    }
  }, 120_000);
});
