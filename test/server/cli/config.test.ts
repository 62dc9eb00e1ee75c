// vigil-server settings: YAML < env < flags, and every bad setting stops start-up naming it
// (and where it came from) before anything is created or opened.
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { loadServerConfig } from "../../../src/server/config.ts";
import { isRoot, tempDir } from "../../harness.ts";
import { runServerCli } from "./support.ts";

describe("server config precedence", () => {
  test("YAML < env < flags, defaults otherwise", () => {
    using d = tempDir();
    const file = join(d.path, "s.yaml");
    writeFileSync(file, "listen: 127.0.0.1\nsd:\n  port: 1001\n  peers: [http://a:8088]\nac:\n  grpc_port: 2001\nstore:\n  retention: 1d\n  max_bytes: 1MiB\n");
    const yamlOnly = loadServerConfig({ file, env: {} });
    expect(yamlOnly).toMatchObject({ listen: "127.0.0.1", sd: { port: 1001, peers: ["http://a:8088"] }, ac: { grpc_port: 2001, http_port: 6752 }, store: { retention: 86_400_000, max_bytes: 1 << 20 } });
    const env = { VIGIL_SD_PORT: "1002", VIGIL_AC_PORT: "2002", VIGIL_RETENTION: "2h", VIGIL_SD_PEERS: "http://b:1,http://c:2/" };
    expect(loadServerConfig({ file, env })).toMatchObject({ sd: { port: 1002, peers: ["http://b:1", "http://c:2"] }, ac: { grpc_port: 2002 }, store: { retention: 7_200_000 } });
    const flags = { "sd-port": "1003", retention: "30m", role: "sd" };
    expect(loadServerConfig({ file, env, flags })).toMatchObject({ roles: ["sd"], sd: { port: 1003 }, ac: { grpc_port: 2002 }, store: { retention: 1_800_000 } });
    expect(loadServerConfig({ env: {} })).toMatchObject({ listen: "0.0.0.0", sd: { port: 8088, ttl: 105_000 }, ac: { grpc_port: 6751, http_port: 6752, register_interval: 30_000 }, manager: { port: 6701 }, store: { retention: 7 * 86_400_000, max_bytes: 10 * 1024 ** 3 } });
  });
});

describe("bad settings stop start-up, naming the setting", () => {
  const cases: { name: string; args?: string[]; env?: Record<string, string>; yaml?: string; want: RegExp }[] = [
    { name: "flag not a number", args: ["--sd-port", "abc"], want: /sd\.port \(flag --sd-port\): expected an integer, got "abc"/ },
    { name: "flag out of range", args: ["--ac-port", "70000"], want: /ac\.grpc_port \(flag --ac-port\)/ },
    { name: "bad duration", args: ["--retention", "7 years"], want: /store\.retention \(flag --retention\): expected a duration/ },
    { name: "bad size", args: ["--store-max-bytes", "lots"], want: /store\.max_bytes \(flag --store-max-bytes\): expected a size/ },
    { name: "unknown role", args: ["--role", "sd,boss"], want: /roles\.1 \(flag --role\): unknown role "boss"/ },
    { name: "bad SD URL", args: ["--sd", "ftp://x:1"], want: /ac\.sd\.0 \(flag --sd\)/ },
    { name: "unknown flag", args: ["--sd-prot", "1"], want: /Unknown option '--sd-prot'/ },
    { name: "bad env", env: { VIGIL_AC_HTTP_PORT: "http" }, want: /ac\.http_port \(env VIGIL_AC_HTTP_PORT\): expected an integer/ },
    { name: "short secret in env", env: { VIGIL_INTERNAL_SECRET: "short" }, want: /internal_secret \(env VIGIL_INTERNAL_SECRET\)/ },
    { name: "bad YAML", yaml: "sd: [\n", want: /not valid YAML/ },
    { name: "unknown YAML setting", yaml: "sd:\n  prot: 1\n", want: /sd \(in .*s\.yaml\): unknown setting\(s\) "prot"/ },
    { name: "unknown top-level setting", yaml: "colour: blue\n", want: /unknown setting\(s\) "colour"/ },
    { name: "wrong YAML type", yaml: "sd:\n  port: high\n", want: /sd\.port \(in .*s\.yaml\)/ },
    { name: "YAML not a mapping", yaml: "- a\n- b\n", want: /top level must be a mapping/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      using d = tempDir();
      const dataDir = join(d.path, "data");
      const args = ["--data-dir", dataDir, "--listen", "127.0.0.1", ...(c.args ?? [])];
      if (c.yaml !== undefined) {
        writeFileSync(join(d.path, "s.yaml"), c.yaml);
        args.push("--config", join(d.path, "s.yaml"));
      }
      const r = await runServerCli(args, c.env);
      expect(r.stderr).toMatch(c.want);
      expect(r.code).toBe(2);
      expect(existsSync(dataDir)).toBe(false); // nothing was created, no port opened
    });
  }

  test("an unreadable config file names --config", async () => {
    using d = tempDir();
    const missing = await runServerCli(["--config", join(d.path, "none.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config: cannot read .*none\.yaml: ENOENT/);
    if (!isRoot) {
      const f = join(d.path, "locked.yaml");
      writeFileSync(f, "listen: 127.0.0.1\n");
      chmodSync(f, 0);
      const locked = await runServerCli(["--config", f]);
      expect(locked.stderr).toMatch(/--config: cannot read .*EACCES/);
    }
  });

  test("an explicit --certs directory without certificates names the setting", async () => {
    using d = tempDir();
    const r = await runServerCli(["--data-dir", join(d.path, "data"), "--certs", join(d.path, "none"), "--listen", "127.0.0.1", "--sd-port", "0", "--ac-port", "0", "--ac-http-port", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/certs: cannot read .*none\/ca\.crt: ENOENT/);
  });

  test("a data dir that cannot be created names data_dir", async () => {
    using d = tempDir();
    writeFileSync(join(d.path, "file"), "");
    const r = await runServerCli(["--data-dir", join(d.path, "file", "sub"), "--listen", "127.0.0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/data_dir: cannot use .*file\/sub: ENOTDIR/);
  });
});

describe("commands and help", () => {
  test("--help for the server and each sub-command", async () => {
    for (const args of [["--help"], ["help"], ["certs", "--help"], ["certs", "init", "--help"], ["events", "--help"], ["events", "query", "--help"]]) {
      const r = await runServerCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage/);
    }
    const main = await runServerCli(["--help"]);
    for (const flag of ["--role", "--config", "--data-dir", "--certs", "--listen", "--sd-port", "--ac-port", "--ac-http-port", "--manager-port", "--sd ", "--sd-peers", "--retention", "--store-max-bytes"]) expect(main.stdout).toContain(flag);
  });

  test("unknown commands and a role that is not built yet exit 2", async () => {
    const bad = await runServerCli(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    for (const role of ["hub"]) {
      const r = await runServerCli(["--role", role, "--listen", "127.0.0.1"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not available yet/);
    }
  });

  test("events query reads the store of --data-dir (and explains a missing one)", async () => {
    using d = tempDir();
    const r = await runServerCli(["events", "query", "--data-dir", d.path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no event store/);
    const bad = await runServerCli(["events", "query", "--limit", "zero"]);
    expect(bad.code).toBe(2);
  });
});
