// Hosts: heartbeat ingestion through startManager().ingest, list filters and paging, detail,
// tags (with validation that changes nothing).
import { describe, expect, test } from "bun:test";
import { encodePayload } from "../../../../src/common/proto.ts";
import { DataType } from "../../../../src/common/wire.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { startManager } from "../../../../src/server/manager/index.ts";
import type { AgentBatch } from "../../../../src/server/sink.ts";
import { tempDir } from "../../../harness.ts";
import { eachDialect } from "../support/dialects.ts";
import { heartbeat, managerFixture, quietLog } from "../support/fixture.ts";

function batch(agentId: string, records: [number, Record<string, string>][]): AgentBatch {
  return {
    agentId, hostname: `h-${agentId}`, version: "2.0.0", product: "vigil-agent", intranetIpv4: ["10.9.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
    seq: 1, receivedAt: Date.now(), records: records.map(([dataType, f]) => ({ dataType, timestamp: Math.floor(Date.now() / 1000), data: encodePayload(f) })),
  };
}

describe("heartbeat ingestion", () => {
  test("1000 and 1001 records become hosts with facts and plugins; other records are ignored", async () => {
    using d = tempDir();
    const repo = await openRepository({ dataDir: d.path, log: quietLog });
    const m = await startManager({ listen: "127.0.0.1", port: 0, repo, secret: "s", dataDir: d.path, adminPassword: "admin-password", log: quietLog, acAddr: "127.0.0.1:6751", heartbeatFlushMs: 60_000 });
    try {
      m.ingest(batch("a1", [[59, { exe: "/bin/sh" }], [DataType.AgentHeartbeat, { platform: "debian", cpu: "0.5", spool_depth: "3" }]]));
      m.ingest(batch("a1", [[DataType.PluginHeartbeat, { name: "collector", pversion: "1.2" }]]));
      m.ingest(batch("a2", [[59, { exe: "/bin/ls" }]]));
      await m.flush();
      const h = (await repo.getHost("a1"))!;
      expect(h).toMatchObject({ hostname: "h-a1", version: "2.0.0", acAddr: "127.0.0.1:6751", intranetIpv4: ["10.9.0.1"] });
      expect(h.facts.platform).toBe("debian");
      expect(h.plugins.collector?.pversion).toBe("1.2");
      expect(await repo.getHost("a2")).toBeUndefined();
      const login = await fetch(`http://127.0.0.1:${m.port}/api/v1/user/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "admin-password" }) });
      const token = ((await login.json()) as any).data.token;
      const detail = (await (await fetch(`http://127.0.0.1:${m.port}/api/v1/hosts/a1`, { headers: { token } })).json()) as any;
      expect(detail.data).toMatchObject({ agent_id: "a1", state: "online", facts: { platform: "debian", cpu: "0.5" }, counters: { spool_depth: "3" } });
      const audit = await repo.listAudit({ action: "user.login" }, { page: 1, size: 5 });
      expect(audit.items[0]!.remoteAddr).toBe("127.0.0.1");
    } finally {
      await m.stop();
      await repo.close();
    }
  });
});

eachDialect("hosts API", (url) => {
  test("list filters, paging, state from the offline threshold", async () => {
    await using f = await managerFixture({ url: await url(), config: { offlineAfterMs: 60_000 } });
    const old = Date.now() - 10 * 60_000;
    await f.repo.recordHeartbeats([
      heartbeat("h1", { hostname: "web-1", version: "1.0.0" }),
      heartbeat("h2", { hostname: "web-2", version: "1.1.0", intranetIpv4: ["10.0.0.2"] }),
      heartbeat("h3", { hostname: "db-1", at: old }),
    ]);
    await f.repo.setTags("h2", ["prod"]);
    const t = f.tokens.viewer;
    const get = async (q: string) => (await f.call("GET", `/api/v1/hosts${q}`, { token: t })).body.data;
    expect((await get("")).total).toBe(3);
    expect((await get("?hostname=web")).items.map((h: any) => h.agent_id).sort()).toEqual(["h1", "h2"]);
    expect((await get("?ip=10.0.0.2")).items.map((h: any) => h.agent_id)).toEqual(["h2"]);
    expect((await get("?state=offline")).items.map((h: any) => h.agent_id)).toEqual(["h3"]);
    expect((await get("?state=online")).total).toBe(2);
    expect((await get("?tag=prod")).items[0].tags).toEqual(["prod"]);
    expect((await get("?version=1.1.0")).total).toBe(1);
    const p = await get("?page=2&size=2");
    expect(p).toMatchObject({ total: 3, page: 2, size: 2 });
    expect(p.items.length).toBe(1);
    expect((await get("?hostname=%27%20OR%201%3D1%20--")).total).toBe(0);
    expect((await f.call("GET", "/api/v1/hosts?state=dead", { token: t })).status).toBe(400);
    expect((await f.call("GET", "/api/v1/hosts/nope", { token: t })).status).toBe(404);
  });

  test("tags: operator sets and bulk-edits; bad tags change nothing", async () => {
    await using f = await managerFixture({ url: await url() });
    await f.repo.recordHeartbeats([heartbeat("h1"), heartbeat("h2")]);
    const t = f.tokens.operator;
    expect((await f.call("PUT", "/api/v1/hosts/h1/tags", { token: f.tokens.viewer, body: { tags: ["a"] } })).status).toBe(403);
    expect((await f.call("PUT", "/api/v1/hosts/h1/tags", { token: t, body: { tags: ["prod", "web"] } })).status).toBe(200);
    for (const body of [{ tags: ["<script>"] }, { tags: "prod" }, { tags: ["ok"], extra: 1 }, { tags: ["x'; DELETE FROM hosts; --"] }]) {
      const r = await f.call("PUT", "/api/v1/hosts/h1/tags", { token: t, body });
      expect(r.status).toBe(400);
    }
    expect((await f.repo.getHost("h1"))!.tags.sort()).toEqual(["prod", "web"]);
    expect((await f.call("PUT", "/api/v1/hosts/zz/tags", { token: t, body: { tags: ["a"] } })).status).toBe(404);
    const bulk = await f.call("POST", "/api/v1/hosts/tags", { token: t, body: { agent_ids: ["h1", "h2"], add: ["dc1"], remove: ["web"] } });
    expect(bulk.status).toBe(200);
    expect((await f.repo.getHost("h1"))!.tags.sort()).toEqual(["dc1", "prod"]);
    expect((await f.repo.getHost("h2"))!.tags).toEqual(["dc1"]);
    expect((await f.call("POST", "/api/v1/hosts/tags", { token: t, body: { agent_ids: ["h1"] } })).status).toBe(400);
    const audit = await f.repo.listAudit({ action: "host.tag" }, { page: 1, size: 10 });
    expect(audit.total).toBe(2);
  });
});
