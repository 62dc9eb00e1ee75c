// `vigil-agent run` settings: YAML < VIGIL_* < flags; every bad value stops start-up with a
// message naming the setting, before anything is opened or attached.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRunConfig } from "../../src/agent/daemon/config.ts";
import { startDaemon } from "../../src/agent/daemon/index.ts";
import { ConfigError, UsageError } from "../../src/common/errors.ts";
import { tempDir, root, bun, run } from "../harness.ts";
import { captureLog, testConfig } from "./support/agent-env.ts";

const env = {}; // no VIGIL_* from the test's environment

function err(argv: string[], e: Record<string, string> = env): string {
  try {
    parseRunConfig(argv, e);
  } catch (x) {
    if (x instanceof ConfigError || x instanceof UsageError) return x.message;
    throw x;
  }
  throw new Error("expected a configuration error");
}

describe("run config", () => {
  test("defaults and flags", () => {
    const c = parseRunConfig(["--ac", "127.0.0.1:6751,10.0.0.2:6751", "--spool-size", "512MiB"], env);
    if (c === "help") throw new Error("help");
    expect(c.ac).toEqual(["127.0.0.1:6751", "10.0.0.2:6751"]);
    expect(c.spool_size).toBe(512 * 1024 * 1024);
    expect(c.certs).toBe("/etc/vigil/certs");
    expect(c.data_dir).toBe("/var/lib/vigil-agent");
    expect(c.events).toBe("default");
    expect(c.eventSpecs!.length).toBeGreaterThan(30);
    expect(c.heartbeat_interval).toBe(60_000);
    expect(parseRunConfig(["--help"], env)).toBe("help");
  });

  test("YAML < environment < flags", () => {
    using d = tempDir();
    const f = join(d.path, "agent.yaml");
    writeFileSync(f, "sd: [\"http://10.1.1.1:8088\"]\ndata_dir: /from/yaml\ncerts: /yaml/certs\nheartbeat_interval: 5s\nevents: none\n");
    const c = parseRunConfig(["--config", f, "--data-dir", "/from/flag"], { VIGIL_DATA_DIR: "/from/env", VIGIL_CERTS: "/env/certs" });
    if (c === "help") throw new Error("help");
    expect(c.data_dir).toBe("/from/flag");
    expect(c.certs).toBe("/env/certs");
    expect(c.sd).toEqual(["http://10.1.1.1:8088"]);
    expect(c.heartbeat_interval).toBe(5000);
    expect(c.eventSpecs).toBeNull();
  });

  test("bad settings name themselves", () => {
    expect(err([])).toContain("sd / ac");
    expect(err(["--ac", "nohostport"])).toMatch(/^ac\.0 \(flag --ac\): expected HOST:PORT/);
    expect(err(["--ac", "h:99999"])).toContain("port must be 1-65535");
    expect(err(["--sd", "ftp://x"])).toMatch(/^sd\.0 .*http/);
    expect(err(["--ac", "h:1", "--spool-size", "lots"])).toMatch(/^spool_size \(flag --spool-size\): expected a size/);
    expect(err(["--ac", "h:1", "--spool-size", "1k"])).toContain("at least 262144");
    expect(err(["--ac", "h:1", "--events", "exec,bogus"])).toMatch(/^events: unknown event "exec"|^events: unknown event "bogus"/);
    expect(err(["--ac", "h:1", "--agent-id", "has space"])).toMatch(/^agent_id/);
    expect(err(["--ac", "h:1", "--heartbeat-interval", "soon"])).toMatch(/^heartbeat_interval/);
    expect(err(["--ac", "h:1"], { VIGIL_SPOOL_SIZE: "x" })).toMatch(/^spool_size \(env VIGIL_SPOOL_SIZE\)/);
    expect(err(["--ac", "h:1", "--frobnicate"])).toContain("frobnicate");
    expect(err(["--ac", "h:1", "--config", "/nonexistent/agent.yaml"])).toMatch(/^--config: cannot read/);
    using d = tempDir();
    const f = join(d.path, "a.yaml");
    writeFileSync(f, "ac: [\"h:1\"]\nspool_sise: 1GiB\n");
    expect(err(["--config", f])).toContain('unknown setting(s) "spool_sise"');
  });

  test("missing certificates stop start-up naming the file, before the spool is created", () => {
    using d = tempDir();
    const dataDir = join(d.path, "data");
    expect(() => startDaemon({ config: testConfig({ certs: join(d.path, "no-certs"), dataDir, ac: ["127.0.0.1:1"] }), version: "t", log: captureLog().log }))
      .toThrow(/certs: cannot read .*ca\.crt/);
    expect(existsSync(dataDir)).toBe(false);
  });

  test("the CLI exits 2 with the setting's name", async () => {
    const r = await run([bun, join(root, "src/agent/main.ts"), "run", "--ac", "bad"], { env: { VIGIL_CONFIG: "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ac.0 (flag --ac)");
    const r2 = await run([bun, join(root, "src/agent/main.ts"), "--ac", "127.0.0.1:1", "--certs", "/nonexistent"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("certs: cannot read /nonexistent/ca.crt");
  });
});
