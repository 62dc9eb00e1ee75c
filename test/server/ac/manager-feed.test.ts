// The AC → Manager feed of cluster mode (src/server/ac/manager-feed.ts → POST
// /internal/v1/agent-records, src/server/manager/api/internal.ts). End to end: a real AC and a real
// Manager as separate instances (no in-process onBatch), a grpc-js mTLS client posing as an
// agent: its host appears, a 5100 result completes its sub-task, and records sent while the
// Manager is down arrive once it is back. The route: unsigned → 401, bad bodies → 400. The
// queue: oldest heartbeats dropped first, results kept, size caps, stop() delivering. The setting
// (ac.manager_urls) and vigil-server passing it only when the Manager is not in the process.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Hono } from "hono";
import { encodePayload, type grpc } from "../../../src/common/proto.ts";
import { signedFetch } from "../../../src/common/internal-auth.ts";
import { DataType, PRODUCT } from "../../../src/common/wire.ts";
import { openRepository } from "../../../src/server/manager/repo/index.ts";
import type { Repository } from "../../../src/server/manager/repo/types.ts";
import { startManager, type ManagerHandle } from "../../../src/server/manager/index.ts";
import { internalRoutes } from "../../../src/server/manager/api/internal.ts";
import { createErrorHandler } from "../../../src/server/manager/api/errors.ts";
import { AGENT_RECORDS_PATH, startManagerFeed, type AgentRecordsBody } from "../../../src/server/ac/manager-feed.ts";
import { AcMetrics } from "../../../src/server/ac/metrics.ts";
import type { AgentBatch } from "../../../src/server/sink.ts";
import { client, openStream, SECRET, startFixture, type AcFixture, type Stream } from "./fixture.ts";
import { freePort, startServer } from "../cli/support.ts";
import { loadServerConfig } from "../../../src/server/config.ts";
import { tempDir, waitFor } from "../../harness.ts";
import { quietLog } from "../store/batches.ts";

const AGENT = "feed-agent-1";

