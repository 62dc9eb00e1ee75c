// Test fixture for the Manager's routes: a real repository (SQLite in a temp dir, or a
// PostgreSQL URL), the app from createManagerApp(), users of every role with tokens, and
// helpers to call routes and seed hosts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import type { HostHeartbeat, Repository, UserRole } from "../../../../src/server/manager/repo/types.ts";
import { createManagerApp, type ManagerApp, type ManagerAppOptions } from "../../../../src/server/manager/index.ts";
import { createHttpAcClient, type AcClient } from "../../../../src/server/manager/services/ac-client.ts";
import { hashPassword } from "../../../../src/server/manager/auth/passwords.ts";
import type { EventStore } from "../../../../src/server/store/index.ts";
import { quietLog } from "../../store/batches.ts";

export { quietLog };
export const PASSWORD = "correct-horse-battery";

export interface Fixture {
  dir: string;
  repo: Repository;
  app: ManagerApp;
  tokens: Record<UserRole, string>;
  call(method: string, path: string, o?: { token?: string | null; body?: unknown; raw?: BodyInit; headers?: Record<string, string> }): Promise<{ status: number; body: any; res: Response }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface FixtureOptions {
  url?: string;
  acClient?: AcClient;
  events?: EventStore;
  config?: Partial<ManagerAppOptions["config"]>;
}

export async function managerFixture(o: FixtureOptions = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-manager-"));
  const repo = await openRepository({ url: o.url, dataDir: dir, log: quietLog });
  const app = createManagerApp({
    repo, events: o.events, log: quietLog, config: { dataDir: dir, ...o.config },
    acClient: o.acClient ?? createHttpAcClient({ secret: "unused", acUrls: [], log: quietLog }),
  });
  const call: Fixture["call"] = async (method, path, c = {}) => {
    const headers: Record<string, string> = { ...c.headers };
    if (c.token) headers.token = c.token;
    let body: BodyInit | undefined = c.raw;
    if (c.body !== undefined) {
      body = JSON.stringify(c.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.clone().text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed, res };
  };
  const tokens = {} as Record<UserRole, string>;
  const hash = await hashPassword(PASSWORD);
  for (const role of ["admin", "operator", "viewer"] as const) {
    await repo.createUser({ username: `${role}1`, role, passwordHash: hash });
    const r = await call("POST", "/api/v1/user/login", { body: { username: `${role}1`, password: PASSWORD } });
    if (r.status !== 200) throw new Error(`fixture login failed: ${JSON.stringify(r.body)}`);
    tokens[role] = r.body.data.token;
  }
  const close = async () => {
    await app.services.dispatcher.idle();
    await app.services.policyPush.idle();
    await repo.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, repo, app, tokens, call, close, [Symbol.asyncDispose]: close };
}

export function heartbeat(agentId: string, over: Partial<HostHeartbeat> = {}): HostHeartbeat {
  return {
    agentId, hostname: `host-${agentId}`, intranetIpv4: ["10.0.0.1"], extranetIpv4: [], intranetIpv6: [], extranetIpv6: [],
    version: "1.0.0", product: "vigil-agent", acAddr: "127.0.0.1:6751", at: Date.now(), fields: { platform: "debian", spool_depth: "0" }, ...over,
  };
}
