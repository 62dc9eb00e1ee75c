// Commands from the AC, over real mutual TLS: 1050 uploads a file through FileExt (it arrives
// intact), 1051 sets idc/region (persisted, in the next heartbeat), 1060 restarts (exit code 75),
// other object_names and bad task data fail; every task is answered with a 5100 record.
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, RESTART_EXIT_CODE } from "../../src/agent/daemon/index.ts";
import { DataType, PRODUCT } from "../../src/common/wire.ts";
import { tempDir, waitFor, root, bun, run } from "../harness.ts";
import { startMiniAc, type MiniAc } from "./support/mini-ac.ts";
import { captureLog, makeCerts, testConfig } from "./support/agent-env.ts";

const dir = tempDir("vigil-agent-tasks-");
afterAll(() => dir[Symbol.dispose]());
const certs = await makeCerts(dir.path);

const result = (ac: MiniAc, token: string) => ac.records(DataType.TaskResult).find((r) => r.fields.token === token)?.fields;

async function withAgent(fn: (ac: MiniAc, d: ReturnType<typeof startDaemon>, dataDir: string) => Promise<void>): Promise<void> {
  const ac = await startMiniAc({ certsDir: certs });
  const dataDir = join(dir.path, `data-${Math.random().toString(36).slice(2)}`);
  const d = startDaemon({ config: testConfig({ certs, dataDir, ac: [ac.address], agent_id: "task-agent" }), version: "t", log: captureLog().log });
  try {
    expect(await waitFor(() => ac.streams() > 0 && ac.records(DataType.AgentHeartbeat).length > 0, 10_000)).toBe(true);
    await fn(ac, d, dataDir);
  } finally {
    await d.stop();
    await ac.stop();
  }
}

const task = (dataType: number, data: unknown, token: string, objectName = PRODUCT) =>
  ({ task: { dataType, objectName, data: typeof data === "string" ? data : JSON.stringify(data), token } });

describe("tasks", () => {
  test("1050 uploads a file through FileExt, intact, and reports 5100 succeeded", async () => {
    await withAgent(async (ac) => {
      const file = join(dir.path, "evidence.bin");
      const content = randomBytes(300_000 + 17);
      writeFileSync(file, content);
      ac.send(task(DataType.UploadFile, { path: file, buf_size: 10_000 }, "up-1"));
      expect(await waitFor(() => result(ac, "up-1") !== undefined, 15_000)).toBe(true);
      expect(result(ac, "up-1")!.status).toBe("succeeded");
      expect(ac.uploads.get("up-1")!.equals(content)).toBe(true);
      // a file that does not exist: failed, with the reason
      ac.send(task(DataType.UploadFile, { path: join(dir.path, "nope") }, "up-2"));
      expect(await waitFor(() => result(ac, "up-2") !== undefined, 15_000)).toBe(true);
      expect(result(ac, "up-2")!.status).toBe("failed");
      expect(result(ac, "up-2")!.msg).toContain("ENOENT");
    });
  });

  test("1051 sets idc and region: persisted and in the next heartbeat", async () => {
    await withAgent(async (ac, d, dataDir) => {
      ac.send(task(DataType.SetMetadata, { idc: "dc-7", region: "eu-west" }, "md-1"));
      expect(await waitFor(() => result(ac, "md-1") !== undefined, 10_000)).toBe(true);
      expect(result(ac, "md-1")!.status).toBe("succeeded");
      expect(await waitFor(() => ac.records(DataType.AgentHeartbeat).some((r) => r.fields.idc === "dc-7" && r.fields.region === "eu-west"), 10_000)).toBe(true);
      expect(JSON.parse(readFileSync(join(dataDir, "metadata.json"), "utf8"))).toEqual({ idc: "dc-7", region: "eu-west" });
      ac.send(task(DataType.SetMetadata, "{not json", "md-2"));
      expect(await waitFor(() => result(ac, "md-2") !== undefined, 10_000)).toBe(true);
      expect(result(ac, "md-2")!.status).toBe("failed");
      expect(result(ac, "md-2")!.msg).toContain("not JSON");
      expect(d.counters.get("commands_malformed")).toBe(1);
    });
  });

  test("tasks for other object names and unknown agent tasks fail with a reason", async () => {
    await withAgent(async (ac, d) => {
      ac.send(task(2001, {}, "pl-1", "collector"));
      ac.send(task(1234, {}, "uk-1"));
      ac.send({ configs: [{ name: "collector", version: "1.0.0", sha256: "00", downloadUrls: ["http://127.0.0.1:1/x"] }] });
      expect(await waitFor(() => result(ac, "pl-1") !== undefined && result(ac, "uk-1") !== undefined, 10_000)).toBe(true);
      expect(result(ac, "pl-1")).toEqual({ token: "pl-1", status: "failed", msg: "no plugin collector" });
      expect(result(ac, "uk-1")!.status).toBe("failed");
      expect(result(ac, "uk-1")!.msg).toContain("unknown agent task data_type 1234");
      expect(d.counters.get("tasks_failed")).toBe(2);
    });
  });

  test("1060 restart: 5100 succeeded reaches the AC, then the daemon exits with the restart code", async () => {
    await withAgent(async (ac, d) => {
      ac.send(task(DataType.Restart, {}, "rs-1"));
      expect(await d.done).toBe(RESTART_EXIT_CODE);
      expect(result(ac, "rs-1")!.status).toBe("succeeded");
    });
  });

  test("`vigil-agent run` exits with code 75 after a restart task, and 0 on SIGTERM", async () => {
    const ac = await startMiniAc({ certsDir: certs });
    const dataDir = join(dir.path, "cli-data");
    const args = [bun, join(root, "src/agent/main.ts"), "run", "--ac", ac.address, "--certs", certs, "--data-dir", dataDir, "--events", "none", "--heartbeat-interval", "1s"];
    try {
      const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
      expect(await waitFor(() => ac.streams() > 0 && ac.records(DataType.AgentHeartbeat).length > 0, 15_000)).toBe(true);
      ac.send(task(DataType.Restart, {}, "rs-cli"));
      expect(await p.exited).toBe(RESTART_EXIT_CODE);
      expect(result(ac, "rs-cli")!.status).toBe("succeeded");

      const q = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
      expect(await waitFor(() => ac.streams() > 0, 15_000)).toBe(true);
      q.kill("SIGTERM");
      expect(await q.exited).toBe(0);
      const err = await new Response(q.stderr).text();
      expect(err).toContain("connected to AC");
      expect(err).toContain("stopped");
    } finally {
      await ac.stop();
    }
  }, 60_000);
});

test("run --help documents the restart exit code", async () => {
  const r = await run([bun, join(root, "src/agent/main.ts"), "run", "--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("75 restart requested");
});
