// Delivery guarantees end to end: a steady stream of canary events (each carries a sequence
// number), the AC SIGKILLed in the middle and restarted, and then again with two ACs behind
// one SD where one dies for good: every record the agent produced is in the store(s) at least
// once, none missing.
import { test, expect, describe, afterEach } from "bun:test";
import { join } from "node:path";
import { canLoadBpf, tempDir, waitFor } from "../harness.ts";
import { libc } from "../../src/agent/collector/libbpf.ts";
import { CANARY_WHENCE } from "../../src/agent/collector/layouts.ts";
import { haveBinaries, serverBinary, agentBinary, freePort, spawn, waitHttp, queryEvents, type Proc } from "./support.ts";

/** Canary events with seq base..base+n-1, `perTick` every 20 ms, from this process (not the agent). */
async function canaryStream(base: bigint, n: number, perTick: number, onProgress?: (sent: number) => Promise<void> | void): Promise<void> {
  for (let i = 0; i < n; ) {
    for (let k = 0; k < perTick && i < n; k++, i++) libc().lseek(-1, base + BigInt(i), CANARY_WHENCE);
    await onProgress?.(i);
    await Bun.sleep(20);
  }
}

function missing(dataDirs: string[], agentId: string, base: bigint, n: number): number[] {
  const seen = new Set<string>();
  for (const d of dataDirs) for (const e of queryEvents(d, ["--agent", agentId, "--data-type", "999"])) seen.add(e.fields.seq);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(String(base + BigInt(i)))) out.push(i);
  return out;
}

describe.skipIf(!canLoadBpf || !haveBinaries)("no loss", () => {
  let procs: Proc[] = [];
  afterEach(async () => {
    for (const p of procs.reverse()) await p.kill("SIGKILL");
    procs = [];
  });

  test("SIGKILL the AC in the middle of a steady stream, restart it: nothing missing", async () => {
    using dir = tempDir("vigil-noloss-");
    const [sd, ac, acHttp, mgr] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const data = join(dir.path, "server");
    const serverCmd = [serverBinary, "--data-dir", data, "--listen", "127.0.0.1", "--sd-port", String(sd), "--ac-port", String(ac), "--ac-http-port", String(acHttp), "--manager-port", String(mgr)];
    let server = spawn(serverCmd);
    procs.push(server);
    expect(await waitHttp(`http://127.0.0.1:${acHttp}/ping`), server.output()).toBe(true);
    const agentId = `noloss-${process.pid}`;
    const agent = spawn([agentBinary, "run", "--sd", `http://127.0.0.1:${sd}`, "--ac", `127.0.0.1:${ac}`, "--certs", join(data, "certs"), "--data-dir", join(dir.path, "agent"), "--agent-id", agentId]);
    procs.push(agent);
    // the agent is attached and connected once its heartbeat is stored
    expect(await waitFor(() => queryEvents(data, ["--agent", agentId, "--data-type", "1000"]).length > 0, 60_000, 250), agent.output()).toBe(true);

    const base = 0x7e57_0000_0000n + BigInt(process.pid) * 0x10000n;
    const N = 3000;
    let restart: Promise<boolean> | undefined;
    let sentWhileDown = 0;
    let down = false;
    await canaryStream(base, N, 30, (sent) => {
      if (down) sentWhileDown = sent;
      if (!restart && sent >= N / 3) {
        // not awaited: the stream goes on while the AC is down, those records wait in the spool
        restart = (async () => {
          down = true;
          await server.kill("SIGKILL");
          await Bun.sleep(1500);
          server = spawn(serverCmd);
          procs.push(server);
          const up = await waitHttp(`http://127.0.0.1:${acHttp}/ping`);
          down = false;
          return up;
        })();
      }
    });
    expect(restart).toBeDefined();
    expect(await restart!, server.output()).toBe(true);
    expect(sentWhileDown).toBeGreaterThan(N / 3); // records were produced while the AC was down
    let gone: number[] = [];
    const complete = await waitFor(() => (gone = missing([data], agentId, base, N)).length === 0, 90_000, 500);
    expect(complete, `${gone.length} of ${N} canary records missing, first ${gone.slice(0, 10)}\n--- agent\n${agent.output().slice(-4000)}`).toBe(true);
  }, 240_000);

  test("two ACs behind one SD: kill the one the agent uses, it moves to the other, nothing missing", async () => {
    using dir = tempDir("vigil-failover-");
    const certs = join(dir.path, "certs");
    const init = Bun.spawnSync([serverBinary, "certs", "init", "--out", certs, "--server-hosts", "localhost,127.0.0.1,127.0.0.2,127.0.0.3"], { stderr: "pipe" });
    expect(init.exitCode, init.stderr.toString()).toBe(0);
    const sdPort = await freePort();
    const sdUrl = `http://127.0.0.1:${sdPort}`;
    const sdProc = spawn([serverBinary, "--role", "sd", "--data-dir", join(dir.path, "sd"), "--certs", certs, "--listen", "127.0.0.1", "--sd-port", String(sdPort)]);
    procs.push(sdProc);
    expect(await waitHttp(`${sdUrl}/ping`), sdProc.output()).toBe(true);
    const acs: { ip: string; data: string; proc: Proc; http: number }[] = [];
    for (const ip of ["127.0.0.2", "127.0.0.3"]) {
      const [g, h] = [await freePort(ip), await freePort(ip)];
      const data = join(dir.path, `ac-${ip}`);
      const proc = spawn([serverBinary, "--role", "ac", "--data-dir", data, "--certs", certs, "--listen", ip, "--ac-port", String(g), "--ac-http-port", String(h), "--sd", sdUrl]);
      procs.push(proc);
      expect(await waitHttp(`http://${ip}:${h}/ping`), proc.output()).toBe(true);
      acs.push({ ip, data, proc, http: h });
    }
    // both ACs registered
    let registered = 0;
    for (const end = Date.now() + 30_000; Date.now() < end && registered < 2; await Bun.sleep(250)) {
      try { registered = ((await (await fetch(`${sdUrl}/registry/detail?name=hids_svr_grpc`)).json()) as { data?: unknown[] }).data?.length ?? 0; } catch {}
    }
    expect(registered, sdProc.output()).toBeGreaterThanOrEqual(2);

    const agentId = `failover-${process.pid}`;
    const agent = spawn([agentBinary, "run", "--sd", sdUrl, "--certs", certs, "--data-dir", join(dir.path, "agent"), "--agent-id", agentId]);
    procs.push(agent);
    const dirs = acs.map((a) => a.data);
    let first = -1;
    expect(await waitFor(() => (first = dirs.findIndex((d) => queryEvents(d, ["--agent", agentId, "--data-type", "1000"]).length > 0)) >= 0, 60_000, 250), agent.output()).toBe(true);

    const base = 0xfa11_0000_0000n + BigInt(process.pid) * 0x10000n;
    const N = 2000;
    let killed = false;
    await canaryStream(base, N, 30, async (sent) => {
      if (!killed && sent >= N / 3) {
        killed = true;
        await acs[first].proc.kill("SIGKILL");
      }
    });
    const other = dirs[1 - first];
    let gone: number[] = [];
    const complete = await waitFor(() => (gone = missing(dirs, agentId, base, N)).length === 0, 120_000, 500);
    expect(complete, `${gone.length} of ${N} missing after failover\n--- agent\n${agent.output().slice(-4000)}`).toBe(true);
    // the records after the kill went to the surviving AC
    expect(queryEvents(other, ["--agent", agentId, "--data-type", "999"]).length).toBeGreaterThan(0);
  }, 300_000);
});
