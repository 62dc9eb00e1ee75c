// End to end through a real AC: a grpc-js mTLS client posing as a Vigil agent heartbeats, gets
// its desired components on arrival and on a policy change, and answers a task with a 5100
// record that turns its sub-task succeeded; a task for thousands of hosts reaches the connected
// one through /command/batch and fails the rest. Also the cluster view and event queries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { encodePayload, type grpc } from "../../../../src/common/proto.ts";
import { DataType, PRODUCT } from "../../../../src/common/wire.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import type { Repository } from "../../../../src/server/manager/repo/types.ts";
import { startManager, type ManagerHandle } from "../../../../src/server/manager/index.ts";
import { client, openStream, SECRET, startFixture, type AcFixture, type Stream } from "../../ac/fixture.ts";
import { tempDir, waitFor } from "../../../harness.ts";
import { heartbeat, quietLog } from "../support/fixture.ts";
import type { AgentBatch } from "../../../../src/server/sink.ts";

const AGENT = "e2e-agent-1";
let dir: ReturnType<typeof tempDir>;
let ac: AcFixture;
let repo: Repository;
let m: ManagerHandle;
let base: string;
let admin: string;
let operator: string;
let agent: Stream;
let seq = 0;

function send(records: [number, Record<string, string>][]) {
  agent.call.write({
    agentId: AGENT, hostname: "e2e-host", version: "1.0.0", product: PRODUCT, intranetIpv4: ["10.7.0.1"], seq: ++seq,
    records: records.map(([dataType, f]) => ({ dataType, timestamp: Math.floor(Date.now() / 1000), data: encodePayload(f) })),
  } satisfies grpc.PackagedData.$Properties);
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers: { token } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const r = await fetch(base + path, init);
  return { status: r.status, body: await r.json() };
}

async function upload(name: string, version: string, content: string) {
  const form = new FormData();
  form.set("name", name);
  form.set("type", "plugin");
  form.set("version", version);
  form.set("file", new File([content], `${name}.tar.gz`));
  const r = await api("POST", "/api/v1/components", admin, form);
  expect(r.status).toBe(200);
  return r.body.data;
}

const configCommands = () => agent.commands.filter((c) => (c.configs?.length ?? 0) > 0);

