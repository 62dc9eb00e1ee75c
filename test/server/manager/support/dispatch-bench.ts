// Ad-hoc measurement (not a test): create and dispatch one task to N hosts through a real AC
// (none connected, so every /command/ answers 404). bun test/server/manager/support/dispatch-bench.ts [N]
import { join } from "node:path";
import { openRepository } from "../../../../src/server/manager/repo/index.ts";
import { startManager } from "../../../../src/server/manager/index.ts";
import { SECRET, startFixture } from "../../ac/fixture.ts";
import { tempDir } from "../../../harness.ts";
import { heartbeat, quietLog } from "./fixture.ts";

const n = Number(process.argv[2] ?? 10_000);
using d = tempDir();
const ac = await startFixture(d.path);
const repo = await openRepository({ dataDir: join(d.path, "m"), log: quietLog });
const m = await startManager({ listen: "127.0.0.1", port: 0, repo, secret: SECRET, acUrls: [`http://127.0.0.1:${ac.ac.httpPort}`], dataDir: join(d.path, "m"), adminPassword: "admin-password", log: quietLog });
for (let i = 0; i < n; i += 1000) await repo.recordHeartbeats(Array.from({ length: Math.min(1000, n - i) }, (_, j) => heartbeat(`h${i + j}`)));
const base = `http://127.0.0.1:${m.port}`;
const token = ((await (await fetch(`${base}/api/v1/user/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "admin-password" }) })).json()) as any).data.token;
const t0 = performance.now();
const r = (await (await fetch(`${base}/api/v1/tasks`, { method: "POST", headers: { token, "content-type": "application/json" }, body: JSON.stringify({ kind: "agent_ctrl", data_type: 1060, target: { all: true } }) })).json()) as any;
const created = performance.now() - t0;
await m.app.services.dispatcher.idle();
const total = performance.now() - t0;
console.log(JSON.stringify({ hosts: n, subtasks: r.data.subtasks, create_ms: Math.round(created), create_and_dispatch_ms: Math.round(total), summary: await repo.subTaskSummary(r.data.task.id) }));
await m.stop();
await ac.stop();
await repo.close();
