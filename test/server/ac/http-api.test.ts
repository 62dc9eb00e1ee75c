// The AC's HTTP API and control path: signed calls only (except /ping and /metrics), connection
// stat/list/count/reset, POST /command/ and /command/batch reaching the agent's stream,
// Prometheus counters, and
// registration with (and eviction from) an SD endpoint.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { Hono } from "hono";
import { tempDir, waitFor } from "../../harness.ts";
import { startFixture, client, openStream, packaged, SECRET, type AcFixture } from "./fixture.ts";
import { signedFetch } from "../../../src/common/internal-auth.ts";
import { serveHttp } from "../../../src/common/http-serve.ts";
import { verifyRequest } from "../../../src/common/internal-auth.ts";
import { DataType, Service } from "../../../src/common/wire.ts";

let dir: ReturnType<typeof tempDir>;
let f: AcFixture;
let base: string;
beforeAll(async () => {
  dir = tempDir();
  f = await startFixture(dir.path);
  base = `http://127.0.0.1:${f.ac.httpPort}`;
});
afterAll(async () => {
  await f.stop();
  dir[Symbol.dispose]();
});

const signed = (path: string, body?: unknown) => signedFetch(SECRET, base + path, body === undefined ? {} : { body: JSON.stringify(body) });

describe("AC HTTP API", () => {
  test("/ping and /metrics need no signature; everything else does", async () => {
    expect(await (await fetch(base + "/ping")).text()).toBe("PONG");
    expect((await fetch(base + "/metrics")).status).toBe(200);
    for (const [method, path] of [["GET", "/conn/count"], ["GET", "/conn/list"], ["GET", "/conn/stat"], ["POST", "/conn/reset"], ["POST", "/command/"], ["POST", "/command/batch"]]) {
      const r = await fetch(base + path, { method, body: method === "POST" ? "{}" : undefined });
      expect(r.status).toBe(401);
      expect((await r.json()).code).toBe(401);
    }
    const wrong = await signedFetch("not-the-secret", base + "/conn/count");
    expect(wrong.status).toBe(401);
    const ok = await signed("/conn/count");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ code: 0, msg: "success", data: 0 });
  });

  test("connections are listed with their heartbeat; a command reaches the agent; reset closes it", async () => {
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    s.call.write({ ...packaged({ agentId: "ctl-1", seq: 1, n: 0 }), records: [{ dataType: DataType.AgentHeartbeat, timestamp: 1_700_000_000, data: (await import("../../../src/common/proto.ts")).encodePayload({ cpu: "0.5", kernel_version: "6.18" }) }] });
    expect(await waitFor(() => s.acks.length === 1)).toBe(true);
    expect((await (await signed("/conn/count")).json()).data).toBe(1);
    expect((await (await signed("/conn/list")).json()).data).toEqual(["ctl-1"]);
    const stat = (await (await signed("/conn/stat")).json()).data;
    expect(stat[0]).toMatchObject({ agent_id: "ctl-1", hostname: "h1", cert_cn: "agent-cert", heartbeat: { cpu: "0.5", kernel_version: "6.18" } });

    const cmd = { agent_id: "ctl-1", command: { agent_ctrl: 0, task: { data_type: DataType.SetMetadata, object_name: "vigil-agent", data: '{"idc":"x","region":"y"}', token: "tok-1" }, config: [{ name: "collector", version: "1.0", sha256: "ab", download_url: ["http://x/y"], detail: "" }] } };
    const r = await signed("/command/", cmd);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ code: 0, msg: "success" });
    expect(await waitFor(() => s.commands.some((c) => c.task?.token === "tok-1"))).toBe(true);
    const got = s.commands.find((c) => c.task?.token === "tok-1")!;
    expect(got.task).toMatchObject({ dataType: DataType.SetMetadata, objectName: "vigil-agent", data: '{"idc":"x","region":"y"}' });
    expect(got.configs[0]).toMatchObject({ name: "collector", version: "1.0", downloadUrls: ["http://x/y"] });
    expect(f.ac.sendCommand("ctl-1", { agentCtrl: 1 })).toBe(true);
    expect(await waitFor(() => s.commands.some((c) => c.agentCtrl === 1))).toBe(true);

    const missing = await signed("/command/", { ...cmd, agent_id: "nobody" });
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe(1);
    const bad = await signed("/command/", { command: {} });
    expect(bad.status).toBe(400);
    expect((await bad.json()).msg).toMatch(/agent_id/);
    const notJson = await signedFetch(SECRET, base + "/command/", { body: "{nope" });
    expect(notJson.status).toBe(400);

    const reset = await signed("/conn/reset", { agent_ids: ["ctl-1", "ghost"] });
    expect((await reset.json()).data).toEqual({ reset: ["ctl-1"], not_connected: ["ghost"] });
    expect((await s.status).code).toBe(14);
    expect(await waitFor(() => f.ac.connections() === 0)).toBe(true);
    expect((await signed("/conn/reset", {})).status).toBe(400);
    cl.close();

    const m = await (await fetch(base + "/metrics")).text();
    expect(m).toMatch(/vigil_ac_records_total\{data_type="1000"\} 1/);
    expect(m).toMatch(/vigil_ac_acks_total \d+/);
    expect(m).toMatch(/vigil_ac_commands_total\{result="sent"\} 1/);
    expect(m).toMatch(/vigil_ac_commands_total\{result="not_connected"\} 1/);
    expect(m).toMatch(/vigil_ac_http_unauthorized_total [1-9]/);
  }, 30_000);

  test("/command/batch: connected entries are sent, the rest listed; a bad or oversized batch sends nothing", async () => {
    const metric = async (result: string) => Number((await (await fetch(base + "/metrics")).text()).match(new RegExp(`vigil_ac_commands_total\\{result="${result}"\\} (\\d+)`))?.[1] ?? 0);
    const before = { sent: await metric("sent"), not_connected: await metric("not_connected"), bad_request: await metric("bad_request") };
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "batch-1", seq: 1 }));
    expect(await waitFor(() => s.acks.length === 1)).toBe(true);
    const task = (token: string) => ({ agent_ctrl: 0, task: { data_type: DataType.SetMetadata, object_name: "vigil-agent", data: "{}", token } });

    const r = await signed("/command/batch", { commands: [
      { agent_id: "ghost-1", command: task("b-ghost") },
      { agent_id: "batch-1", command: task("b-1") },
      { agent_id: "ghost-2", command: { agent_ctrl: 0, config: [{ name: "collector", version: "1.0", download_urls: ["http://x/y"] }] } },
      { agent_id: "batch-1", command: { agent_ctrl: 0, config: [{ name: "collector", version: "2.0", download_urls: ["http://x/z"] }] } },
    ] });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ code: 0, msg: "success", data: { sent: ["batch-1", "batch-1"], not_connected: ["ghost-1", "ghost-2"] } });
    expect(await waitFor(() => s.commands.some((c) => c.configs?.[0]?.version === "2.0"))).toBe(true);
    expect(s.commands.find((c) => c.task?.token === "b-1")!.task).toMatchObject({ dataType: DataType.SetMetadata, objectName: "vigil-agent" });
    expect(s.commands.find((c) => c.configs?.[0]?.version === "2.0")!.configs[0]!.downloadUrls).toEqual(["http://x/z"]);
    expect((await (await signed("/command/batch", { commands: [] })).json()).data).toEqual({ sent: [], not_connected: [] });

    // one bad entry refuses the whole batch, before anything is sent
    const count = s.commands.length;
    for (const body of [{ commands: [{ agent_id: "batch-1", command: task("bad-1") }, { command: {} }] }, { commands: "x" }, {}, { commands: [{ agent_id: "batch-1", command: { task: { data_type: "1060" } } }] }]) {
      const bad = await signed("/command/batch", body);
      expect(bad.status).toBe(400);
      expect((await bad.json()).msg).toMatch(/^bad request: .*commands/);
    }
    expect((await signedFetch(SECRET, base + "/command/batch", { body: "{nope" })).status).toBe(400);
    const many = Array.from({ length: 5_001 }, () => ({ agent_id: "batch-1", command: task("too-many") }));
    const big = await signed("/command/batch", { commands: many });
    expect(big.status).toBe(413);
    expect((await big.json()).msg).toMatch(/at most 5000/);
    // the stream is ordered: once this marker arrives, nothing of the refused batches is coming
    expect((await signed("/command/", { agent_id: "batch-1", command: task("marker") })).status).toBe(200);
    expect(await waitFor(() => s.commands.some((c) => c.task?.token === "marker"))).toBe(true);
    expect(s.commands.slice(count).filter((c) => c.task || c.configs?.length).map((c) => c.task?.token)).toEqual(["marker"]);

    expect(await metric("sent")).toBe(before.sent + 3);
    expect(await metric("not_connected")).toBe(before.not_connected + 2);
    expect(await metric("bad_request")).toBe(before.bad_request + 6);
    s.call.end();
    await s.status;
    cl.close();
    expect(await waitFor(() => f.ac.connections() === 0)).toBe(true);
  }, 30_000);

  test("a second stream of the same agent replaces the first", async () => {
    const cl = client(f.ac.grpcPort, { cert: f.certs.agentCert, key: f.certs.agentKey }, f.certs.ca);
    const a = openStream(cl);
    a.call.write(packaged({ agentId: "dup", seq: 1 }));
    expect(await waitFor(() => a.acks.length === 1)).toBe(true);
    const b = openStream(cl);
    b.call.write(packaged({ agentId: "dup", seq: 2 }));
    expect((await a.status).code).toBe(10); // ABORTED
    expect(await waitFor(() => b.acks.length === 1)).toBe(true);
    expect(f.ac.connections()).toBe(1);
    expect(f.ac.sendCommand("dup", { agentCtrl: 7 })).toBe(true);
    expect(await waitFor(() => b.commands.some((c) => c.agentCtrl === 7))).toBe(true);
    b.call.end();
    await b.status;
    cl.close();
  }, 20_000);
});