beforeAll(async () => {
  dir = tempDir();
  let onBatch: (b: AgentBatch) => void = () => {};
  ac = await startFixture(dir.path, { onBatch: (b) => onBatch(b) });
  repo = await openRepository({ dataDir: join(dir.path, "manager"), log: quietLog });
  m = await startManager({
    listen: "127.0.0.1", port: 0, repo, events: ac.store, secret: SECRET, acUrls: [`http://127.0.0.1:${ac.ac.httpPort}`],
    dataDir: join(dir.path, "manager"), adminPassword: "admin-password", log: quietLog, heartbeatFlushMs: 50, expiryIntervalMs: 100,
  });
  onBatch = m.ingest;
  base = `http://127.0.0.1:${m.port}`;
  const login = async (username: string, password: string) => (await (await fetch(`${base}/api/v1/user/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) })).json() as any).data.token;
  admin = await login("admin", "admin-password");
  expect((await api("POST", "/api/v1/users", admin, { username: "op", password: "operator-password", role: "operator" })).status).toBe(200);
  operator = await login("op", "operator-password");
});

afterAll(async () => {
  agent?.call.end();
  await m?.stop();
  await ac?.stop();
  await repo?.close();
  dir?.[Symbol.dispose]();
});

describe("Manager with a real AC", () => {
  test("an arriving agent gets the desired components; the download matches the sha256", async () => {
    const comp = await upload("collector", "1.0.0", "plugin-bytes-v1");
    expect((await api("PUT", "/api/v1/policies/all", admin, { components: [comp.id] })).status).toBe(200);
    const cl = client(ac.ac.grpcPort, { cert: ac.certs.agentCert, key: ac.certs.agentKey }, ac.certs.ca);
    agent = openStream(cl);
    send([[DataType.AgentHeartbeat, { platform: "debian", kernel_version: "6.1" }]]);
    expect(await waitFor(() => configCommands().length > 0)).toBe(true);
    const cfg = configCommands()[0]!.configs![0]!;
    expect(cfg).toMatchObject({ name: "collector", version: "1.0.0", sha256: comp.sha256 });
    const file = await fetch(cfg.downloadUrls![0]!); // no token: agents have none
    expect(file.status).toBe(200);
    expect(createHash("sha256").update(new Uint8Array(await file.arrayBuffer())).digest("hex")).toBe(cfg.sha256!);
    expect((await repo.getHost(AGENT))?.hostname).toBe("e2e-host");
  });

  test("a task reaches the agent, its 5100 result turns the sub-task succeeded", async () => {
    const r = await api("POST", "/api/v1/tasks", operator, { kind: "agent_ctrl", data_type: DataType.SetMetadata, data: { idc: "dc1" }, target: { agent_ids: [AGENT] }, timeout: 60 });
    expect(r.status).toBe(200);
    expect(r.body.data.subtasks).toBe(1);
    const id = r.body.data.task.id;
    expect(await waitFor(() => agent.commands.some((c) => c.task?.dataType === DataType.SetMetadata))).toBe(true);
    const task = agent.commands.find((c) => c.task?.dataType === DataType.SetMetadata)!.task!;
    expect(task.objectName).toBe(PRODUCT);
    expect(JSON.parse(task.data!)).toEqual({ idc: "dc1" });
    send([[DataType.TaskResult, { token: task.token!, status: "succeeded", msg: "idc=dc1 region=" }]]);
    let summary: any;
    for (let i = 0; i < 200 && summary?.succeeded !== 1; i++) {
      summary = (await api("GET", `/api/v1/tasks/${id}`, operator)).body.data.summary;
      if (summary.succeeded !== 1) await Bun.sleep(25);
    }
    expect(summary).toMatchObject({ succeeded: 1, sent: 0, created: 0 });
    const subs = (await api("GET", `/api/v1/tasks/${id}/subtasks?status=succeeded`, operator)).body.data;
    expect(subs.items[0]).toMatchObject({ agent_id: AGENT, status: "succeeded", msg: "idc=dc1 region=" });
  });

  test("a task for a host that is not connected fails with 'agent not connected'", async () => {
    await repo.recordHeartbeats([heartbeat("ghost")]);
    const r = await api("POST", "/api/v1/tasks", operator, { kind: "agent_ctrl", data_type: DataType.Restart, target: { agent_ids: ["ghost"] } });
    const id = r.body.data.task.id;
    let items: any[] = [];
    for (let i = 0; i < 200 && items[0]?.status !== "failed"; i++) {
      items = (await api("GET", `/api/v1/tasks/${id}/subtasks`, operator)).body.data.items;
      if (items[0]?.status !== "failed") await Bun.sleep(25);
    }
    expect(items[0]).toMatchObject({ agent_id: "ghost", status: "failed", msg: "agent not connected" });
  });

  test("a task for many agent ids reaches the connected one and fails the others", async () => {
    const ghosts = Array.from({ length: 1_200 }, (_, i) => `many-${i}`);
    await repo.recordHeartbeats(ghosts.map((id) => heartbeat(id)));
    const ids = [...ghosts.slice(0, 1_100), AGENT, ...ghosts.slice(1_100)]; // in the second slice of 1,000
    const r = await api("POST", "/api/v1/tasks", operator, { kind: "agent_ctrl", data_type: DataType.SetMetadata, data: { idc: "many" }, target: { agent_ids: ids }, timeout: 60 });
    expect(r.status).toBe(200);
    expect(r.body.data.subtasks).toBe(1_201);
    const id = r.body.data.task.id;
    expect(await waitFor(() => agent.commands.some((c) => c.task?.data === '{"idc":"many"}'))).toBe(true);
    let detail: any;
    for (let i = 0; i < 400 && detail?.task.state !== "dispatched"; i++) {
      detail = (await api("GET", `/api/v1/tasks/${id}`, operator)).body.data;
      if (detail.task.state !== "dispatched") await Bun.sleep(25);
    }
    expect(detail.summary).toMatchObject({ sent: 1, failed: 1_200, created: 0 });
    const sent = (await api("GET", `/api/v1/tasks/${id}/subtasks?status=sent`, operator)).body.data;
    expect(sent.items.map((x: any) => x.agent_id)).toEqual([AGENT]);
    const failed = (await api("GET", `/api/v1/tasks/${id}/subtasks?status=failed&size=5`, operator)).body.data;
    expect(failed.total).toBe(1_200);
    expect(failed.items.every((x: any) => x.msg === "agent not connected" && x.agent_id.startsWith("many-"))).toBe(true);
    const m = await (await fetch(`http://127.0.0.1:${ac.ac.httpPort}/metrics`)).text();
    expect(Number(m.match(/vigil_ac_commands_total\{result="not_connected"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(1_200);
  });

  test("a policy change reaches the agent as a Command with configs", async () => {
    const before = configCommands().length;
    const v2 = await upload("collector", "2.0.0", "plugin-bytes-v2");
    expect((await api("PUT", "/api/v1/policies/all", admin, { components: [v2.id] })).status).toBe(200);
    expect(await waitFor(() => configCommands().length > before)).toBe(true);
    const last = configCommands().at(-1)!;
    expect(last.task).toBeFalsy();
    expect(last.configs!.map((c) => `${c.name}@${c.version}:${c.sha256}`)).toEqual([`collector@2.0.0:${v2.sha256}`]);
    const audit = (await api("GET", "/api/v1/audit?action=policy.set", admin)).body.data;
    expect(audit.total).toBe(2);
  });

  test("the cluster view shows the AC with its connection", async () => {
    const r = await api("GET", "/api/v1/cluster", operator);
    expect(r.body.data.ac).toEqual([{ url: `http://127.0.0.1:${ac.ac.httpPort}`, healthy: true, connections: 1 }]);
  });

  test("events: by host, data_type and field value", async () => {
    send([[DataType.AgentHeartbeat, { platform: "alpine", kernel_version: "6.6" }]]);
    let items: any[] = [];
    for (let i = 0; i < 200 && items.length < 1; i++) {
      items = (await api("GET", `/api/v1/events?agent_id=${AGENT}&data_type=1000&field.platform=alpine`, operator)).body.data.items;
      if (!items.length) await Bun.sleep(25);
    }
    expect(items.length).toBe(1);
    expect(items[0]).toMatchObject({ agent_id: AGENT, data_type: 1000, fields: { platform: "alpine" } });
    const all = (await api("GET", `/api/v1/events?agent_id=${AGENT}&data_type=1000`, operator)).body.data;
    expect(all.count).toBeGreaterThanOrEqual(2);
    expect((await api("GET", "/api/v1/events?bogus=1", operator)).status).toBe(400);
  });
});
