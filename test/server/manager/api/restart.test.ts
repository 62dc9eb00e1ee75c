// Restarting the Manager keeps users, tokens, hosts, tasks and components (SQLite file).
import { expect, test } from "bun:test";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { startManager } from "../../../../src/server/manager/index.ts";
import { tempDir } from "../../../harness.ts";
import { heartbeat, quietLog } from "../support/fixture.ts";

test("users, tokens, hosts, tasks and components survive a restart", async () => {
  using d = tempDir();
  const start = async () => {
    const repo = await openRepository({ dataDir: d.path, log: quietLog });
    const m = await startManager({ listen: "127.0.0.1", port: 0, repo, secret: "s", acUrls: [], dataDir: d.path, adminPassword: "admin-password", log: quietLog });
    const api = async (method: string, path: string, token?: string, body?: BodyInit, json = true) => {
      const headers: Record<string, string> = token ? { token } : {};
      if (json && body) headers["content-type"] = "application/json";
      const r = await fetch(`http://127.0.0.1:${m.port}${path}`, { method, headers, body });
      return { status: r.status, body: (await r.json()) as any };
    };
    return { repo, m, api, stop: async () => { await m.stop(); await repo.close(); } };
  };
  let s = await start();
  const token = (await s.api("POST", "/api/v1/user/login", undefined, JSON.stringify({ username: "admin", password: "admin-password" }))).body.data.token;
  await s.repo.recordHeartbeats([heartbeat("h1")]);
  const form = new FormData();
  form.set("name", "p");
  form.set("type", "plugin");
  form.set("version", "1");
  form.set("file", new File(["bytes"], "p"));
  const comp = (await s.api("POST", "/api/v1/components", token, form, false)).body.data;
  const task = (await s.api("POST", "/api/v1/tasks", token, JSON.stringify({ kind: "agent_ctrl", data_type: 1060, target: { all: true } }))).body.data.task;
  await s.stop();

  s = await start();
  try {
    expect((await s.api("GET", "/api/v1/user/me", token)).body.data.username).toBe("admin");
    expect((await s.api("GET", "/api/v1/hosts/h1", token)).status).toBe(200);
    expect((await s.api("GET", `/api/v1/tasks/${task.id}`, token)).body.data.task.id).toBe(task.id);
    const dl = await fetch(`http://127.0.0.1:${s.m.port}/api/v1/components/${comp.id}/download`);
    expect(await dl.text()).toBe("bytes");
    expect(await s.repo.countUsers()).toBe(1);
  } finally {
    await s.stop();
  }
});