describe("a real AC feeding a Manager in another instance", () => {
  let dir: ReturnType<typeof tempDir>;
  let ac: AcFixture;
  let repo: Repository;
  let m: ManagerHandle;
  let mport: number;
  let base: string;
  let token: string;
  let agent: Stream;
  let seq = 0;

  const send = (records: [number, Record<string, string>][], hostname = "feed-host") =>
    agent.call.write({
      agentId: AGENT, hostname, version: "1.0.0", product: PRODUCT, intranetIpv4: ["10.9.0.1"], seq: ++seq,
      records: records.map(([dataType, f]) => ({ dataType, timestamp: Math.floor(Date.now() / 1000), data: encodePayload(f) })),
    } satisfies grpc.PackagedData.$Properties);
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, { method, headers: { token, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: (await r.json()) as any };
  };
  const startMgr = async () => {
    m = await startManager({
      listen: "127.0.0.1", port: mport, repo, secret: SECRET, acUrls: [`http://127.0.0.1:${ac.ac.httpPort}`],
      dataDir: join(dir.path, "manager"), adminPassword: "admin-password", log: quietLog, heartbeatFlushMs: 50, expiryIntervalMs: 100,
    });
    base = `http://127.0.0.1:${m.port}`;
    const r = await fetch(`${base}/api/v1/user/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "admin-password" }) });
    token = ((await r.json()) as any).data.token;
  };
  const createTask = async (idc: string) => {
    const r = await api("POST", "/api/v1/tasks", { kind: "agent_ctrl", data_type: DataType.SetMetadata, data: { idc }, target: { agent_ids: [AGENT] }, timeout: 120 });
    expect(r.status).toBe(200);
    expect(await waitFor(() => agent.commands.some((c) => c.task?.data === JSON.stringify({ idc })))).toBe(true);
    return { id: r.body.data.task.id as string, token: agent.commands.find((c) => c.task?.data === JSON.stringify({ idc }))!.task!.token! };
  };
  const summary = async (id: string) => (await api("GET", `/api/v1/tasks/${id}`)).body.data.summary;
  const until = async (f: () => Promise<boolean>, ms = 15_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await f()) return true;
      await Bun.sleep(50);
    }
    return f();
  };

  beforeAll(async () => {
    dir = tempDir();
    const dead = await freePort(); // nothing listens there: the feed must move on to the next Manager
    mport = await freePort();
    ac = await startFixture(dir.path, { managerUrls: [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${mport}`] });
    repo = await openRepository({ dataDir: join(dir.path, "manager"), log: quietLog });
    await startMgr();
    agent = openStream(client(ac.ac.grpcPort, { cert: ac.certs.agentCert, key: ac.certs.agentKey }, ac.certs.ca));
  });

  afterAll(async () => {
    agent?.call.end();
    await m?.stop();
    await ac?.stop();
    await repo?.close();
    dir?.[Symbol.dispose]();
  });

  test("the agent's heartbeat reaches the Manager: the host is listed", async () => {
    send([[DataType.AgentHeartbeat, { platform: "debian", kernel_version: "6.1" }], [59, { argv: "not for the Manager" }]]);
    expect(await until(async () => (await api("GET", "/api/v1/hosts")).body.data.items.some((h: any) => h.agent_id === AGENT))).toBe(true);
    const host = (await api("GET", `/api/v1/hosts/${AGENT}`)).body.data;
    expect(host).toMatchObject({ agent_id: AGENT, hostname: "feed-host", intranet_ipv4: ["10.9.0.1"] });
    // the Manager answers after its write: the AC may count the delivery a moment after the host shows
    const metrics = () => fetch(`http://127.0.0.1:${ac.ac.httpPort}/metrics`).then((r) => r.text());
    expect(await until(async () => /vigil_ac_manager_feed_sent_total\{kind="heartbeat"\} [1-9]/.test(await metrics()))).toBe(true);
    expect(await metrics()).toMatch(/vigil_ac_manager_feed_failures_total [1-9]/); // the dead URL, tried first
  });

  test("a 5100 result completes the sub-task", async () => {
    const t = await createTask("dc1");
    send([[DataType.TaskResult, { token: t.token, status: "succeeded", msg: "idc=dc1" }]]);
    expect(await until(async () => (await summary(t.id)).succeeded === 1)).toBe(true);
  });

  test("the Manager down for a while: records are retried and arrive when it is back", async () => {
    const t = await createTask("dc2");
    await m.stop();
    const failuresBefore = (await ac.ac.metrics.managerFeedFailures.get()).values[0]?.value ?? 0;
    send([[DataType.TaskResult, { token: t.token, status: "succeeded", msg: "late" }], [DataType.AgentHeartbeat, { platform: "alpine" }]], "feed-host-2");
    // both Managers refuse connections for a while: several rounds, with backoff
    expect(await until(async () => ((await ac.ac.metrics.managerFeedFailures.get()).values[0]?.value ?? 0) >= failuresBefore + 4)).toBe(true);
    expect((await ac.ac.metrics.managerFeedQueued.get()).values[0]?.value).toBe(2);
    await startMgr();
    expect(await until(async () => (await summary(t.id)).succeeded === 1)).toBe(true);
    expect(await until(async () => (await api("GET", `/api/v1/hosts/${AGENT}`)).body.data.hostname === "feed-host-2")).toBe(true);
    const dropped = await (await fetch(`http://127.0.0.1:${ac.ac.httpPort}/metrics`)).text();
    expect(dropped).not.toMatch(/vigil_ac_manager_feed_dropped_total\{/);
  });

  test("unsigned or badly signed POST → 401; bad bodies → 400", async () => {
    const url = base + AGENT_RECORDS_PATH;
    const good: AgentRecordsBody = {
      batches: [{
        agent_id: "posted", hostname: "h", version: "1", product: PRODUCT, intranet_ipv4: [], extranet_ipv4: [], intranet_ipv6: [], extranet_ipv6: [],
        received_at: Date.now(), records: [{ data_type: DataType.AgentHeartbeat, timestamp: 1, data: Buffer.from(encodePayload({ platform: "x" })).toString("base64") }],
      }],
    };
    const unsigned = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(good) });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as any).code).toBe(401);
    expect((await signedFetch("another-secret-0123456", url, { body: JSON.stringify(good) })).status).toBe(401);
    // the user token is not accepted either
    expect((await fetch(url, { method: "POST", headers: { token, "content-type": "application/json" }, body: JSON.stringify(good) })).status).toBe(401);

    const b0 = good.batches[0]!;
    const bad: [string, string][] = [
      ["not JSON", "{nope"],
      ["an array", "[1]"],
      ["no batches", JSON.stringify({ batches: [] })],
      ["an unknown field", JSON.stringify({ ...good, extra: 1 })],
      ["an unknown batch field", JSON.stringify({ batches: [{ ...b0, seq: 1 }] })],
      ["a data_type the Manager does not take", JSON.stringify({ batches: [{ ...b0, records: [{ ...b0.records[0], data_type: 59 }] }] })],
      ["data that is not base64", JSON.stringify({ batches: [{ ...b0, records: [{ ...b0.records[0], data: "%%%" }] }] })],
      ["an empty agent_id", JSON.stringify({ batches: [{ ...b0, agent_id: "" }] })],
      ["a hostname too long", JSON.stringify({ batches: [{ ...b0, hostname: "h".repeat(2_000) }] })],
      ["a NUL character", JSON.stringify({ batches: [{ ...b0, hostname: "a\0b" }] })],
      ["too many records", JSON.stringify({ batches: [{ ...b0, records: Array(5_001).fill(b0.records[0]) }] })],
    ];
    for (const [what, body] of bad) {
      const r = await signedFetch(SECRET, url, { body });
      expect(`${what}: ${r.status}`).toBe(`${what}: 400`);
      expect(((await r.json()) as any).msg).toMatch(/^bad request/);
    }
    const ok = await signedFetch(SECRET, url, { body: JSON.stringify(good) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ code: 0, msg: "ok", data: { batches: 1, records: 1 } });
    expect((await repo.getHost("posted"))?.hostname).toBe("h"); // written before the answer
  });

  test("the internal route is not in /openapi.json", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/internal"))).toBe(false);
  });
});

