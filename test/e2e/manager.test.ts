// The Manager end to end on the compiled binaries: the all-in-one server and a real agent with
// real BPF events; an operator creates a task through the API, the agent runs it and the
// sub-task turns succeeded; a component policy change reaches the agent; a restart keeps users,
// tokens, hosts, tasks and components.
import { test, expect, describe, afterAll } from "bun:test";
import { join } from "node:path";
import { canLoadBpf, tempDir } from "../harness.ts";
import { haveBinaries, serverBinary, agentBinary, freePort, spawn, waitHttp, type Proc } from "./support.ts";

const ADMIN_PASSWORD = "e2e-admin-password";

async function poll<T>(what: () => Promise<T | undefined>, ms = 60_000, step = 250): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await what();
      if (v !== undefined) return v;
    } catch {}
    if (Date.now() > end) return undefined;
    await Bun.sleep(step);
  }
}

describe.skipIf(!canLoadBpf || !haveBinaries)("Manager with a real agent", () => {
  const dir = tempDir("vigil-e2e-mgr-");
  const procs: Proc[] = [];
  afterAll(async () => {
    for (const p of procs.reverse()) await p.kill("SIGKILL");
    dir[Symbol.dispose]();
  });

  test("task through the API → agent → succeeded; policy → agent; everything survives a restart", async () => {
    const [sd, ac, acHttp, mgr] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const data = join(dir.path, "server");
    const serverCmd = [serverBinary, "--data-dir", data, "--listen", "127.0.0.1", "--sd-port", String(sd), "--ac-port", String(ac), "--ac-http-port", String(acHttp), "--manager-port", String(mgr)];
    let server = spawn(serverCmd, { VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD });
    procs.push(server);
    const base = `http://127.0.0.1:${mgr}`;
    expect(await waitHttp(`${base}/ping`), server.output()).toBe(true);

    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const init: RequestInit = { method, headers: token ? { token } : {} };
      if (body instanceof FormData) init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const r = await fetch(base + path, init);
      return { status: r.status, body: (await r.json()) as any };
    };
    const login = await call("POST", "/api/v1/user/login", undefined, { username: "admin", password: ADMIN_PASSWORD });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const admin: string = login.body.data.token;
    expect((await call("POST", "/api/v1/users", admin, { username: "ops", password: "ops-password-1", role: "operator" })).status).toBe(200);
    const operator: string = (await call("POST", "/api/v1/user/login", undefined, { username: "ops", password: "ops-password-1" })).body.data.token;

    const agentId = `e2e-mgr-${process.pid}`;
    const agent = spawn([agentBinary, "run", "--sd", `http://127.0.0.1:${sd}`, "--certs", join(data, "certs"), "--data-dir", join(dir.path, "agent"), "--agent-id", agentId]);
    procs.push(agent);

    // the host appears online, with facts from the real heartbeat
    const host = await poll(async () => {
      const r = await call("GET", `/api/v1/hosts/${agentId}`, operator);
      return r.status === 200 && r.body.data.state === "online" ? r.body.data : undefined;
    });
    expect(host, `host never online\n--- server\n${server.output().slice(-3000)}\n--- agent\n${agent.output().slice(-3000)}`).toBeDefined();
    expect(JSON.stringify(host)).toContain("kernel_version");

    // an operator's task: set metadata (1051) on this agent
    const created = await call("POST", "/api/v1/tasks", operator, { kind: "agent_ctrl", data_type: 1051, data: { idc: "e2e-dc", region: "e2e-region" }, target: { agent_ids: [agentId] }, timeout: 60 });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const taskId: string = created.body.data.task.id;
    expect(created.body.data.subtasks).toBe(1);
    const done = await poll(async () => {
      const r = await call("GET", `/api/v1/tasks/${taskId}/subtasks`, operator);
      const s = r.body.data?.items?.[0];
      return s && s.status !== "created" && s.status !== "sent" ? s : undefined;
    });
    expect(done, agent.output().slice(-3000)).toMatchObject({ agent_id: agentId, status: "succeeded" });
    // the agent applied it: its next heartbeat carries the new idc
    const idc = await poll(async () => {
      const r = await call("GET", `/api/v1/hosts/${agentId}`, operator);
      return JSON.stringify(r.body.data).includes("e2e-dc") ? true : undefined;
    });
    expect(idc).toBe(true);
    // a viewer-level read of the stored events through the Manager: this host's execs
    Bun.spawnSync(["/bin/true", "vigil-e2e-manager"]);
    const ev = await poll(async () => {
      const r = await call("GET", `/api/v1/events?agent_id=${agentId}&data_type=59&limit=1000`, operator);
      return JSON.stringify(r.body).includes("vigil-e2e-manager") ? r.body : undefined;
    });
    expect(ev).toBeDefined();

    // a component and a policy for all hosts: the agent receives its desired set
    const form = new FormData();
    form.set("name", "e2e-plugin");
    form.set("type", "plugin");
    form.set("version", "1.2.3");
    form.set("file", new File(["#!/bin/sh\nexit 0\n"], "e2e-plugin"));
    const comp = await call("POST", "/api/v1/components", admin, form);
    expect(comp.status, JSON.stringify(comp.body)).toBe(200);
    expect((await call("PUT", "/api/v1/policies/all", admin, { components: [comp.body.data.id] })).status).toBe(200);
    const got = await poll(async () => (agent.output().includes("e2e-plugin@1.2.3") ? true : undefined), 30_000);
    expect(got, agent.output().slice(-3000)).toBe(true);

    // restart the server: users, tokens, hosts, tasks and components are still there
    await server.kill("SIGTERM");
    server = spawn(serverCmd, { VIGIL_ADMIN_PASSWORD: "another-password-ignored" });
    procs.push(server);
    expect(await waitHttp(`${base}/ping`), server.output()).toBe(true);
    expect((await call("GET", "/api/v1/user/me", operator)).status).toBe(200);
    expect((await call("GET", `/api/v1/hosts/${agentId}`, operator)).status).toBe(200);
    expect(JSON.stringify((await call("GET", `/api/v1/tasks/${taskId}`, operator)).body.data)).toContain(taskId);
    const comps = await call("GET", "/api/v1/components", operator);
    expect(JSON.stringify(comps.body)).toContain("e2e-plugin");
    expect((await call("POST", "/api/v1/user/login", undefined, { username: "admin", password: ADMIN_PASSWORD })).status).toBe(200);
  }, 240_000);
});
