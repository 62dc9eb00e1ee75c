// Planner statistics upkeep (repo/stats-upkeep.ts): both repositories analyze their tables by
// themselves once they have grown, and on refreshStats(); the scheduler's thresholds on their own.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createStatsUpkeep } from "../../../../src/server/manager/repo/stats-upkeep.ts";
import { eachDialect, heartbeat, type Harness } from "./fixture.ts";

/** the tables that have planner statistics, read on a connection of the test's own */
async function analyzed(h: Harness): Promise<string[]> {
  if (h.dialect === "sqlite") {
    const db = new Database(join(h.dataDir, "manager.db"), { readonly: true });
    try {
      const has = db.query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get();
      return has ? (db.query("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl").all() as { tbl: string }[]).map((r) => r.tbl) : [];
    } finally {
      db.close();
    }
  }
  const sql = postgres(h.url!, { max: 1, onnotice: () => {} });
  try {
    return (await sql`SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL ORDER BY relname`).map((r) => r.relname as string);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function eventually(f: () => Promise<boolean>, tries = 250): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await f()) return true;
    await Bun.sleep(20);
  }
  return false;
}

const hosts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => heartbeat({ agentId: `a${from + i}`, hostname: `web-${from + i}`, intranetIpv4: [`10.1.${(from + i) >> 8}.${(from + i) & 255}`] }));

eachDialect("planner statistics", (h) => {
  test("a few rows: no ANALYZE; 1,200 new hosts: hosts and host_addrs analyzed in the background", async () => {
    await h.repo.recordHeartbeats(hosts(10));
    await h.repo.addTags(["a1"], ["prod"]);
    expect(await analyzed(h)).not.toContain("hosts");
    await h.repo.recordHeartbeats(hosts(1200, 10));
    expect(await eventually(async () => (await analyzed(h)).includes("hosts") && (await analyzed(h)).includes("host_addrs"))).toBe(true);
    expect(await analyzed(h)).not.toContain("host_tags");
    // listing still answers the same after the refresh
    expect((await h.repo.listHosts({ hostname: "web-100" }, { page: 1, size: 50 }, 0)).total).toBe(11); // web-100, web-1000..1009
  });

  test("refreshStats() analyzes every growing table now; close() right after growth is clean", async () => {
    await h.repo.recordHeartbeats(hosts(20));
    await h.repo.addTags(hosts(20).map((x) => x.agentId), ["web"]);
    await h.repo.refreshStats();
    expect(await eventually(async () => { const a = await analyzed(h); return ["host_addrs", "host_tags", "hosts"].every((t) => a.includes(t)); })).toBe(true);
    await h.repo.recordHeartbeats(hosts(1500, 100));
    await h.repo.close();
    h.repo = await h.open();
    expect((await h.repo.countHosts(0)).total).toBe(1520);
  });
});

describe("stats upkeep scheduler", () => {
  test("thresholds: max(minRows, fraction × size at the last refresh); one table at a time; retried after a failure", async () => {
    const runs: string[][] = [];
    let fail = false;
    const u = createStatsUpkeep({ tables: ["a", "b"], minRows: 100, fraction: 0.5, analyze: async (t) => { runs.push(t); if (fail) throw new Error("boom"); }, onError: () => {} });
    u.note("a", 99);
    u.note("x", 1000);
    await Bun.sleep(1);
    expect(runs).toEqual([]);
    u.note("a", 1);
    await Bun.sleep(1);
    expect(runs).toEqual([["a"]]);
    // a has 100 rows now: the next refresh needs max(100, 50) more
    u.note("a", 99);
    await Bun.sleep(1);
    expect(runs.length).toBe(1);
    fail = true;
    u.note("a", 1);
    await Bun.sleep(1);
    expect(runs).toEqual([["a"], ["a"]]);
    fail = false;
    u.note("a", 1); // the failed 100 are pending again
    await Bun.sleep(1);
    expect(runs).toEqual([["a"], ["a"], ["a"]]);
    await u.refresh();
    expect(runs.at(-1)).toEqual(["a", "b"]);
    await u.close();
    u.note("b", 10_000);
    await Bun.sleep(1);
    expect(runs.length).toBe(4);
  });
});