// ---- the feed alone, against the real route in a small app whose ingest records what it gets ----

interface FakeManager {
  url: string;
  down: boolean;
  posts: AgentRecordsBody[];
  got: { agentId: string; hostname: string; receivedAt: number; dataType: number; fields: string }[];
  stop(): Promise<void>;
}

function fakeManager(): FakeManager {
  const f: FakeManager = { url: "", down: false, posts: [], got: [], stop: async () => {} };
  const app = new Hono();
  app.onError(createErrorHandler({ log: quietLog }));
  app.use(AGENT_RECORDS_PATH, async (c, next) => {
    if (f.down) return c.json({ code: 503, msg: "down" }, 503);
    f.posts.push(await c.req.raw.clone().json());
    return next();
  });
  internalRoutes(app, {
    secret: SECRET, log: quietLog,
    ingest: (b) => {
      for (const r of b.records) f.got.push({ agentId: b.agentId, hostname: b.hostname, receivedAt: b.receivedAt, dataType: r.dataType!, fields: Buffer.from(r.data!).toString() });
    },
  });
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  f.url = `http://127.0.0.1:${s.port}`;
  f.stop = async () => void (await s.stop(true));
  return f;
}

let at = 1_700_000_000_000;
function batch(agentId: string, records: [number, string][], hostname = `host-${agentId}`): AgentBatch {
  return {
    agentId, hostname, version: "1.0.0", product: PRODUCT, intranetIpv4: ["10.0.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
    seq: 0, receivedAt: at++, records: records.map(([dataType, s]) => ({ dataType, timestamp: 1, data: Buffer.from(s) })),
  };
}

const fast = { intervalMs: 30, minBackoffMs: 30, maxBackoffMs: 100 };

describe("manager feed", () => {
  test("only 1000/1001/5100 go; a batch whose scan shows none is not decoded", async () => {
    const mgr = fakeManager();
    const feed = startManagerFeed({ urls: [mgr.url], secret: SECRET, metrics: new AcMetrics(), log: quietLog, acAddr: "10.0.0.9:6751", ...fast });
    const scanned = { ...batch("a", []), dataTypes: Int32Array.of(59, 42), get records(): never { throw new Error("decoded") } };
    feed.add(scanned);
    feed.add(batch("a", [[59, "exec"], [DataType.AgentHeartbeat, "hb"], [DataType.PluginHeartbeat, "plugin"], [DataType.TaskResult, "result"], [2, "open"]]));
    expect(await waitFor(() => mgr.got.length === 3 && feed.stats().queued === 0)).toBe(true);
    expect(mgr.got.map((g) => [g.dataType, g.fields])).toEqual([[1000, "hb"], [1001, "plugin"], [5100, "result"]]);
    expect(mgr.posts[0]!.ac_addr).toBe("10.0.0.9:6751");
    expect(mgr.posts[0]!.batches).toHaveLength(1);
    expect(feed.stats()).toMatchObject({ queued: 0, sent: 3, failures: 0 });
    await feed.stop();
    await mgr.stop();
  });

  test("a full queue drops the oldest heartbeats first and keeps task results; order is kept", async () => {
    const mgr = fakeManager();
    mgr.down = true;
    const metrics = new AcMetrics();
    const feed = startManagerFeed({ urls: [mgr.url], secret: SECRET, metrics, log: quietLog, maxQueued: 5, ...fast });
    feed.add(batch("r", [[DataType.TaskResult, "r1"]]));
    for (let i = 1; i <= 4; i++) feed.add(batch("h", [[DataType.AgentHeartbeat, `hb${i}`]]));
    feed.add(batch("r", [[DataType.TaskResult, "r2"], [DataType.AgentHeartbeat, "hb5"]]));
    feed.add(batch("r", [[DataType.TaskResult, "r3"]]));
    expect(feed.stats().queued).toBe(5);
    expect(feed.stats().dropped.queue_full).toBe(3);
    expect(await waitFor(() => feed.stats().failures >= 2)).toBe(true); // retried while down, nothing lost
    expect(feed.stats().queued).toBe(5);
    mgr.down = false;
    expect(await waitFor(() => mgr.got.length === 5 && feed.stats().queued === 0)).toBe(true);
    expect(mgr.got.map((g) => g.fields)).toEqual(["r1", "hb4", "r2", "hb5", "r3"]);
    // only results left: the oldest result goes
    mgr.down = true;
    for (let i = 1; i <= 7; i++) feed.add(batch("r", [[DataType.TaskResult, `x${i}`]]));
    expect(feed.stats().dropped.queue_full).toBe(5);
    mgr.down = false;
    expect(await waitFor(() => mgr.got.length === 10 && feed.stats().queued === 0)).toBe(true);
    expect(mgr.got.slice(5).map((g) => g.fields)).toEqual(["x3", "x4", "x5", "x6", "x7"]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('vigil_ac_manager_feed_dropped_total{kind="heartbeat",reason="queue_full"} 3');
    expect(text).toContain('vigil_ac_manager_feed_dropped_total{kind="task_result",reason="queue_full"} 2');
    expect(text).toContain('vigil_ac_manager_feed_sent_total{kind="task_result"} 8');
    await feed.stop();
    await mgr.stop();
  });

  test("a POST holds at most postMaxRecords; a full post goes before the interval", async () => {
    const mgr = fakeManager();
    const feed = startManagerFeed({ urls: [mgr.url], secret: SECRET, metrics: new AcMetrics(), log: quietLog, postMaxRecords: 3, intervalMs: 60_000 });
    for (let i = 0; i < 7; i++) feed.add(batch(`a${i % 2}`, [[DataType.AgentHeartbeat, `hb${i}`]]));
    expect(await waitFor(() => mgr.got.length === 6)).toBe(true); // two full posts; the 7th waits for the interval
    expect(mgr.posts.map((p) => p.batches.reduce((n, b) => n + b.records.length, 0))).toEqual([3, 3]);
    await feed.stop(); // stop delivers the rest
    expect(mgr.got.map((g) => g.fields)).toEqual(["hb0", "hb1", "hb2", "hb3", "hb4", "hb5", "hb6"]);
    await mgr.stop();
  });

  test("the next Manager when one fails; identity and receive time pass through", async () => {
    const a = fakeManager();
    const b = fakeManager();
    a.down = true;
    const feed = startManagerFeed({ urls: [a.url, b.url], secret: SECRET, metrics: new AcMetrics(), log: quietLog, ...fast });
    const hb = batch("id-1", [[DataType.AgentHeartbeat, "x"]], "named");
    feed.add(hb);
    expect(await waitFor(() => b.got.length === 1)).toBe(true);
    expect(b.got[0]).toMatchObject({ agentId: "id-1", hostname: "named", receivedAt: hb.receivedAt });
    expect(b.posts[0]!.batches[0]).toMatchObject({ agent_id: "id-1", intranet_ipv4: ["10.0.0.1"], received_at: hb.receivedAt });
    expect(feed.stats().failures).toBe(1);
    feed.add(batch("id-1", [[DataType.AgentHeartbeat, "y"]]));
    expect(await waitFor(() => b.got.length === 2)).toBe(true);
    expect(feed.stats().failures).toBe(1); // it stays with the Manager that answered
    await feed.stop();
    await a.stop();
    await b.stop();
  });

  test("records the Manager would refuse are dropped and counted, not sent", async () => {
    const mgr = fakeManager();
    const feed = startManagerFeed({ urls: [mgr.url], secret: SECRET, metrics: new AcMetrics(), log: quietLog, ...fast });
    feed.add(batch("nul", [[DataType.AgentHeartbeat, "x"]], "bad\0name"));
    feed.add(batch("big", [[DataType.TaskResult, "x".repeat(300 * 1024)]]));
    feed.add(batch("ok", [[DataType.AgentHeartbeat, "fine"]]));
    expect(await waitFor(() => mgr.got.length === 1)).toBe(true);
    expect(feed.stats().dropped.invalid).toBe(2);
    expect(mgr.got[0]!.agentId).toBe("ok");
    await feed.stop();
    await mgr.stop();
  });

  test("stop delivers what it can, then counts the rest as dropped", async () => {
    const mgr = fakeManager();
    mgr.down = true;
    const feed = startManagerFeed({ urls: [mgr.url], secret: SECRET, metrics: new AcMetrics(), log: quietLog, intervalMs: 60_000 });
    feed.add(batch("s", [[DataType.TaskResult, "r"], [DataType.AgentHeartbeat, "h"]]));
    await feed.stop(500);
    expect(feed.stats()).toMatchObject({ queued: 0, sent: 0, dropped: { stopped: 2 } });
    feed.add(batch("s", [[DataType.TaskResult, "late"]]));
    expect(feed.stats().dropped.stopped).toBe(3);
    await mgr.stop();
  });
});

describe("ac.manager_urls", () => {
  test("YAML < VIGIL_MANAGER_URLS < --manager-urls; bad URLs stop start-up naming the setting", () => {
    expect(loadServerConfig({ env: {} }).ac.manager_urls).toBeUndefined();
    expect(loadServerConfig({ env: { VIGIL_MANAGER_URLS: "http://10.0.0.5:6701/, http://10.0.0.6:6701" } }).ac.manager_urls).toEqual(["http://10.0.0.5:6701", "http://10.0.0.6:6701"]);
    expect(loadServerConfig({ env: { VIGIL_MANAGER_URLS: "http://a:1" }, flags: { "manager-urls": "http://b:2" } }).ac.manager_urls).toEqual(["http://b:2"]);
    expect(() => loadServerConfig({ env: {}, flags: { "manager-urls": "ftp://x" } })).toThrow(/ac\.manager_urls/);
  });

  test("vigil-server forwards only when the Manager is not in the process", async () => {
    using d = tempDir();
    const common = ["--data-dir", join(d.path, "data"), "--listen", "127.0.0.1", "--ac-port", "0", "--ac-http-port", "0"];
    const acOnly = await startServer([...common, "--role", "ac", "--manager-urls", "http://127.0.0.1:9"]);
    expect(acOnly.ready.ac_manager_urls).toBe("http://127.0.0.1:9");
    expect(await acOnly.stop()).toBe(0);
    const alone = await startServer([...common, "--role", "ac"]);
    expect(alone.lines.join("\n")).toContain("no Manager will see");
    expect(await alone.stop()).toBe(0);
    const both = await startServer([...common, "--role", "ac,manager", "--manager-port", "0"], { VIGIL_MANAGER_URLS: "http://127.0.0.1:9" });
    expect(both.ready.ac_manager_urls).toBeUndefined();
    expect(both.lines.join("\n")).toContain("ac.manager_urls is ignored");
    expect(await both.stop()).toBe(0);
  }, 60_000);
});
