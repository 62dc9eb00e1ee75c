// Enrichment against the real /proc and real child processes, plus cgroup/environ parsing on
// samples from each container runtime and bad input.
import { test, expect, describe } from "bun:test";
import { writeFileSync, mkdtempSync, rmSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessCache } from "./process-cache.ts";
import { UserNames } from "./usernames.ts";
import { ExeHasher, UNHASHABLE } from "./exe-hash.ts";
import { containerIdFromCgroup, podNameFromEnviron } from "./container.ts";
import { Enricher } from "./index.ts";

const ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

describe("container ids from cgroup paths", () => {
  test.each([
    ["docker (systemd)", `0::/system.slice/docker-${ID}.scope`],
    ["docker (cgroupfs)", `12:memory:/docker/${ID}`],
    ["containerd CRI", `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${ID}.scope`],
    ["cri-o", `0::/kubepods.slice/kubepods-pod1.slice/crio-${ID}.scope`],
    ["podman", `0::/machine.slice/libpod-${ID}.scope`],
    ["kubepods cgroupfs", `4:cpu:/kubepods/besteffort/pod1234/${ID}`],
  ])("%s", (_name, line) => {
    expect(containerIdFromCgroup(`1:name=x:/\n${line}\n`)).toBe(ID);
  });

  test("a host process and garbage give no id", () => {
    expect(containerIdFromCgroup("0::/user.slice/user-0.slice/session-1.scope\n")).toBe("");
    expect(containerIdFromCgroup("not a cgroup line at all\n\0\0")).toBe("");
    expect(containerIdFromCgroup(`0::/docker-${ID.slice(0, 20)}.scope`)).toBe("");
  });

  test("pod names from the environment", () => {
    expect(podNameFromEnviron("PATH=/bin\0POD_NAME=web-7f9\0")).toBe("web-7f9");
    expect(podNameFromEnviron("KUBERNETES_POD_NAME=api-1\0")).toBe("api-1");
    expect(podNameFromEnviron("PATH=/bin\0")).toBe("");
  });
});

describe("process cache and enricher on the real /proc", () => {
  test("a live child: exe, argv, comm, parent, pid_tree", async () => {
    const child = Bun.spawn(["/bin/sh", "-c", "exec sleep 30"]);
    await Bun.sleep(150);
    try {
      const cache = new ProcessCache();
      const p = cache.get(child.pid)!;
      expect(p.exe).toBe(realpathSync("/bin/sleep"));
      expect(p.argv).toBe("sleep 30");
      expect(p.comm).toBe("sleep");
      expect(p.ppid).toBe(process.pid);
      expect(cache.pidTree(child.pid).startsWith(`${child.pid}.sleep<${process.pid}.`)).toBe(true);
      expect(cache.pidTree(child.pid).split("<").at(-1)).toMatch(/^1\./);
    } finally {
      child.kill();
    }
  });

  test("a pid that does not exist is undefined, not an error", () => {
    expect(new ProcessCache().get(2 ** 22 + 12345)).toBeUndefined();
    expect(new ProcessCache().pidTree(2 ** 22 + 12345)).toBe("");
  });

  test("fork inherits; exit lingers then is swept; the cache is bounded", async () => {
    const cache = new ProcessCache({ maxEntries: 3, lingerMs: 50 });
    cache.onExec(900001, 1, "/usr/bin/a", "a -x", "a");
    cache.onFork(900001, 900002, "a");
    expect(cache.peek(900002)).toMatchObject({ exe: "/usr/bin/a", argv: "a -x", ppid: 900001 });
    cache.onExit(900002);
    expect(cache.peek(900002)).toBeDefined(); // late events still resolve
    await Bun.sleep(60);
    cache.onExit(900001);
    await Bun.sleep(60);
    cache.onExit(900001);
    expect(cache.peek(900002)).toBeUndefined();
    for (let i = 0; i < 10; i++) cache.onExec(910000 + i, 1, "/x", "x", "x");
    expect(cache.size).toBeLessThanOrEqual(3);
  });

  test("enricher: username, exe hash, container fields for this very process", () => {
    const e = new Enricher();
    const r = e.common({ pid: process.pid, tgid: process.pid, ppid: process.ppid, uid: 0, exeIno: 0, exeDev: 0, cgroupId: 1n, comm: "bun" });
    expect(r.username).toBe("root");
    expect(r.exe).toBe(realpathSync(process.execPath));
    expect(r.exe_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.container_id).toBe("");
  });
});

describe("usernames and hashes", () => {
  test("passwd changes are picked up; unknown uids are empty", async () => {
    const d = mkdtempSync(join(tmpdir(), "vigil-enrich-"));
    try {
      const f = join(d, "passwd");
      writeFileSync(f, "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
      const u = new UserNames(f);
      expect(u.name(1000)).toBe("alice");
      expect(u.name(4242)).toBe("");
      await Bun.sleep(1100);
      writeFileSync(f, "root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\ngarbage line\n");
      expect(u.name(1000)).toBe("bob");
      expect(new UserNames(join(d, "missing")).name(0)).toBe("");
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test("sha256 of a file, cached; unreadable → -3", () => {
    const d = mkdtempSync(join(tmpdir(), "vigil-hash-"));
    try {
      const f = join(d, "bin");
      writeFileSync(f, "hello");
      const h = new ExeHasher();
      expect(h.hash(f)).toBe("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
      expect(h.hash(join(d, "missing"))).toBe(UNHASHABLE);
      expect(h.hash("")).toBe(UNHASHABLE);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
