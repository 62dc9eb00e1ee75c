// vigil-server as a real process: all-in-one (SD + AC + store, certificates created on first
// start), the AC registered with the local SD, records from simulated agents durable and read
// back with `events query`, settings precedence on a live port, and a clean stop on SIGTERM.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root, tempDir } from "../../harness.ts";
import { freePort, listening, runServerCli, startServer } from "./support.ts";

const agentSim = join(root, "build/agent-sim");
const loopback = ["--listen", "127.0.0.1"];

describe("vigil-server run", () => {
  test("all-in-one: creates certs, starts SD then AC, AC registers, records are durable, SIGTERM stops", async () => {
    using d = tempDir();
    const data = join(d.path, "data");
    const s = await startServer(["--data-dir", data, ...loopback, "--sd-port", "0", "--ac-port", "0", "--ac-http-port", "0", "--manager-port", "0", "--register-interval", "1s"]);
    const { sd_port: sdPort, ac_grpc_port: grpcPort, ac_http_port: httpPort, roles } = s.ready;
    expect(roles).toBe("sd,ac,manager");
    for (const f of ["ca.crt", "server.crt", "server.key", "agent.crt", "agent.key", "internal.secret"]) expect(existsSync(join(data, "certs", f))).toBe(true);
    expect(s.lines.join("\n")).toMatch(/not built yet/);
    // started in order, SD first
    const sdAt = s.lines.findIndex((l) => l.includes("SD listening")), acAt = s.lines.findIndex((l) => l.includes("AC serving"));
    expect(sdAt).toBeGreaterThanOrEqual(0);
    expect(acAt).toBeGreaterThan(sdAt);

    let detail: any[] = [];
    for (let i = 0; i < 100 && detail.length === 0; i++) {
      detail = ((await (await fetch(`http://127.0.0.1:${sdPort}/registry/detail?name=hids_svr_grpc`)).json()) as any).data;
      if (!detail.length) await Bun.sleep(100);
    }
    expect(detail).toMatchObject([{ ip: "127.0.0.1", port: grpcPort }]);
    expect((await fetch(`http://127.0.0.1:${httpPort}/ping`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${s.ready.manager_port}/ping`)).status).toBe(200);

    if (existsSync(agentSim)) {
      const certs = join(data, "certs");
      const sim = Bun.spawn([agentSim, "-ac", `localhost:${grpcPort}`, "-ca", join(certs, "ca.crt"), "-cert", join(certs, "agent.crt"), "-key", join(certs, "agent.key"),
        "-agents", "3", "-rate", "10", "-duration", "1500ms", "-seq", "-records-field-seq", "-id-prefix", "cli"], { stdout: "pipe", stderr: "ignore" });
      const rep = JSON.parse(await new Response(sim.stdout).text());
      expect(rep.connected_peak).toBe(3);
      expect(rep.records_sent).toBeGreaterThan(0);
      expect(rep.records_acked).toBe(rep.records_sent);
      const q = await runServerCli(["events", "query", "--data-dir", data, "--agent", "cli-1"]);
      expect(q.code).toBe(0);
      const events = q.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.agent_id === "cli-1")).toBe(true);
      expect(events.some((e) => e.data_type === 1000)).toBe(true);
    }

    expect(await s.stop("SIGTERM")).toBe(0);
    const tail = s.lines.join("\n");
    expect(tail).toMatch(/"msg":"stopping".*"roles":"manager,manager-db,ac,store,sd"/);
    for (const p of [sdPort, grpcPort, httpPort]) expect(await listening(p)).toBe(false);

    // a second start reuses the certificates (no new CA)
    const ca = await Bun.file(join(data, "certs", "ca.crt")).text();
    const again = await startServer(["--data-dir", data, ...loopback, "--role", "sd", "--sd-port", "0"]);
    expect(again.lines.join("\n")).not.toMatch(/created a CA/);
    expect(await Bun.file(join(data, "certs", "ca.crt")).text()).toBe(ca);
    expect(await again.stop("SIGINT")).toBe(0);
  }, 60_000);

  test("precedence on a live port: YAML < env < flag", async () => {
    using d = tempDir();
    const [p1, p2] = [await freePort(), await freePort()];
    const yaml = join(d.path, "s.yaml");
    writeFileSync(yaml, `listen: 127.0.0.1\nroles: [sd]\nsd:\n  port: ${p1}\n`);
    const base = ["--config", yaml, "--data-dir", join(d.path, "data")];
    const fromYaml = await startServer(base);
    expect(fromYaml.ready.sd_port).toBe(p1);
    expect(await fromYaml.stop()).toBe(0);
    const fromEnv = await startServer(base, { VIGIL_SD_PORT: String(p2) });
    expect(fromEnv.ready.sd_port).toBe(p2);
    expect(await fromEnv.stop()).toBe(0);
    const fromFlag = await startServer([...base, "--sd-port", "0"], { VIGIL_SD_PORT: String(p2) });
    expect([p1, p2]).not.toContain(fromFlag.ready.sd_port);
    expect(await listening(fromFlag.ready.sd_port)).toBe(true);
    expect(await fromFlag.stop()).toBe(0);
  }, 60_000);

  test("--role sd,hub runs SD and says hub is not built yet; a port in use fails start-up", async () => {
    using d = tempDir();
    const s = await startServer(["--role", "sd,hub", "--data-dir", join(d.path, "data"), ...loopback, "--sd-port", "0"]);
    expect(s.ready.roles).toBe("sd");
    expect(s.lines.join("\n")).toMatch(/hub not built yet/);
    const clash = await runServerCli(["--role", "sd", "--data-dir", join(d.path, "data"), ...loopback, "--sd-port", String(s.ready.sd_port)]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/cannot listen/);
    expect(await s.stop()).toBe(0);
  }, 60_000);
});
