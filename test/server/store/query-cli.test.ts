// `vigil-server events query` in a separate process while the store is open for writing: JSON
// lines in trace's shape plus agent_id and hostname, text lines, filters, and usage errors.
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { join } from "node:path";
import { tempDir, run, bun } from "../../harness.ts";
import { openEventStore, type EventStore } from "../../../src/server/store/index.ts";
import { makeBatch, quietLog as log } from "./batches.ts";

const entry = join(import.meta.dir, "query-cli-entry.ts");
let dir: ReturnType<typeof tempDir>;
let store: EventStore;
const q = (...args: string[]) => run([bun, entry, "--data-dir", dir.path, ...args]);

beforeAll(async () => {
  dir = tempDir();
  store = await openEventStore({ dir: join(dir.path, "events"), retentionMs: 86_400_000, maxBytes: 1 << 30, log });
  await store.write(makeBatch({ agentId: "a1", n: 3, dataType: 59, fields: { argv: "ls -l" } }));
  await store.write(makeBatch({ agentId: "a2", n: 2, dataType: 42, first: 10 }));
  await store.write(makeBatch({ agentId: "a1", n: 1, dataType: 1000, first: 20, fields: { ts_ns: "1700000000123456789" } }));
  await store.write(makeBatch({ agentId: "a1", n: 1, dataType: 4242, first: 30 }));
});
afterAll(async () => {
  await store.close();
  dir[Symbol.dispose]();
});

describe("vigil-server events query", () => {
  test("JSON lines with the event name, exact ns timestamps, agent_id and hostname", async () => {
    const r = await q("--format", "json");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(7);
    expect(lines[0]).toEqual({ data_type: 59, event: "execve", timestamp: 1_700_000_000_000_000_000, fields: { n: "0", exe: "/usr/bin/true", argv: "ls -l" }, agent_id: "a1", hostname: "host-1" });
    expect(Object.keys(lines[0])).toEqual(["data_type", "event", "timestamp", "fields", "agent_id", "hostname"]);
    expect(lines[3].event).toBe("connect");
    expect(lines[5].event).toBe("heartbeat");
    expect(r.stdout).toContain('"timestamp":1700000000123456789,'); // exact digits
    expect(lines[6].event).toBe("dt_4242");
  });

  test("filters: --agent, --data-type, --since, --limit", async () => {
    const count = async (...a: string[]) => (await q(...a)).stdout.trim().split("\n").filter(Boolean).length;
    expect(await count("--agent", "a1")).toBe(5);
    expect(await count("--agent", "a2", "--data-type", "42")).toBe(2);
    expect(await count("--data-type", "1000")).toBe(1);
    expect(await count("--since", "1h")).toBe(7);
    expect(await count("--limit", "2")).toBe(2);
    expect(await count("--agent", "nobody")).toBe(0);
  });

  test("text format", async () => {
    const r = await q("--format", "text", "--agent", "a1", "--data-type", "59", "--limit", "1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2023-11-14T22:13:20\.000Z execve\(59\) agent_id=a1 hostname="host-1" n=0 exe=\/usr\/bin\/true argv="ls -l"\n$/);
  });

  test("bad input: exit 2 with a message naming the option", async () => {
    for (const [args, re] of [
      [["--format", "yaml"], /--format must be json or text/],
      [["--data-type", "execve"], /--data-type must be a whole number/],
      [["--limit", "0"], /--limit must be a whole number ≥ 1/],
      [["--since", "yesterday"], /--since: expected a duration/],
      [["--bogus"], /bogus/],
      [["stray"], /stray|positional/i],
    ] as const) {
      const r = await q(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const missing = await run([bun, entry, "--data-dir", join(dir.path, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no event store at/);
  }, 30_000);
});
