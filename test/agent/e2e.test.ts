// End to end with real parts: the daemon's collector (real BPF exec events of this kernel) →
// spool → mutual TLS → the real AC (src/server/ac) → the embedded event store; the events are
// read back with the agent's id, Elkeid's fields and ts_ns. Also the standalone trace mode.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startDaemon } from "../../src/agent/daemon/index.ts";
import { startAc } from "../../src/server/ac/index.ts";
import { openEventStore } from "../../src/server/store/index.ts";
import { loadCerts } from "../../src/common/tls.ts";
import { createLogger } from "../../src/common/log.ts";
import { DataType } from "../../src/common/wire.ts";
import { canLoadBpf, tempDir, bpfObjectBytes, run, root, bun } from "../harness.ts";
import { captureLog, makeCerts, testConfig } from "./support/agent-env.ts";

const quiet = createLogger({ component: "test-ac", level: "error" });

describe.skipIf(!canLoadBpf)("daemon end to end (needs root, BTF, build/bpf/vigil.bpf.o)", () => {
  test("real exec events reach the real AC's store with the agent id, fields and ts_ns", async () => {
    using d = tempDir("vigil-agent-e2e-");
    const certs = await makeCerts(d.path);
    const store = await openEventStore({ dir: join(d.path, "events"), retentionMs: 86_400_000, maxBytes: 1 << 30, log: quiet });
    const ac = await startAc({ listen: "127.0.0.1", grpcPort: 0, httpPort: 0, certs: loadCerts(certs, "server"), secret: "e2e-secret-0123456789", sink: store, log: quiet });
    const cap = captureLog();
    const agentIdOverride = `e2e-${process.pid}`;
    const dm = startDaemon({
      config: testConfig({ certs, dataDir: join(d.path, "agent"), ac: [`127.0.0.1:${ac.grpcPort}`], events: "execve", agent_id: agentIdOverride, heartbeat_interval: "1s" }),
      version: "e2e", log: cap.log, bpfObject: bpfObjectBytes(),
    });
    try {
      expect(dm.events).toBeDefined();
      const marker = `vigil-e2e-${Date.now()}`;
      const before = Date.now() * 1e6;
      const r = await run(["/bin/sh", "-c", `exec /bin/echo ${marker}`]);
      expect(r.code).toBe(0);
      const found = async () => (await store.query({ agentId: agentIdOverride, dataType: 59 })).find((e) => e.fields.argv === `/bin/echo ${marker}`);
      let ev: Awaited<ReturnType<typeof found>>;
      const end = Date.now() + 30_000;
      while (!(ev = await found()) && Date.now() < end) await Bun.sleep(100);
      expect(ev).toBeDefined();
      expect(ev!.agent_id).toBe(agentIdOverride);
      expect(ev!.fields.exe).toBe("/usr/bin/echo");
      expect(ev!.fields.argv).toBe(`/bin/echo ${marker}`);
      expect(Number(ev!.fields.ts_ns)).toBeGreaterThanOrEqual(before - 1e9);
      expect(ev!.fields.pid_tree).toContain("echo");
      expect(ev!.fields.username).toBe("root");
      // the heartbeat names the hook mode and counts the events
      dm.heartbeat();
      const counted = async () => (await store.query({ agentId: agentIdOverride, dataType: DataType.AgentHeartbeat })).find((h) => Number(h.fields.events_total) > 0);
      let hb: Awaited<ReturnType<typeof counted>>;
      const end2 = Date.now() + 30_000;
      while (!(hb = await counted()) && Date.now() < end2) await Bun.sleep(100);
      expect(hb).toBeDefined();
      expect(hb!.fields.hook_mode.length).toBeGreaterThan(0);
      expect(JSON.parse(hb!.fields.events)["59"]).toBeGreaterThan(0);
      expect(dm.spool.depth).toBeLessThanOrEqual(2);
    } finally {
      await dm.stop();
      await ac.stop();
      await store.close();
    }
  }, 120_000);
});

describe.skipIf(!canLoadBpf)("standalone trace mode still works", () => {
  test("vigil-agent trace --duration prints exec events as JSON lines", async () => {
    const p = Bun.spawn([bun, join(root, "src/agent/main.ts"), "trace", "--events", "execve", "--duration", "5"], { stdout: "pipe", stderr: "pipe" });
    const reader = p.stderr.getReader();
    let err = "";
    while (!err.includes("programs attached")) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
    }
    expect(err).toContain("programs attached");
    await run(["/bin/true", "vigil-trace-check"]);
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out.split("\n").some((l) => l.includes("vigil-trace-check") && l.includes('"data_type":59'))).toBe(true);
  }, 60_000);
});
