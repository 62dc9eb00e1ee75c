// ProcessCache against the real /proc with real children (sh -c with a sleep), a fake /proc
// tree, the exit linger, the bound, and pids that do not exist.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ARGV_MAX, ProcessCache } from "./process-cache.ts";
import { fakeClock, sleepBin, spawnShWithSleep, tempDir } from "./test-support.ts";

const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
const comm1 = readFileSync("/proc/1/comm", "utf8").trim();

describe("ProcessCache on the real /proc", () => {
  test("a sleep under sh -c: every field read once from /proc", async () => {
    const before = Date.now();
    await using t = await spawnShWithSleep();
    const cache = new ProcessCache();
    const p = cache.get(t.sleepPid)!;
    expect(p).toBeDefined();
    expect(p.tgid).toBe(t.sleepPid);
    expect(p.ppid).toBe(t.shPid);
    expect(p.comm).toBe("sleep");
    expect(p.exe).toBe(sleepBin);
    expect(p.argv).toBe("sleep 30");
    // Start time comes from the stat tick count (10 ms units) plus the boot time.
    expect(p.startTime).toBeGreaterThanOrEqual(before - 2000);
    expect(p.startTime).toBeLessThanOrEqual(Date.now() + 2000);
    expect(cache.stats.procReads).toBe(1);

    const sh = cache.get(t.shPid)!;
    expect(sh.ppid).toBe(process.pid);
    expect(sh.argv).toBe(`/bin/sh -c sleep 30 & echo $!; wait`);
    // The second get is a hit: no more reads.
    expect(cache.get(t.sleepPid)).toBe(p);
    expect(cache.stats.procReads).toBe(2);
  });

  test("pid_tree: pid.comm<ppid.comm<…<1.<init>", async () => {
    await using t = await spawnShWithSleep();
    const cache = new ProcessCache();
    const tree = cache.pidTree(t.sleepPid);
    expect(tree.startsWith(`${t.sleepPid}.sleep<${t.shPid}.sh<${process.pid}.`)).toBe(true);
    const links = tree.split("<");
    expect(links.length).toBeLessThanOrEqual(12);
    if (links.length < 12) expect(links.at(-1)).toBe(`1.${comm1}`);
    expect(cache.pidTree(t.sleepPid, 2)).toBe(`${t.sleepPid}.sleep<${t.shPid}.sh`);
    expect(cache.pidTree(t.sleepPid, 0)).toBe("");
  });

  test("a process that is gone: undefined, counted, and not read again within the linger", async () => {
    const clock = fakeClock();
    const cache = new ProcessCache({ now: clock.now });
    const missing = pidMax + 1; // no pid can be this large
    expect(cache.get(missing)).toBeUndefined();
    expect(cache.pidTree(missing)).toBe("");
    expect(cache.stats.procGone).toBe(1);
    expect(cache.get(missing)).toBeUndefined();
    expect(cache.stats.procGone).toBe(1); // remembered as gone
    for (const bad of [0, -1, Number.NaN, 1.5]) expect(cache.get(bad)).toBeUndefined();

    // A real child that exited and was reaped is gone as well.
    const p = Bun.spawn(["true"]);
    await p.exited;
    expect(cache.get(p.pid)).toBeUndefined();
  });

  test("onExit: late events still resolve; the entry goes after one to two linger periods", async () => {
    await using t = await spawnShWithSleep();
    const clock = fakeClock();
    const cache = new ProcessCache({ lingerMs: 5000, now: clock.now });
    expect(cache.get(t.sleepPid)?.comm).toBe("sleep");
    process.kill(t.sleepPid);
    cache.onExit(t.sleepPid);
    clock.advance(4999);
    cache.onExit(424242); // any event drives the sweep
    expect(cache.peek(t.sleepPid)?.comm).toBe("sleep");
    clock.advance(1);
    cache.onExit(424242); // first sweep: opens a new generation, keeps the exited entry
    expect(cache.peek(t.sleepPid)?.comm).toBe("sleep");
    clock.advance(5000);
    cache.onExit(424242); // second sweep: it goes
    expect(cache.peek(t.sleepPid)).toBeUndefined();
  });
});

