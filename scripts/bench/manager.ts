// Manager benchmark (issue 4): with N hosts (default 10,000) in the repository, on SQLite and on
// PostgreSQL (a private server, test/support/postgres.ts) in the same run: p50/p99 of the host
// list (filtered, paged), host detail, and task creation + dispatch bookkeeping for all hosts;
// plus an event query by host and data_type in the embedded event store holding M events
// (default 1,000,000). Repository-level timings; prints a table with the targets and JSON.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/common/log.ts";
import { encodePayload } from "../../src/common/proto.ts";
import { openRepository } from "../../src/server/manager/repo/index.ts";
import type { HostFilter, Repository } from "../../src/server/manager/repo/types.ts";
import type { AgentBatch } from "../../src/server/sink.ts";
import { openEventStore } from "../../src/server/store/index.ts";
import { hasPostgres, noPostgresReason, startPostgres } from "../../test/support/postgres.ts";

const args = process.argv.slice(2);
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

async function benchRepo(repo: Repository) {
  const now = Date.now();
  const onlineSince = now - 180_000;
  const seedMs = await seedHosts(repo, now);
  const filters: [string, () => HostFilter][] = [
    ["none", () => ({})],
    ["hostname", () => ({ hostname: `web-${rnd(HOSTS)}` })],
    ["ip", () => ({ ip: `10.0.${rnd(HOSTS) >> 8 & 255}.${rnd(256)}` })],
    ["state", () => ({ state: rnd(2) ? "online" : "offline" })],
    ["tag", () => ({ tag: TAGS[rnd(TAGS.length)] })],
    ["version", () => ({ version: VERSIONS[rnd(VERSIONS.length)] })],
    ["tag+state+version", () => ({ tag: TAGS[rnd(TAGS.length)], state: "online", version: VERSIONS[rnd(VERSIONS.length)] })],
  ];
  const perFilter: Record<string, Stat> = {};
  const all: number[] = [];
  for (const [name, f] of filters) {
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
  return { heartbeatSeedMs: Math.round(seedMs), heartbeatsPerSec: Math.round((HOSTS * 2) / (seedMs / 1000)), hostList: stat(all), hostListByFilter: perFilter, hostDetail: detail, countOnline, taskCreateDispatchAll: taskAll, subTaskSummary: summary, completeUnknownToken: complete };
}

async function benchEvents(dir: string) {
  const store = await openEventStore({ dir, retentionMs: 30 * 86_400_000, maxBytes: 64 * 2 ** 30, log });
  const dataTypes = [59, 42, 49, 601, 1001];
  const perBatch = 50;
  const t = performance.now();
  const now = Date.now();
  let inflight: Promise<void>[] = [];
  for (let b = 0; b < EVENTS / perBatch; b++) {
    const a = rnd(HOSTS);
    const records = Array.from({ length: perBatch }, (_, i) => ({ dataType: dataTypes[(b + i) % dataTypes.length], timestamp: 1_700_000_000 + b, data: encodePayload({ exe: "/usr/bin/bash", argv: `bash -c echo ${b}-${i}`, pid: String(1000 + i), ppid: "1", uid: "0" }) }));
    const batch: AgentBatch = { agentId: agentId(a), hostname: `web-${a}`, version: "1.0.0", product: "vigil-agent", intranetIpv4: [], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [], seq: b, receivedAt: now - 3_600_000 + Math.floor((b * 3_600_000) / (EVENTS / perBatch)), records };
    inflight.push(store.write(batch));
    if (inflight.length >= 256) { await Promise.all(inflight); inflight = []; }
  }
  await Promise.all(inflight);
  const writeMs = performance.now() - t;
  const queries = Math.max(20, Math.floor(ITER / 5));
  const byHostType = stat(await timed(queries, () => store.query({ agentId: agentId(rnd(HOSTS)), dataType: dataTypes[rnd(dataTypes.length)], limit: 100 })));
  const recent = stat(await timed(queries, () => store.query({ agentId: agentId(rnd(HOSTS)), dataType: 59, sinceMs: now - 600_000, limit: 100 })));
  const stats = store.stats();
  await store.close();
  return { events: EVENTS, writeMs: Math.round(writeMs), eventsPerSec: Math.round(EVENTS / (writeMs / 1000)), storeBytes: stats.bytes, segments: stats.segments, queryByHostAndType: byHostType, queryByHostTypeLast10min: recent };
}

const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);
function row(name: string, s: Stat, target?: number) {
  const ok = target === undefined ? "" : s.p99 <= target ? "ok" : "MISSED";
  console.log(`${name.padEnd(44)} ${String(s.n).padStart(5)} ${f(s.p50).padStart(9)} ${f(s.p99).padStart(9)} ${target === undefined ? "".padStart(9) : String(target).padStart(9)}  ${ok}`);
}

const results: Record<string, unknown> = { hosts: HOSTS, events: EVENTS, iterations: ITER, at: new Date().toISOString() };
const tmp = mkdtempSync(join(tmpdir(), "vigil-bench-manager-"));
try {
  for (const d of DIALECTS) {
    if (d === "postgres" && !hasPostgres) { console.error(`postgres: skipped, ${noPostgresReason}`); continue; }
    const pg = d === "postgres" ? startPostgres() : undefined;
    try {
      const url = pg ? await pg.createDatabase("bench") : undefined;
      const repo = await openRepository({ url, dataDir: join(tmp, d), log });
      try { results[d] = await benchRepo(repo); } finally { await repo.close(); }
    } finally { pg?.stop(); }
  }
  results.eventStore = await benchEvents(join(tmp, "events"));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log(`\nManager benchmark: ${HOSTS} hosts, ${EVENTS} events (times in ms; target = p99 bound)`);
console.log(`${"measure".padEnd(44)} ${"n".padStart(5)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"target".padStart(9)}`);
for (const d of DIALECTS) {
  const r = results[d] as Awaited<ReturnType<typeof benchRepo>> | undefined;
  if (!r) continue;
  row(`${d}: host list (paged 50, all filters)`, r.hostList, TARGETS.hostList);
  for (const [k, s] of Object.entries(r.hostListByFilter)) row(`${d}:   filter ${k}`, s);
  row(`${d}: host detail`, r.hostDetail, TARGETS.hostDetail);
  row(`${d}: count hosts / online`, r.countOnline);
  row(`${d}: task create+dispatch for all ${HOSTS} hosts`, r.taskCreateDispatchAll, TARGETS.taskAll);
  row(`${d}: sub-task summary (${HOSTS} sub-tasks)`, r.subTaskSummary);
  console.log(`${d}: heartbeat ingest ${r.heartbeatsPerSec}/s (seeding ${HOSTS} hosts x 2 heartbeats in ${r.heartbeatSeedMs} ms)`);
}
const ev = results.eventStore as Awaited<ReturnType<typeof benchEvents>>;
row(`event store: query by host + data_type`, ev.queryByHostAndType, TARGETS.eventQuery);
row(`event store: same, last 10 min`, ev.queryByHostTypeLast10min, TARGETS.eventQuery);
console.log(`event store: wrote ${ev.events} events in ${ev.writeMs} ms (${ev.eventsPerSec}/s), ${ev.segments} segments, ${(ev.storeBytes / 2 ** 20).toFixed(0)} MiB`);
const json = JSON.stringify(results, null, 2);
if (jsonOut) writeFileSync(jsonOut, json + "\n");
else console.log(json);
