// Runs repository suites on both dialects (a fresh SQLite file or PostgreSQL database per test,
// the PostgreSQL server from test/support/postgres.ts per suite), plus factories with overrides.
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../../src/common/log.ts";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import type { Component, HostHeartbeat, Repository, Task } from "../../../../src/server/manager/repo/types.ts";
import { hasPostgres, noPostgresReason, startPostgres, type PgServer } from "../../../support/postgres.ts";

export const DIALECTS = ["sqlite", "postgres"] as const;
export type Dialect = (typeof DIALECTS)[number];
export const silentLog = createLogger({ component: "test", write: () => {} });

export class Harness {
  repo!: Repository;
  url: string | undefined;
  dataDir = "";
  pg: PgServer | undefined;
  constructor(readonly dialect: Dialect) {}
  async fresh(): Promise<void> {
    this.dataDir = mkdtempSync(join(tmpdir(), "vigil-repo-"));
    this.url = this.pg ? await this.pg.createDatabase() : undefined;
    this.repo = await this.open();
  }
  /** another Repository on the same database */
  open(): Promise<Repository> {
    return openRepository({ url: this.url, dataDir: this.dataDir, log: silentLog });
  }
  /** close and open again (a Manager restart) */
  async reopen(): Promise<Repository> {
    await this.repo.close();
    this.repo = await this.open();
    return this.repo;
  }
  async dispose(): Promise<void> {
    await this.repo?.close().catch(() => {});
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** describe(title) once per dialect; body gets a Harness whose repo is fresh for every test. */
export function eachDialect(title: string, body: (h: Harness) => void): void {
  describe.each([...DIALECTS])(`${title} [%s]`, (dialect) => {
    if (dialect === "postgres" && !hasPostgres) {
      test.skip(`skipped: ${noPostgresReason}`, () => {});
      return;
    }
    const h = new Harness(dialect);
    beforeAll(() => { if (dialect === "postgres") h.pg = startPostgres(); });
    afterAll(() => h.pg?.stop());
    beforeEach(() => h.fresh());
    afterEach(() => h.dispose());
    body(h);
  });
}

export function heartbeat(o: Partial<HostHeartbeat> = {}): HostHeartbeat {
  return {
    agentId: "agent-1", hostname: "web-1", intranetIpv4: ["10.0.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
    version: "1.0.0", product: "vigil-agent", acAddr: "127.0.0.1:6751", at: 1_000_000, fields: { cpu: "0.5" }, ...o,
  };
}

export function taskInput(o: Partial<Omit<Task, "id" | "createdAt" | "updatedAt">> = {}): Omit<Task, "id" | "createdAt" | "updatedAt"> {
  return { kind: "agent_ctrl", dataType: 1060, objectName: "vigil-agent", data: "{}", target: { all: true }, state: "created", createdBy: "admin", timeoutMs: 60_000, ...o };
}

export function componentInput(o: Partial<Omit<Component, "id" | "createdAt">> = {}): Omit<Component, "id" | "createdAt"> {
  return { name: "collector", type: "plugin", version: "1.0.0", sha256: "ab".repeat(32), size: 1234, path: "components/collector-1.0.0", createdBy: "admin", ...o };
}

/** Strings that would break naive SQL building; each must come back verbatim. */
export const HOSTILE = [
  "'; DROP TABLE users; --",
  "Robert\"); DELETE FROM hosts; --",
  "1 OR 1=1",
  "%_\\",
  "$1 ?; SELECT pg_sleep(10)",
  "ünïcødé ✓ 漢字",
];
