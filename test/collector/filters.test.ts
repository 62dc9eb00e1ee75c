// Filtering in the kernel (exe allow list, per-exe rate limit, run-time switches) and in user
// space (path and argv prefixes), with real storms from a child program.
import { test, expect, describe } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";
type Ran = Awaited<ReturnType<typeof run>>;
import { UserFilter } from "../../src/agent/collector/filters.ts";
import { BY_NAME } from "../../src/agent/collector/catalog.ts";
import type { EventSpec } from "../../src/agent/collector/events/types.ts";

describe.skipIf(!canLoadBpf)("kernel filters", () => {
  test("an allow-listed executable is silent; a copy of it (another inode) is not", async () => {
    const storm = fixture("canary-storm");
    using d = tempDir();
    const copy = join(d.path, "canary-storm");
    copyFileSync(storm, copy);
    Bun.spawnSync(["chmod", "755", copy]);
    const c = collect(["canary"], { exeAllow: [storm] });
    let a!: Ran, b!: Ran;
    try {
      a = await run([storm, "500", "1"]);
      b = await run([copy, "500", "1"]);
      await c.waitFor((e) => e.fields.tgid === String(b.pid) && e.fields.seq === "500");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    expect(c.of(a.pid).length).toBe(0);
    expect(c.of(b.pid).length).toBe(500);
  });

  test("the per-exe rate limit passes at most N per second and counts the rest", async () => {
    const storm = fixture("canary-storm");
    const c = collect(["canary"], { rateLimitPerSec: 1000 });
    const N = 20_000;
    const start = Date.now();
    let r!: Ran;
    try {
      r = await run([storm, String(N), "1"]);
      await Bun.sleep(200);
    } finally {
      await c.stop();
    }
    const seconds = Math.ceil((Date.now() - start) / 1000) + 1;
    const delivered = c.of(r.pid).length;
    const limited = c.collector.rateLimited().get(999) ?? 0;
    expect(delivered + limited).toBe(N);
    expect(limited).toBeGreaterThan(0);
    expect(delivered).toBeLessThanOrEqual(1000 * seconds);
    expect(delivered).toBeGreaterThanOrEqual(1000);
  });

  test("an event switched off at run time stops arriving; switched on, it comes back", async () => {
    const storm = fixture("canary-storm");
    const c = collect(["canary"]);
    let off!: Ran, on!: Ran;
    try {
      c.collector.bpf.setEnabled(999, false);
      off = await run([storm, "100", "1"]);
      c.collector.bpf.setEnabled(999, true);
      on = await run([storm, "100", "1"]);
      await c.waitFor((e) => e.fields.tgid === String(on.pid) && e.fields.seq === "100");
    } finally {
      await c.stop();
    }
    expect(c.of(off.pid).length).toBe(0);
    expect(c.of(on.pid).length).toBe(100);
  });
});

describe("user-space filters", () => {
  const fake = (name: string, family: EventSpec["family"], dt: number): EventSpec =>
    BY_NAME.get(name) ?? { name, dt, family, struct: "x", size: 0, defaultOn: true, programs: [], fields: [], summary: "" };

  test("path prefixes drop file events only, on any path field", () => {
    const f = new UserFilter({ paths: ["/var/log/", "/tmp/skip"], argv: [] });
    const open = fake("open", "file", 2);
    expect(f.drop(open, { file: "/var/log/syslog" })).toBe(true);
    expect(f.drop(open, { file: "/var/lib/x" })).toBe(false);
    expect(f.drop(fake("rename", "file", 82), { old_name: "/etc/a", new_name: "/tmp/skip.1" })).toBe(true);
    expect(f.drop(fake("connect", "network", 42), { file: "/var/log/x" })).toBe(false);
  });

  test("argv prefixes drop exec events only", () => {
    const f = new UserFilter({ paths: [], argv: ["/usr/bin/python3 /opt/monitor"] });
    const exec = fake("execve", "process", 59);
    expect(f.drop(exec, { argv: "/usr/bin/python3 /opt/monitor.py --x" })).toBe(true);
    expect(f.drop(exec, { argv: "/usr/bin/python3 /opt/other.py" })).toBe(false);
    expect(f.drop(fake("open", "file", 2), { argv: "/usr/bin/python3 /opt/monitor.py" })).toBe(false);
    expect(new UserFilter({ paths: [], argv: [] }).active).toBe(false);
  });
});
