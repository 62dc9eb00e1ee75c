// Manager benchmark (issue 4): with N hosts (default 10,000), on SQLite and on PostgreSQL (a
// private server, test/support/postgres.ts) in the same run, two layers:
//  - repository: p50/p99 of the host list (filtered, paged), host detail, task creation +
//    dispatch bookkeeping for all hosts, straight on the Repository;
//  - HTTP: a real Manager (startManager, the real repository) with a logged-in token, over
//    loopback HTTP: host list, host detail, POST /api/v1/tasks for all hosts until no sub-task is
//    "created" (dispatched through a real AC, startAc with an event-store sink and no agent
//    connected, so the AC answers 404 for each and each sub-task turns failed "agent not
//    connected"), and GET /api/v1/events?agent_id&data_type on the embedded store holding M
//    events (default 1,000,000), which also serves the store's own queries.
// Prints a table with the issue's targets, then JSON (or --json FILE).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/common/log.ts";
import { encodePayload } from "../../src/common/proto.ts";
import { startAc } from "../../src/server/ac/index.ts";
import { createCa, issueLeaf } from "../../src/server/certs/issue.ts";
import { startManager } from "../../src/server/manager/index.ts";
import { openRepository } from "../../src/server/manager/repo/index.ts";
import type { HostFilter, Repository } from "../../src/server/manager/repo/types.ts";
import type { AgentBatch } from "../../src/server/sink.ts";
import { openEventStore, type EventStore } from "../../src/server/store/index.ts";
import { hasPostgres, noPostgresReason, startPostgres } from "../../test/support/postgres.ts";

const args = process.argv.slice(2);
const USAGE = "usage: scripts/bench/manager [--quick] [--hosts N] [--events N] [--iterations N] [--task-runs N] [--dialects sqlite,postgres] [--json FILE]";
const VALUED = new Set(["--hosts", "--events", "--iterations", "--task-runs", "--dialects", "--json"]);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--help" || args[i] === "-h") { console.log(USAGE); process.exit(0); }
  if (args[i] === "--quick") continue;
  if (!VALUED.has(args[i]!) || args[i + 1] === undefined) { console.error(`unknown or incomplete option ${args[i]}\n${USAGE}`); process.exit(2); }
  i++;
}
const opt = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const quick = args.includes("--quick");
const HOSTS = Number(opt("hosts", quick ? "2000" : "10000"));
const EVENTS = Number(opt("events", quick ? "100000" : "1000000"));
const ITER = Number(opt("iterations", quick ? "100" : "300"));
const TASK_RUNS = Number(opt("task-runs", quick ? "3" : "10"));
const DIALECTS = opt("dialects", "sqlite,postgres").split(",");
const jsonOut = opt("json", "");
const log = createLogger({ component: "bench", level: "warn" });
const TARGETS = { hostList: 50, hostDetail: 50, eventQuery: 100, taskAll: 5000 };
const SECRET = "bench-secret-0123456789";
const ADMIN_PASSWORD = "bench-admin-password";
const DATA_TYPES = [59, 42, 49, 601, 1001];

interface Stat { n: number; p50: number; p99: number; max: number }
function stat(ms: number[]): Stat {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1] };
}
async function timed(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(i); out.push(performance.now() - t); }
  return out;
}
let seed = 42;
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const agentId = (i: number) => `bench-${String(i).padStart(6, "0")}`;
const TAGS = ["prod", "staging", "web", "db", "cache", "eu", "us", "asia", "canary", "legacy"];
const VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "1.2.1", "2.0.0"];

async function seedHosts(repo: Repository, now: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < HOSTS; i += 1000) {
    const hbs = [];
    for (let j = i; j < Math.min(HOSTS, i + 1000); j++) {
      const base = { agentId: agentId(j), hostname: `${j % 3 ? "web" : "db"}-${j}.example.net`, intranetIpv4: [`10.${j >> 16}.${(j >> 8) & 255}.${j & 255}`], extranetIpv4: [`198.51.${(j >> 8) & 255}.${j & 255}`], intranetIpv6: [], extranetIpv6: [`2001:db8::${j.toString(16)}`], version: VERSIONS[j % VERSIONS.length], product: "vigil-agent", acAddr: "127.0.0.1:6751", at: now - (j % 10 === 0 ? 3_600_000 : rnd(60_000)) };
      hbs.push({ ...base, fields: { cpu: "0.1", rss: "12345", nproc: "8", kernel_version: "6.1.0" } });
      hbs.push({ ...base, plugin: "collector", fields: { cpu: "0.2", rss: "2345", pversion: "1.0.0" } });
    }
    await repo.recordHeartbeats(hbs);
  }
  const ms = performance.now() - t;
  for (const [k, tag] of TAGS.entries()) await repo.addTags(Array.from({ length: HOSTS }, (_, i) => i).filter((i) => i % TAGS.length === k || i % 7 === k).map(agentId), [tag]);
  return ms;
}