describe("ProcessCache fed by events", () => {
  test("exec then fork: the child inherits exe and argv, keeps its own comm when the parent is unknown", () => {
    const cache = new ProcessCache({ procRoot: "/nonexistent" });
    cache.onExec(900001, 1, "/usr/bin/a", "a -x", "a");
    cache.onFork(900001, 900002, "a");
    expect(cache.peek(900002)).toMatchObject({ tgid: 900002, ppid: 900001, exe: "/usr/bin/a", argv: "a -x", comm: "a" });
    cache.onFork(900099, 900003, "orphan"); // parent never seen, /proc has nothing
    expect(cache.peek(900003)).toMatchObject({ ppid: 900099, exe: "", argv: "", comm: "orphan" });
    expect(cache.pidTree(900002)).toBe("900002.a<900001.a"); // pid 1 is not in this /proc
  });

  test("argv is capped at 4096 characters", () => {
    const cache = new ProcessCache({ procRoot: "/nonexistent" });
    cache.onExec(900001, 1, "/x", "y".repeat(10_000), "x");
    expect(cache.peek(900001)!.argv.length).toBe(ARGV_MAX);
  });

  test("a child that exec'd before its parent's fork event is decoded keeps its new image", () => {
    const clock = fakeClock();
    const cache = new ProcessCache({ procRoot: "/nonexistent", now: clock.now });
    cache.onExec(900001, 1, "/bin/sh", "sh", "sh");
    cache.onExec(900002, 900001, "/usr/bin/id", "id", "id"); // the child ran first
    clock.advance(4999);
    cache.onFork(900001, 900002, "sh");
    expect(cache.peek(900002)).toMatchObject({ exe: "/usr/bin/id", comm: "id", ppid: 900001 });
    // An entry older than the linger period is a stale one (a missed exit): the fork wins.
    cache.onExec(900003, 1, "/bin/stale", "stale", "stale");
    clock.advance(5000);
    cache.onFork(900001, 900003, "sh");
    expect(cache.peek(900003)).toMatchObject({ exe: "/bin/sh", comm: "sh", ppid: 900001 });
  });

  test("a pid reused after exit gets a fresh entry", () => {
    const cache = new ProcessCache({ procRoot: "/nonexistent" });
    cache.onExec(900001, 1, "/bin/old", "old", "old");
    cache.onExit(900001);
    cache.onFork(1, 900001, "systemd");
    expect(cache.peek(900001)).toMatchObject({ exe: "", comm: "systemd", ppid: 1 });
  });

  test("bounded: the oldest unused entry goes first; a recently used one gets a second chance", () => {
    const cache = new ProcessCache({ procRoot: "/nonexistent", maxEntries: 3 });
    cache.onExec(1001, 1, "/a", "a", "a");
    cache.onExec(1002, 1, "/b", "b", "b");
    cache.onExec(1003, 1, "/c", "c", "c");
    cache.get(1001); // used: survives the next eviction
    cache.onExec(1004, 1, "/d", "d", "d");
    expect(cache.size).toBe(3);
    expect(cache.peek(1001)).toBeDefined();
    expect(cache.peek(1002)).toBeUndefined();
    expect(cache.stats.evictions).toBe(1);
    for (let i = 0; i < 100; i++) cache.onExec(2000 + i, 1, "/x", "x", "x");
    expect(cache.size).toBe(3);
  });

  test("bad configuration fails at construction and names the setting", () => {
    expect(() => new ProcessCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new ProcessCache({ maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(() => new ProcessCache({ lingerMs: -1 })).toThrow(/lingerMs/);
  });
});

describe("ProcessCache on a fake /proc tree", () => {
  test("odd comms, kernel threads, a truncated stat", () => {
    using d = tempDir();
    const proc = (pid: number, stat: string, cmdline?: string, exe?: string) => {
      const dir = join(d.path, String(pid));
      mkdirSync(dir);
      writeFileSync(join(dir, "stat"), stat);
      if (cmdline !== undefined) writeFileSync(join(dir, "cmdline"), cmdline);
      if (exe) symlinkSync(exe, join(dir, "exe"));
    };
    writeFileSync(join(d.path, "uptime"), "1000.00 2000.00\n");
    proc(1, "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n", "/sbin/init\0", "/sbin/init");
    proc(2, "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0\n", "");
    proc(300, "300 (we (ird) x) R 1 300 300 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 50000 0 0\n", "a\0b c\0\0\0", "/usr/bin/weird");
    proc(301, "301 (broken", "x\0");
    const cache = new ProcessCache({ procRoot: d.path });
    const w = cache.get(300)!;
    expect(w).toMatchObject({ comm: "we (ird) x", ppid: 1, argv: "a b c", exe: "/usr/bin/weird" });
    // Boot 1000 s ago; started 500 s (50000 ticks) after boot.
    expect(Math.abs(w.startTime - (Date.now() - 500_000))).toBeLessThan(5000);
    expect(cache.get(2)).toMatchObject({ comm: "kthreadd", ppid: 0, exe: "", argv: "" });
    expect(cache.get(301)).toBeUndefined();
    expect(cache.pidTree(300)).toBe("300.we (ird) x<1.init");
  });
});