describe("AC registration with SD", () => {
  test("registers both services with weight = connections, signed, and evicts them on stop", async () => {
    const seen: { path: string; body: any; authError?: string }[] = [];
    const sd = new Hono();
    sd.post("/registry/*", async (c) => {
      const raw = new Uint8Array(await c.req.raw.clone().arrayBuffer());
      seen.push({ path: c.req.path, body: await c.req.json(), authError: verifyRequest(SECRET, "POST", c.req.url, c.req.raw.headers, raw) });
      return c.json({ code: 0, msg: "success" });
    });
    const sdSrv = await serveHttp(sd, { port: 0, hostname: "127.0.0.1" });
    using d = tempDir();
    // an unreachable SD next to the good one: counted, not fatal
    const g = await startFixture(d.path, { sdUrls: [`http://127.0.0.1:${sdSrv.port}`, "http://127.0.0.1:1"], registerIntervalMs: 200, listen: "127.0.0.1" });
    expect(await waitFor(() => seen.filter((s) => s.path === "/registry/register").length >= 4, 10_000)).toBe(true);
    const reg = seen.filter((s) => s.path === "/registry/register");
    expect(reg.every((s) => s.authError === undefined)).toBe(true);
    expect(reg.map((s) => s.body.name)).toContain(Service.Grpc);
    expect(reg.find((s) => s.body.name === Service.Grpc)!.body).toEqual({ name: Service.Grpc, ip: "127.0.0.1", port: g.ac.grpcPort, weight: 0, extra: {} });
    expect(reg.find((s) => s.body.name === Service.Http)!.body.port).toBe(g.ac.httpPort);
    // weight follows the live connection count
    const cl = client(g.ac.grpcPort, { cert: g.certs.agentCert, key: g.certs.agentKey }, g.certs.ca);
    const s = openStream(cl);
    s.call.write(packaged({ agentId: "w1", seq: 1 }));
    expect(await waitFor(() => seen.some((x) => x.path === "/registry/register" && x.body.weight === 1), 10_000)).toBe(true);
    s.call.end();
    await s.status;
    cl.close();
    const m = await (await fetch(`http://127.0.0.1:${g.ac.httpPort}/metrics`)).text();
    expect(m).toMatch(/vigil_ac_sd_registrations_total\{result="error"\} [1-9]/);
    await g.stop();
    const ev = seen.filter((x) => x.path === "/registry/evict").map((x) => x.body);
    expect(ev).toContainEqual({ name: Service.Grpc, ip: "127.0.0.1", port: g.ac.grpcPort });
    expect(ev).toContainEqual({ name: Service.Http, ip: "127.0.0.1", port: g.ac.httpPort });
    await sdSrv.close();
  }, 30_000);
});