const FILTERS: [string, () => HostFilter][] = [
  ["none", () => ({})],
  ["hostname", () => ({ hostname: `web-${rnd(HOSTS)}` })],
  ["ip", () => ({ ip: `10.0.${rnd(HOSTS) >> 8 & 255}.${rnd(256)}` })],
  ["state", () => ({ state: rnd(2) ? "online" : "offline" })],
  ["tag", () => ({ tag: TAGS[rnd(TAGS.length)] })],
  ["version", () => ({ version: VERSIONS[rnd(VERSIONS.length)] })],
  ["tag+state+version", () => ({ tag: TAGS[rnd(TAGS.length)], state: "online", version: VERSIONS[rnd(VERSIONS.length)] })],
];

async function benchRepo(repo: Repository) {
  const now = Date.now();
  const onlineSince = now - 180_000;
  const seedMs = await seedHosts(repo, now);
  // the repository also refreshes statistics by itself after growth (repo/stats-upkeep.ts), in the
  // background; here explicitly, so every measurement below runs on current statistics
  const t = performance.now();
  await repo.refreshStats();
  const analyzeMs = performance.now() - t;
  const perFilter: Record<string, Stat> = {};
  const all: number[] = [];
  for (const [name, f] of FILTERS) {
    const ms = await timed(ITER, () => repo.listHosts(f(), { page: 1 + rnd(20), size: 50 }, onlineSince));
    perFilter[name] = stat(ms);
    all.push(...ms);
  }
  const detail = stat(await timed(ITER * 3, () => repo.getHost(agentId(rnd(HOSTS)))));
  const countOnline = stat(await timed(ITER, () => repo.countHosts(onlineSince)));
  const taskIds: string[] = [];
  const taskAll = stat(await timed(TASK_RUNS, async (r) => {
    const ids = await repo.hostIds({}, onlineSince);
    const { task } = await repo.createTask({ kind: "agent_ctrl", dataType: 1051, objectName: "vigil-agent", data: "{}", target: { all: true }, state: "created", createdBy: "bench", timeoutMs: 60_000 }, ids, (id) => `${r}-${id}-${crypto.randomUUID()}`);
    await repo.setTaskState(task.id, "dispatching", Date.now());
    await repo.setSubTasks(task.id, ids, "sent", "", Date.now());
    await repo.setTaskState(task.id, "dispatched", Date.now());
    taskIds.push(task.id);
  }));
  const summary = stat(await timed(ITER, () => repo.subTaskSummary(taskIds[rnd(taskIds.length)])));
  const complete = stat(await timed(ITER, (i) => repo.completeSubTask(`0-${agentId(i)}-x`, "succeeded", "", Date.now())));
  return { heartbeatSeedMs: Math.round(seedMs), analyzeMs: Math.round(analyzeMs), heartbeatsPerSec: Math.round((HOSTS * 2) / (seedMs / 1000)), hostList: stat(all), hostListByFilter: perFilter, hostDetail: detail, countOnline, taskCreateDispatchAll: taskAll, subTaskSummary: summary, completeUnknownToken: complete };
}

/** Fills the store with EVENTS events over the last hour and times its own queries; the store stays open. */
async function benchEvents(store: EventStore) {
  const perBatch = 50;
  const t = performance.now();
  const now = Date.now();
  let inflight: Promise<void>[] = [];
  for (let b = 0; b < EVENTS / perBatch; b++) {
    const a = rnd(HOSTS);
    const records = Array.from({ length: perBatch }, (_, i) => ({ dataType: DATA_TYPES[(b + i) % DATA_TYPES.length], timestamp: 1_700_000_000 + b, data: encodePayload({ exe: "/usr/bin/bash", argv: `bash -c echo ${b}-${i}`, pid: String(1000 + i), ppid: "1", uid: "0" }) }));
    const batch: AgentBatch = { agentId: agentId(a), hostname: `web-${a}`, version: "1.0.0", product: "vigil-agent", intranetIpv4: [], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [], seq: b, receivedAt: now - 3_600_000 + Math.floor((b * 3_600_000) / (EVENTS / perBatch)), records };
    inflight.push(store.write(batch));
    if (inflight.length >= 256) { await Promise.all(inflight); inflight = []; }
  }
  await Promise.all(inflight);
  const writeMs = performance.now() - t;
  const queries = Math.max(20, Math.floor(ITER / 5));
  const byHostType = stat(await timed(queries, () => store.query({ agentId: agentId(rnd(HOSTS)), dataType: DATA_TYPES[rnd(DATA_TYPES.length)], limit: 100 })));
  const recent = stat(await timed(queries, () => store.query({ agentId: agentId(rnd(HOSTS)), dataType: 59, sinceMs: now - 600_000, limit: 100 })));
  const stats = store.stats();
  return { events: EVENTS, writeMs: Math.round(writeMs), eventsPerSec: Math.round(EVENTS / (writeMs / 1000)), storeBytes: stats.bytes, segments: stats.segments, queryByHostAndType: byHostType, queryByHostTypeLast10min: recent };
}

