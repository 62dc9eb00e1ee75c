// The Enricher as the decoder uses it: common() on real processes (sh -c with a sleep, this
// very process), the exec/fork/exit hooks, processes that are gone, and proof that a cached
// process is answered without touching the file system.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Enricher } from "./index.ts";
import type { EventIdentity } from "./index.ts";
import { kernelDev } from "./exe-path-cache.ts";
import { fakeClock, sleepBin, spawnShWithSleep, spawnSleeper, tempDir } from "./test-support.ts";

const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
const sha256File = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** The header the kernel would send for an event of a process running exe. */
function header(tgid: number, ppid: number, exe: string, over: Partial<EventIdentity> = {}): EventIdentity {
  const st = statSync(exe, { bigint: true });
  return {
    pid: tgid, tgid, ppid, uid: 0, exeIno: Number(st.ino & 0xffffffffn), exeDev: kernelDev(st.dev), cgroupId: 0n, comm: "", ...over,
  };
}

/** The name /etc/passwd gives a uid (first entry), or undefined. */
function passwdName(uid: number): string | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[2] === String(uid)) return f[0];
  }
  return undefined;
}

describe("Enricher.common on real processes", () => {
  test("a sleep under sh -c: exe, argv, username, exe_hash, pid_tree, no container", async () => {
    await using t = await spawnShWithSleep();
    const en = new Enricher();
    const r = en.common(header(t.sleepPid, t.shPid, sleepBin, { comm: "sleep" }));
    expect(r.exe).toBe(sleepBin);
    expect(r.argv).toBe("sleep 30");
    expect(r.username).toBe(passwdName(0)!);
    expect(r.exe_hash).toBe(sha256File(sleepBin));
    expect(r.pid_tree.startsWith(`${t.sleepPid}.sleep<${t.shPid}.sh<${process.pid}.`)).toBe(true);
    expect(r.container_id).toBe("");
    expect(r.pod_name).toBe("");
    expect(en.exePaths.peek(header(1, 0, sleepBin).exeDev, header(1, 0, sleepBin).exeIno)).toBe(sleepBin);

    // Later events of the same process: answered from the caches.
    const reads = en.stats();
    const again = en.common(header(t.sleepPid, t.shPid, sleepBin, { comm: "sleep" }));
    expect(again).toEqual(r);
    expect(en.stats()).toEqual(reads);
  });

  test("this very process, and a user from /etc/passwd", () => {
    const en = new Enricher();
    const r = en.common(header(process.pid, process.ppid, realpathSync(process.execPath), { uid: 65534 }));
    expect(r.exe).toBe(realpathSync(process.execPath));
    expect(r.exe_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.username).toBe(passwdName(65534) ?? "");
    expect(r.pid_tree.startsWith(`${process.pid}.`)).toBe(true);
  });

  test("a user-space exec event feeds the process cache; the header inode the exe path", async () => {
    await using child = await spawnSleeper(["sleep", "30"]);
    const en = new Enricher();
    const h = header(child.pid, process.pid, sleepBin);
    en.onExec(child.pid, process.pid, "/usr/bin/as-the-event-said", "sleep 30 --from-event", "sleep", h.exeDev, h.exeIno);
    const r = en.common(h);
    expect(r.argv).toBe("sleep 30 --from-event"); // from the event, not /proc
    expect(r.exe).toBe("/usr/bin/as-the-event-said"); // the exec event named this inode
  });

  test("hashes can be switched off", async () => {
    await using child = await spawnSleeper(["sleep", "30"]);
    const r = new Enricher({ hashes: false }).common(header(child.pid, process.pid, sleepBin));
    expect(r.exe_hash).toBe("");
    expect(r.exe).toBe(sleepBin);
  });

  test("execExtras through the enricher", async () => {
    await using child = await spawnSleeper(["sleep", "30"], { SSH_CONNECTION: "192.0.2.1 40000 192.0.2.2 22" });
    expect(new Enricher().execExtras(child.pid).ssh).toBe("192.0.2.1 40000 192.0.2.2 22");
  });
});

/** A fake procfs under dir/proc: init (pid 1) and one process running dir/<comm>, a shell
 * script, in a docker container (cgroup v2 path) with a pod name in its environment. */
