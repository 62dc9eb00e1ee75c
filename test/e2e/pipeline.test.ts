// End to end with real BPF events: vigil-agent run → AC over mTLS → embedded store, read back
// with `vigil-server events query`, with the right agent id and fields.
import { test, expect, describe, afterAll } from "bun:test";
import { join } from "node:path";
import { hostname } from "node:os";
import { canLoadBpf, tempDir, waitFor } from "../harness.ts";
import { haveBinaries, serverBinary, agentBinary, freePort, spawn, waitHttp, queryEvents, type Proc } from "./support.ts";

describe.skipIf(!canLoadBpf || !haveBinaries)("agent → AC → store", () => {
  const dir = tempDir("vigil-e2e-");
  const procs: Proc[] = [];
  afterAll(async () => {
    for (const p of procs.reverse()) await p.kill("SIGKILL");
    dir[Symbol.dispose]();
  });

  test("a real exec on this host is stored with the agent's id and Elkeid's fields", async () => {
    const [sd, ac, acHttp, mgr] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const data = join(dir.path, "server");
    const server = spawn([serverBinary, "--data-dir", data, "--listen", "127.0.0.1", "--sd-port", String(sd), "--ac-port", String(ac), "--ac-http-port", String(acHttp), "--manager-port", String(mgr)]);
    procs.push(server);
    expect(await waitHttp(`http://127.0.0.1:${acHttp}/ping`), server.output()).toBe(true);
    // the compiled server loaded its embedded native library (CRC-32C, snappy) from /$bunfs
    expect(await (await fetch(`http://127.0.0.1:${acHttp}/metrics`)).text(), server.output()).toContain("\nvigil_native_accel 1\n");

    const agentId = `e2e-${process.pid}-${Date.now()}`;
    const agent = spawn([agentBinary, "run", "--sd", `http://127.0.0.1:${sd}`, "--certs", join(data, "certs"), "--data-dir", join(dir.path, "agent"), "--agent-id", agentId]);
    procs.push(agent);

    // the agent's heartbeat names the host
    let hb: ReturnType<typeof queryEvents> = [];
    const gotHb = await waitFor(() => (hb = queryEvents(data, ["--agent", agentId, "--data-type", "1000"])).length > 0, 60_000, 250);
    expect(gotHb, `no heartbeat stored\n--- server\n${server.output()}\n--- agent\n${agent.output()}`).toBe(true);
    expect(hb[0].agent_id).toBe(agentId);
    expect(hb[0].hostname).toBe(hostname());
    expect(hb[0].fields.kernel_version.length).toBeGreaterThan(0);

    // a distinctive exec, run after the agent is attached
    const token = `vigil-e2e-${Math.random().toString(36).slice(2)}`;
    let child = 0;
    let hit: ReturnType<typeof queryEvents>[number] | undefined;
    const found = await waitFor(() => {
      const p = Bun.spawnSync(["/bin/true", token]);
      child = p.pid;
      hit = queryEvents(data, ["--agent", agentId, "--data-type", "59"]).find((e) => e.fields.argv?.includes(token));
      return hit !== undefined;
    }, 60_000, 500);
    expect(found, `exec not stored\n--- agent\n${agent.output()}`).toBe(true);
    expect(hit!.event).toBe("execve");
    expect(hit!.agent_id).toBe(agentId);
    expect(hit!.hostname).toBe(hostname());
    expect(hit!.fields.exe).toBe("/usr/bin/true");
    expect(hit!.fields.argv).toBe(`/bin/true ${token}`);
    expect(Number(hit!.fields.pid)).toBeGreaterThan(0);
    expect(hit!.fields.res).toBe("0");
    expect(hit!.timestamp).toBeGreaterThan(Date.now() * 1e6 - 120e9);
    expect(child).toBeGreaterThan(0);

    // text format works on the same store
    const r = Bun.spawnSync([serverBinary, "events", "query", "--data-dir", data, "--agent", agentId, "--data-type", "59", "--format", "text"], { stdout: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain(token);
  }, 180_000);
});
