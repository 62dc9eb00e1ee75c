// `vigil-agent trace` from the outside, through the compiled binary: bad input fails with a
// clear message and a non-zero exit before anything is attached, and a binary copied alone
// into an empty directory traces events.
import { test, expect, describe } from "bun:test";
import { copyFileSync, existsSync, readFileSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { agentBinary, hasAgentBinary, isRoot, hasBtf, tempDir, run, fixture, bun, root, canLoadBpf } from "../harness.ts";

describe.skipIf(!hasAgentBinary)("vigil-agent trace: bad input", () => {
  test("--help lists every event with its data_type", async () => {
    const r = await run([agentBinary, "trace", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--events");
    expect(r.stdout).toMatch(/\n\s+999\s+canary\s/);
  });

  test("an unknown event name is refused, naming the valid ones", async () => {
    const r = await run([agentBinary, "trace", "--events", "canary,bogus_event"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown event "bogus_event"');
    expect(r.stderr).toContain("canary");
  });

  test("bad --format, --ring-size and unknown flags are refused", async () => {
    for (const args of [["--format", "xml"], ["--ring-size", "5000"], ["--duration", "-1"], ["--frobnicate"]]) {
      const r = await run([agentBinary, "trace", ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.length).toBeGreaterThan(10);
    }
  });

  test("an unwritable output file fails before any hook is attached", async () => {
    const r = await run([agentBinary, "trace", "--events", "canary", "--output", "/nonexistent-dir/out.json", "--duration", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot write output file /nonexistent-dir/out.json");
    expect(r.stderr).not.toContain("programs attached");
  });

  test.skipIf(!isRoot)("not root: refused with a message saying so", async () => {
    using d = tempDir();
    const bin = join(d.path, "vigil-agent");
    copyFileSync(agentBinary, bin);
    chmodSync(d.path, 0o755);
    const r = await run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "trace", "--events", "canary"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("must run as root");
  });

  // A private mount namespace where /sys/kernel is a read-only tmpfs: no BTF, and tracefs can
  // neither be found nor mounted. The host's mounts are untouched.
  const hidden = (keepBtf: boolean) => [
    "unshare", "-m", "--propagation", "private", "sh", "-ec",
    [
      "keep=$(mktemp -d)",
      keepBtf ? "mount --bind /sys/kernel/btf $keep" : "true",
      "mount -t tmpfs -o size=1m none /sys/kernel",
      keepBtf ? "mkdir /sys/kernel/btf && mount --bind $keep /sys/kernel/btf" : "true",
      "mount -o remount,ro /sys/kernel",
      `exec ${agentBinary} trace --events canary --duration 1`,
    ].join("; "),
  ];

  test.skipIf(!isRoot || !hasBtf)("no BTF: refused, naming the missing file", async () => {
    const r = await run(hidden(false));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing)");
  });

  test.skipIf(!isRoot || !hasBtf)("tracefs missing and not mountable: refused, naming tracefs", async () => {
    const r = await run(hidden(true));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tracefs is not mounted at /sys/kernel/tracing and mounting it failed");
  });
});

// The verifier stops with EAGAIN whenever a signal is pending, and libbpf retries only a few
// times: under a sampling profiler that interrupts it every 100 us the load cannot finish. The
// error says why instead of a bare "Resource temporarily unavailable".
test.skipIf(!canLoadBpf)("a load interrupted by signals on every try fails with a message saying so", async () => {
  using d = tempDir();
  const r = await run([bun, "--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${d.path}`, join(root, "src/agent/main.ts"),
    "trace", "--events", "default", "--format", "null", "--duration", "1"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("failed to load BPF programs: errno 11");
  expect(r.stderr).toContain("the verifier stops when signals keep arriving during the load");
  expect(r.stderr).not.toContain("programs attached");
});

describe.skipIf(!hasAgentBinary || !isRoot || !hasBtf)("vigil-agent trace: the binary alone", () => {
  test("copied to an empty directory, it traces events and excludes its own activity", async () => {
    using d = tempDir();
    const bin = join(d.path, "vigil-agent");
    copyFileSync(agentBinary, bin);
    const out = join(d.path, "events.json");
    // No Bun, no node_modules, no libbpf on its library path: an empty environment and cwd.
    const agent = Bun.spawn([bin, "trace", "--events", "all", "--output", out, "--duration", "6"], {
      cwd: d.path, env: { PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe",
    });
    // wait for attachment
    const stderrChunks: string[] = [];
    const reader = agent.stderr.getReader();
    const dec = new TextDecoder();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !stderrChunks.join("").includes("programs attached")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderrChunks.push(dec.decode(value));
    }
    expect(stderrChunks.join("")).toContain("programs attached");
    const storm = fixture("canary-storm");
    const trig = await run([storm, "10", "0x42"]);
    const t = await run(["/bin/true"]);
    expect(await agent.exited).toBe(0);
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      stderrChunks.push(dec.decode(value));
    }
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const canaries = lines.filter((e) => e.event === "canary" && e.fields.tgid === String(trig.pid));
    expect(canaries.map((e) => e.fields.seq)).toEqual(Array.from({ length: 10 }, (_, i) => String(0x42 + i)));
    for (const e of canaries) {
      expect(e.data_type).toBe(999);
      expect(typeof e.timestamp).toBe("number");
    }
    // The agent's own syscalls never appear.
    expect(lines.filter((e) => e.fields.tgid === String(agent.pid))).toEqual([]);
    // An exec is traced when the execve event exists in this build.
    if (lines.some((e) => e.event === "execve")) {
      expect(lines.some((e) => e.event === "execve" && e.fields.tgid === String(t.pid))).toBe(true);
    }
    const summary = stderrChunks.join("");
    expect(summary).toMatch(/canary\s+999\s+\d+\s+0/);
  }, 90_000); // loading and detaching all 165 programs takes seconds
});