function fakeProcTree(dir: string, p: { pid: number; comm: string; cmdline: string; container: string; pod: string }): { proc: string; exe: string } {
  const proc = join(dir, "proc");
  mkdirSync(join(proc, String(p.pid)), { recursive: true });
  mkdirSync(join(proc, "1"), { recursive: true });
  const exe = join(dir, p.comm);
  writeFileSync(exe, `#!/bin/sh\n# ${p.comm}\n`);
  writeFileSync(join(proc, "uptime"), "100.0 100.0\n");
  writeFileSync(join(proc, `${p.pid}/stat`), `${p.pid} (${p.comm}) S 1 ${p.pid} ${p.pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n`);
  writeFileSync(join(proc, `${p.pid}/cmdline`), p.cmdline);
  writeFileSync(join(proc, `${p.pid}/cgroup`), `0::/system.slice/docker-${p.container}.scope\n`);
  writeFileSync(join(proc, `${p.pid}/environ`), `POD_NAME=${p.pod}\0`);
  symlinkSync(exe, join(proc, `${p.pid}/exe`));
  writeFileSync(join(proc, "1/stat"), "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n");
  return { proc, exe };
}

describe("Enricher hooks and processes that are gone", () => {
  test("exec → fork → exit: late events resolve, then the header is all that is left", () => {
    const clock = fakeClock();
    const en = new Enricher({ now: clock.now, lingerMs: 1000 });
    const a = pidMax + 10; // never a real pid: only the events know these
    const b = pidMax + 11;
    en.onExec(a, process.pid, "/opt/app/bin/app", "app --serve", "app");
    en.onFork(a, b, "app");
    const hb: EventIdentity = { pid: b, tgid: b, ppid: a, uid: 0, exeIno: 0, exeDev: 0, cgroupId: 0n, comm: "app" };
    const r = en.common(hb);
    expect(r).toMatchObject({ exe: "/opt/app/bin/app", argv: "app --serve", exe_hash: "-3", container_id: "" });
    expect(r.pid_tree.startsWith(`${b}.app<${a}.app<${process.pid}.`)).toBe(true);

    en.onExit(b);
    en.onExit(a);
    clock.advance(1000);
    en.onExit(0); // a sweep: opens a generation, keeps both
    expect(en.common(hb).argv).toBe("app --serve");
    clock.advance(1000);
    en.onExit(0); // second sweep: both gone
    const late = en.common(hb);
    expect(late.argv).toBe("");
    expect(late.exe).toBe("");
    expect(late.pid_tree).toBe(`${b}.app`); // its parent is gone too
  });

  test("a pid that does not exist: the header's comm and the live ancestors", () => {
    const en = new Enricher();
    const gone = pidMax + 20;
    const r = en.common({ pid: gone, tgid: gone, ppid: process.pid, uid: 0, exeIno: 12345, exeDev: 1, cgroupId: 99n, comm: "ghost" });
    expect(r.exe).toBe("");
    expect(r.argv).toBe("");
    expect(r.exe_hash).toBe("-3");
    expect(r.container_id).toBe("");
    expect(r.username).toBe(passwdName(0)!);
    expect(r.pid_tree.startsWith(`${gone}.ghost<${process.pid}.`)).toBe(true);
    expect(en.stats().procGone).toBeGreaterThanOrEqual(1);
  });

  test("a forked child starts with its parent's exe, hash and container: no file-system access", () => {
    using d = tempDir();
    const { proc, exe } = fakeProcTree(d.path, { pid: 600, comm: "srv", cmdline: "srv\0", container: "cd".repeat(32), pod: "pod-b" });
    const en = new Enricher({ procRoot: proc, now: fakeClock().now });
    const st = statSync(exe, { bigint: true });
    const ino = Number(st.ino & 0xffffffffn), dev = kernelDev(st.dev);
    const parent = en.common({ pid: 600, tgid: 600, ppid: 1, uid: 0, exeIno: ino, exeDev: dev, cgroupId: 8n, comm: "srv" });
    expect(parent.exe_hash).toBe(sha256File(exe));
    en.onFork(600, 601, "srv");
    rmSync(d.path, { recursive: true, force: true }); // nothing left to read: the child must not need to
    const child = en.common({ pid: 601, tgid: 601, ppid: 600, uid: 0, exeIno: ino, exeDev: dev, cgroupId: 8n, comm: "srv" });
    expect(child).toEqual({ ...parent, pid_tree: "601.srv<600.srv<1.init" });
    expect(child.container_id).toBe("cd".repeat(32));
    // a child whose header shows another image is resolved anew (here: nothing to resolve)
    en.onFork(600, 602, "srv");
    const other = en.common({ pid: 602, tgid: 602, ppid: 600, uid: 0, exeIno: ino + 1, exeDev: dev, cgroupId: 8n, comm: "srv" });
    expect(other.exe_hash).not.toBe(parent.exe_hash);
  });

  test("a cached process costs no file-system access: its whole /proc and exe can vanish", () => {
    using d = tempDir();
    const { proc, exe } = fakeProcTree(d.path, { pid: 500, comm: "app", cmdline: "app\0--x\0", container: "ab".repeat(32), pod: "pod-a" });
    const passwd = join(d.path, "passwd");
    writeFileSync(passwd, "alice:x:1000:1000::/:/bin/sh\n");
    const clock = fakeClock();
    const en = new Enricher({ procRoot: proc, passwd, now: clock.now });
    const st = statSync(exe, { bigint: true });
    const h: EventIdentity = { pid: 500, tgid: 500, ppid: 1, uid: 1000, exeIno: Number(st.ino & 0xffffffffn), exeDev: kernelDev(st.dev), cgroupId: 7n, comm: "app" };
    const first = en.common(h);
    expect(first).toEqual({
      exe, argv: "app --x", username: "alice", exe_hash: sha256File(exe), pid_tree: "500.app<1.init",
      container_id: "ab".repeat(32), pod_name: "pod-a",
    });
    rmSync(d.path, { recursive: true, force: true });
    expect(en.common(h)).toEqual(first);
    expect(en.common({ ...h, pid: 501 })).toEqual(first); // another thread of the process
  });

  test("exec events of a known image in a known memory cgroup: hash and container without any file access", () => {
    using d = tempDir();
    const { proc, exe } = fakeProcTree(d.path, { pid: 700, comm: "job", cmdline: "job\0", container: "ef".repeat(32), pod: "pod-c" });
    // A v1 (hybrid) host: the v2 cgroup is the shared root, the memory cgroup is the container's.
    writeFileSync(join(proc, "700/cgroup"), `4:memory:/docker/${"ef".repeat(32)}\n0::/\n`);
    const memcg = join(d.path, "memory");
    mkdirSync(join(memcg, "docker", "ef".repeat(32)), { recursive: true });
    const memcgId = statSync(join(memcg, "docker", "ef".repeat(32)), { bigint: true }).ino;
    const en = new Enricher({ procRoot: proc, now: fakeClock().now, memcgRoot: memcg });
    const st = statSync(exe, { bigint: true });
    const ino = Number(st.ino & 0xffffffffn), dev = kernelDev(st.dev);
    const image = { size: st.size, mtimeNs: st.mtimeNs, memcgId };
    const hdr = (pid: number): EventIdentity => ({ pid, tgid: pid, ppid: 1, uid: 0, exeIno: ino, exeDev: dev, cgroupId: 1n, comm: "job" });
    en.onExec(700, 1, exe, "job", "job", dev, ino, image);
    const first = en.common(hdr(700));
    expect(first).toMatchObject({ exe, exe_hash: sha256File(exe), container_id: "ef".repeat(32), pod_name: "pod-c" });
    rmSync(d.path, { recursive: true, force: true }); // neither the binary nor /proc is there now
    en.onExec(701, 1, exe, "job --again", "job", dev, ino, image);
    expect(en.common(hdr(701))).toMatchObject({ exe, exe_hash: first.exe_hash, container_id: "ef".repeat(32), pod_name: "pod-c" });
    // Without the exec's identity (or under another header inode) the path must be read: gone.
    en.onExec(702, 1, exe, "job", "job", dev, ino);
    expect(en.common(hdr(702))).toMatchObject({ exe_hash: "-3", container_id: "" });
    en.onExec(703, 1, exe, "job", "job", dev, ino, image);
    expect(en.common({ ...hdr(703), exeIno: ino + 1 }).exe_hash).toBe("-3");
  });

  test("bad configuration fails at construction and names the setting", () => {
    expect(() => new Enricher({ maxProcesses: 0 })).toThrow(/maxProcesses/);
    expect(() => new Enricher({ lingerMs: Number.NaN })).toThrow(/lingerMs/);
  });
});