const query = (f: HostFilter) => Object.entries(f).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join("&");

/** A real Manager on `url` (fresh database), dispatching through the AC at acUrl, events from `store`. */
async function benchHttp(url: string | undefined, dataDir: string, acUrl: string, store: EventStore) {
  const repo = await openRepository({ url, dataDir, log });
  const m = await startManager({ listen: "127.0.0.1", port: 0, repo, events: store, secret: SECRET, acUrls: [acUrl], dataDir, adminPassword: ADMIN_PASSWORD, log, dispatchConcurrency: 64 });
  try {
    const now = Date.now();
    await seedHosts(repo, now);
    await repo.refreshStats();
    const base = `http://127.0.0.1:${m.port}`;
    const login = await fetch(`${base}/api/v1/user/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    const token = ((await login.json()) as { data: { token: string } }).data.token;
    const get = async (path: string) => {
      const r = await fetch(base + path, { headers: { token } });
      const body = (await r.json()) as { data: any };
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${JSON.stringify(body)}`);
      return body.data;
    };
    const perFilter: Record<string, Stat> = {};
    const all: number[] = [];
    for (const [name, f] of FILTERS) {
      const ms = await timed(ITER, () => get(`/api/v1/hosts?${query(f())}&page=${1 + rnd(20)}&size=50`));
      perFilter[name] = stat(ms);
      all.push(...ms);
    }
    const detail = stat(await timed(ITER * 3, () => get(`/api/v1/hosts/${agentId(rnd(HOSTS))}`)));
    const create: number[] = [];
    let last: Record<string, number> = {};
    const untilDispatched = stat(await timed(TASK_RUNS, async () => {
      const t = performance.now();
      const r = await fetch(`${base}/api/v1/tasks`, { method: "POST", headers: { token, "content-type": "application/json" }, body: JSON.stringify({ kind: "agent_ctrl", data_type: 1051, data: { bench: true }, target: { all: true } }) });
      const body = (await r.json()) as { data: { task: { id: string }; subtasks: number } };
      if (r.status !== 200 || body.data.subtasks !== HOSTS) throw new Error(`POST /api/v1/tasks: HTTP ${r.status} ${JSON.stringify(body)}`);
      create.push(performance.now() - t);
      for (;;) {
        last = (await get(`/api/v1/tasks/${body.data.task.id}`)).summary;
        if (last.created === 0) break;
        await Bun.sleep(10);
      }
    }));
    await m.app.services.dispatcher.idle();
    const events = stat(await timed(Math.max(20, Math.floor(ITER / 5)), () => get(`/api/v1/events?agent_id=${agentId(rnd(HOSTS))}&data_type=${DATA_TYPES[rnd(DATA_TYPES.length)]}`)));
    return { hostList: stat(all), hostListByFilter: perFilter, hostDetail: detail, taskCreate: stat(create), taskUntilDispatched: untilDispatched, lastTaskSummary: last, eventQuery: events };
  } finally {
    await m.stop();
    await repo.close();
  }
}

const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);
function row(name: string, s: Stat, target?: number) {
  const ok = target === undefined ? "" : s.p99 <= target ? "ok" : "MISSED";
  console.log(`${name.padEnd(58)} ${String(s.n).padStart(5)} ${f(s.p50).padStart(9)} ${f(s.p99).padStart(9)} ${target === undefined ? "".padStart(9) : String(target).padStart(9)}  ${ok}`);
}

