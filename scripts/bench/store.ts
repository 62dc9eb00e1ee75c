// Event store benchmark (issue 4: event query by host + data_type p99 ≤ 100 ms at 1,000,000
// events over 10,000 hosts). For each mode (default: without the index, as before it, then with
// it; same data, fresh directory each) it ingests EVENTS records as the AC hands them over
// (WireBatch: PackagedData bytes, agent_id appended by the store) with 256 writes in flight, then
// times queries by host + data_type, and by host + data_type + last 10 minutes, both in the
// writer process (EventStore.query) and as a reader in another process would run them
// (scanEvents on the directory: saved index files, the active segment read in order).
// Prints a table, then JSON (or --json FILE).
//   bun scripts/bench/store.ts [--events N] [--hosts N] [--per-batch N] [--queries N]
//                              [--modes noindex,index] [--segment-mib N] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/common/log.ts";
import { encodePayload, grpc } from "../../src/common/proto.ts";
import type { WireBatch } from "../../src/server/store/entry.ts";
import { openEventStore, type EventQuery } from "../../src/server/store/index.ts";
import { scanEvents } from "../../src/server/store/query.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const EVENTS = Number(opt("events", "1000000"));
const HOSTS = Number(opt("hosts", "10000"));
const PER_BATCH = Number(opt("per-batch", "50"));
const QUERIES = Number(opt("queries", "300"));
const MODES = opt("modes", "noindex,index").split(",");
const SEGMENT_MIB = opt("segment-mib", "");
const jsonOut = opt("json", "");
const TARGET_P99_MS = 100;
const DATA_TYPES = [59, 42, 49, 601, 1001];
const POOL = 512;
const log = createLogger({ component: "bench", level: "warn" });

interface Stat { n: number; p50: number; p99: number; max: number }
function stat(ms: number[]): Stat {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1]) };
}
let seed = 42;
const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const agentId = (i: number) => `bench-${String(i).padStart(6, "0")}`;

// a pool of PackagedData wire bytes (without agent_id, as from an Elkeid agent), built up front
const pool = Array.from({ length: POOL }, (_, b) => grpc.PackagedData.encode({
  records: Array.from({ length: PER_BATCH }, (_, i) => ({ dataType: DATA_TYPES[(b + i) % DATA_TYPES.length], timestamp: 1_700_000_000 + b, data: encodePayload({ exe: "/usr/bin/bash", argv: `bash -c echo ${b}-${i}`, pid: String(1000 + i), ppid: "1", uid: "0" }) })),
  hostname: `web-${b}`, version: "1.0.0", product: "vigil-agent", seq: b,
}).finish());

async function runMode(mode: string) {
  const indexed = mode === "index";
  const dir = mkdtempSync(join(tmpdir(), "vigil-store-bench-"));
  try {
    const store = await openEventStore({ dir, retentionMs: 30 * 86_400_000, maxBytes: 64 * 2 ** 30, index: indexed, log, ...(SEGMENT_MIB ? { segmentBytes: Number(SEGMENT_MIB) * 2 ** 20 } : {}) });
    const batches = Math.ceil(EVENTS / PER_BATCH);
    const now = Date.now();
    seed = 42;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let inflight: Promise<void>[] = [];
    for (let b = 0; b < batches; b++) {
      const a = rnd(HOSTS);
      const wire = pool[b % POOL];
      const batch: WireBatch = {
        agentId: agentId(a), hostname: `web-${a}`, version: "1.0.0", product: "vigil-agent", intranetIpv4: [], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [], seq: b,
        receivedAt: now - 3_600_000 + Math.floor((b * 3_600_000) / batches), wire, wireHasAgentId: false, recordCount: PER_BATCH,
        get records(): never { throw new Error("the store must not decode records at ingest"); },
      };
      inflight.push(store.write(batch));
      if (inflight.length >= 256) { await Promise.all(inflight); inflight = []; }
    }
    await Promise.all(inflight);
    const writeMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const st = store.stats();
    const byType = (): EventQuery => ({ agentId: agentId(rnd(HOSTS)), dataType: DATA_TYPES[rnd(DATA_TYPES.length)], limit: 100 });
    const recent = (): EventQuery => ({ agentId: agentId(rnd(HOSTS)), dataType: 59, sinceMs: now - 600_000, limit: 100 });
    const time = async (mk: () => EventQuery, run: (q: EventQuery) => Promise<number> | number) => {
      const ms: number[] = [];
      let found = 0;
      for (let i = 0; i < QUERIES; i++) { const q = mk(); const t = performance.now(); found += await run(q); ms.push(performance.now() - t); }
      return { ...stat(ms), avgFound: Math.round((found / QUERIES) * 10) / 10 };
    };
    seed = 7;
    const inProcess = (q: EventQuery) => store.query(q).then((r) => r.length);
    const reader = (q: EventQuery) => { let n = 0; scanEvents(dir, q, () => void n++, { index: indexed ? undefined : false }); return n; };
    const result = {
      mode, events: st.recordsWritten, batches: st.batchesWritten, segments: st.segments, storeMiB: Math.round(st.bytes / 2 ** 20),
      ingest: { ms: Math.round(writeMs), recordsPerSec: Math.round(st.recordsWritten / (writeMs / 1000)), cpuMs: Math.round(cpuMs), cpuUsPerRecord: Math.round((cpuMs * 1000 / st.recordsWritten) * 100) / 100, commits: st.commits },
      queryHostType: await time(byType, inProcess),
      queryHostTypeSince: await time(recent, inProcess),
      readerHostType: await time(byType, reader),
      readerHostTypeSince: await time(recent, reader),
    };
    const c0 = performance.now();
    await store.close();
    const closeMs = Math.round(performance.now() - c0);
    const o0 = performance.now();
    const again = await openEventStore({ dir, retentionMs: 30 * 86_400_000, maxBytes: 64 * 2 ** 30, index: indexed, log });
    const reopenMs = Math.round(performance.now() - o0);
    await again.close();
    return { ...result, closeMs, reopenMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Awaited<ReturnType<typeof runMode>>[] = [];
for (const m of MODES) results.push(await runMode(m));

console.log(`\nEvent store benchmark: ${EVENTS} events, ${HOSTS} hosts, ${PER_BATCH} records per batch, ${QUERIES} queries each (ms; target p99 ≤ ${TARGET_P99_MS})`);
const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(`${"".padEnd(44)}${pad("p50", 9)}${pad("p99", 9)}${pad("max", 9)}  target`);
for (const r of results) {
  console.log(`[${r.mode}] ingest ${r.ingest.recordsPerSec} records/s, ${r.ingest.cpuUsPerRecord} µs CPU/record, ${r.ingest.commits} commits, ${r.segments} segments, ${r.storeMiB} MiB, reopen ${r.reopenMs} ms`);
  for (const [name, s] of [["writer: host + data_type", r.queryHostType], ["writer: host + data_type + last 10 min", r.queryHostTypeSince], ["reader process: host + data_type", r.readerHostType], ["reader process: + last 10 min", r.readerHostTypeSince]] as const) {
    console.log(`  ${name.padEnd(42)}${pad(s.p50, 9)}${pad(s.p99, 9)}${pad(s.max, 9)}  ${s.p99 <= TARGET_P99_MS ? "ok" : "MISSED"}`);
  }
}
const out = JSON.stringify({ events: EVENTS, hosts: HOSTS, perBatch: PER_BATCH, queries: QUERIES, at: new Date().toISOString(), results }, null, 2);
if (jsonOut) writeFileSync(jsonOut, out + "\n");
else console.log(out);