const results: Record<string, unknown> = { hosts: HOSTS, events: EVENTS, iterations: ITER, at: new Date().toISOString() };
const tmp = mkdtempSync(join(tmpdir(), "vigil-bench-manager-"));
try {
  const store = await openEventStore({ dir: join(tmp, "events"), retentionMs: 30 * 86_400_000, maxBytes: 64 * 2 ** 30, log });
  const ca = await createCa("Vigil bench CA");
  const leaf = await issueLeaf(ca, { commonName: "localhost", hosts: ["localhost", "127.0.0.1"], usage: "server" });
  const ac = await startAc({ listen: "127.0.0.1", grpcPort: 0, httpPort: 0, certs: { ca: Buffer.from(ca.certPem), cert: Buffer.from(leaf.certPem), key: Buffer.from(leaf.keyPem) }, secret: SECRET, sink: store, log });
  try {
    results.eventStore = await benchEvents(store);
    for (const d of DIALECTS) {
      if (d === "postgres" && !hasPostgres) { console.error(`postgres: skipped, ${noPostgresReason}`); continue; }
      const pg = d === "postgres" ? startPostgres() : undefined;
      try {
        const url = pg ? await pg.createDatabase("bench") : undefined;
        const repo = await openRepository({ url, dataDir: join(tmp, d), log });
        try { results[d] = await benchRepo(repo); } finally { await repo.close(); }
        const httpUrl = pg ? await pg.createDatabase("bench_http") : undefined;
        results[`${d}Http`] = await benchHttp(httpUrl, join(tmp, `${d}-http`), `http://127.0.0.1:${ac.httpPort}`, store);
      } finally { pg?.stop(); }
    }
  } finally {
    await ac.stop();
    await store.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`\nManager benchmark: ${HOSTS} hosts, ${EVENTS} events (times in ms; target = p99 bound)`);
console.log(`${"measure".padEnd(58)} ${"n".padStart(5)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"target".padStart(9)}`);
for (const d of DIALECTS) {
  const r = results[d] as Awaited<ReturnType<typeof benchRepo>> | undefined;
  if (!r) continue;
  row(`${d}: host list (paged 50, all filters)`, r.hostList, TARGETS.hostList);
  for (const [k, s] of Object.entries(r.hostListByFilter)) row(`${d}:   filter ${k}`, s);
  row(`${d}: host detail`, r.hostDetail, TARGETS.hostDetail);
  row(`${d}: count hosts / online`, r.countOnline);
  row(`${d}: task create+dispatch for all ${HOSTS} hosts`, r.taskCreateDispatchAll, TARGETS.taskAll);
  row(`${d}: sub-task summary (${HOSTS} sub-tasks)`, r.subTaskSummary);
  console.log(`${d}: heartbeat ingest ${r.heartbeatsPerSec}/s (seeding ${HOSTS} hosts x 2 heartbeats in ${r.heartbeatSeedMs} ms; ANALYZE ${r.analyzeMs} ms)`);
  const h = results[`${d}Http`] as Awaited<ReturnType<typeof benchHttp>> | undefined;
  if (!h) continue;
  row(`${d} HTTP: GET /api/v1/hosts (paged 50, all filters)`, h.hostList, TARGETS.hostList);
  for (const [k, s] of Object.entries(h.hostListByFilter)) row(`${d} HTTP:   filter ${k}`, s);
  row(`${d} HTTP: GET /api/v1/hosts/{id}`, h.hostDetail, TARGETS.hostDetail);
  row(`${d} HTTP: POST /api/v1/tasks (all ${HOSTS}), reply`, h.taskCreate);
  row(`${d} HTTP: same, until no sub-task is created`, h.taskUntilDispatched, TARGETS.taskAll);
  row(`${d} HTTP: GET /api/v1/events?agent_id&data_type`, h.eventQuery, TARGETS.eventQuery);
  console.log(`${d} HTTP: last task's sub-tasks ${JSON.stringify(h.lastTaskSummary)} (no agent connected: the AC answers 404 for each)`);
}
const ev = results.eventStore as Awaited<ReturnType<typeof benchEvents>>;
row(`event store: query by host + data_type`, ev.queryByHostAndType, TARGETS.eventQuery);
row(`event store: same, last 10 min`, ev.queryByHostTypeLast10min, TARGETS.eventQuery);
console.log(`event store: wrote ${ev.events} events in ${ev.writeMs} ms (${ev.eventsPerSec}/s), ${ev.segments} segments, ${(ev.storeBytes / 2 ** 20).toFixed(0)} MiB`);
const json = JSON.stringify(results, null, 2);
if (jsonOut) writeFileSync(jsonOut, json + "\n");
else console.log(json);
