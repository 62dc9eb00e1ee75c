// Container ids from real-world cgroup lines of each runtime, pod names, garbage, and the
// /proc-reading lookup: on a fake tree, and on real processes in a real cgroup v2 directory.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Containers, NO_CONTAINER, cgroup2Mount, containerIdFromCgroup, containerIdFromPath, memcgMount, memcgPath,
  podNameFromEnviron, unifiedCgroupPath,
} from "./container.ts";
import { isRoot, spawnSleeper, tempDir, waitFor } from "./test-support.ts";

const ID = "8c5b1e0f6a2d4c7e9b3a1f0e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c";
const ID2 = "f".repeat(63) + "0";
const POD_UID = "3b3a7f3e_0d1c_4c5e_9f0a_1234567890ab";

const samples: Array<[string, string, string]> = [
  ["docker, cgroup v1, cgroupfs driver", `12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/system.slice/containerd.service\n`, ID],
  ["docker, cgroup v1, systemd driver", `4:memory:/system.slice/docker-${ID}.scope\n1:name=systemd:/system.slice/docker-${ID}.scope\n`, ID],
  ["docker, cgroup v2, systemd driver", `0::/system.slice/docker-${ID}.scope\n`, ID],
  ["docker, cgroup v2 with systemd inside the container", `0::/system.slice/docker-${ID}.scope/init.scope\n`, ID],
  ["containerd CRI, cgroup v2, systemd driver",
    `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID}.slice/cri-containerd-${ID}.scope\n`, ID],
  ["containerd CRI, cgroup v1, cgroupfs driver", `11:cpuset:/kubepods/besteffort/pod3b3a7f3e-0d1c-4c5e-9f0a-1234567890ab/${ID}\n`, ID],
  ["containerd (nerdctl/ctr), namespace default", `0::/default/${ID}\n`, ID],
  ["cri-o, cgroup v2", `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID}.slice/crio-${ID}.scope\n`, ID],
  ["cri-o, cgroup v1", `10:memory:/kubepods.slice/kubepods-pod${POD_UID}.slice/crio-${ID}.scope\n`, ID],
  ["podman rootful, cgroupns sub-cgroup", `0::/machine.slice/libpod-${ID}.scope/container\n`, ID],
  ["podman rootless", `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope\n`, ID],
  ["podman, cgroupfs manager", `0::/libpod_parent/libpod-${ID}\n`, ID],
  ["ECS task", `9:perf_event:/ecs/5a0d5ceddf6c44c1928d367a815d890f/${ID}\n`, ID],
  ["docker-in-docker: the innermost", `0::/docker/${ID2}/docker/${ID}\n`, ID],
  ["kind: a pod inside a node container", `0::/system.slice/docker-${ID2}.scope/kubelet.slice/kubelet-kubepods.slice/cri-containerd-${ID}.scope\n`, ID],
  ["cri-o conmon (the monitor, not the container)", `0::/kubepods.slice/kubepods-pod${POD_UID}.slice/crio-conmon-${ID}.scope\n`, ""],
  ["podman conmon", `0::/machine.slice/libpod-conmon-${ID}.scope\n`, ""],
  ["host: a login session", "0::/user.slice/user-1000.slice/session-2.scope\n", ""],
  ["host: systemd service, hybrid v1", "12:pids:/system.slice/sshd.service\n1:name=systemd:/system.slice/sshd.service\n0::/\n", ""],
  ["host: init", "0::/init.scope\n", ""],
];

const garbage: Array<[string, string]> = [
  ["empty", ""],
  ["words", "not a cgroup line at all"],
  ["NULs", "\0\0\0"],
  ["colons only", ":::\n::\n:"],
  ["no leading slash", `0::docker-${ID}.scope`],
  ["hierarchy not a number", `x::/docker/${ID}`],
  ["63 hex digits", `0::/docker/${ID.slice(1)}`],
  ["65 hex digits", `0::/docker/${ID}0`],
  ["upper-case hex", `0::/docker/${ID.toUpperCase()}`],
  ["not hex", `0::/docker/${"g".repeat(64)}`],
  ["suffix after the id", `0::/system.slice/docker-${ID}.scopex`],
  ["unknown runtime prefix", `0::/system.slice/rkt-${ID}.scope`],
  ["binary junk", String.fromCharCode(...Array.from({ length: 512 }, (_, i) => (i * 7919) % 256))],
];

describe("container id parsing", () => {
  test.each(samples)("%s", (_name, text, want) => {
    expect(containerIdFromCgroup(text)).toBe(want);
  });

  test.each(garbage)("garbage: %s", (_name, text) => {
    expect(containerIdFromCgroup(text)).toBe("");
  });

  test("paths", () => {
    expect(containerIdFromPath(`/docker/${ID}/`)).toBe(ID);
    expect(containerIdFromPath(ID)).toBe(ID);
    expect(containerIdFromPath("/")).toBe("");
    expect(containerIdFromPath("")).toBe("");
  });

  test("the unified (v2) path", () => {
    expect(unifiedCgroupPath("1:name=systemd:/a\n0::/b/c\n")).toBe("/b/c");
    expect(unifiedCgroupPath("1:name=systemd:/a\n")).toBeUndefined();
    expect(unifiedCgroupPath("0::garbage\n")).toBeUndefined();
  });

  test("pod names from the environment", () => {
    expect(podNameFromEnviron("PATH=/bin\0POD_NAME=web-7f9\0HOME=/")).toBe("web-7f9");
    expect(podNameFromEnviron("KUBERNETES_POD_NAME=api-1\0")).toBe("api-1");
    expect(podNameFromEnviron("MY_POD_NAME=elkeid-style\0")).toBe("elkeid-style");
    expect(podNameFromEnviron("XPOD_NAME=no\0POD_NAMES=no\0")).toBe("");
    expect(podNameFromEnviron("")).toBe("");
    expect(podNameFromEnviron("\0\0=\0")).toBe("");
  });

  test("cgroup2 mount point from mountinfo", () => {
    const mi = [
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw",
    ].join("\n");
    expect(cgroup2Mount(mi)).toBe("/sys/fs/cgroup/unified");
    expect(cgroup2Mount("41 31 0:38 /sub /mnt/x rw - cgroup2 cgroup2 rw")).toBeUndefined(); // not its root
    expect(cgroup2Mount("garbage")).toBeUndefined();
  });

  test("the v1 memory controller's path and mount point", () => {
    expect(memcgPath(`12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n0::/\n`)).toBe(`/docker/${ID}`);
    expect(memcgPath("3:cpu,memory,pids:/a/b\n")).toBe("/a/b"); // co-mounted controllers
    expect(memcgPath("4:memoryx:/no\n5:name=memory:/no\n0::/x\n")).toBeUndefined();
    expect(memcgPath("0::/system.slice/x.scope\n")).toBeUndefined(); // pure v2
    expect(memcgPath("garbage\n")).toBeUndefined();
    const mi = [
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    ].join("\n");
    expect(memcgMount(mi)).toBe("/sys/fs/cgroup/memory");
    expect(memcgMount("35 31 0:32 / /cg/m\\040x rw - cgroup cgroup rw,cpu,memory")).toBe("/cg/m x");
    expect(memcgMount("35 31 0:32 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory")).toBeUndefined(); // not its root
    expect(memcgMount("41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,memory_recursiveprot")).toBeUndefined();
  });
});

describe("Containers.lookup", () => {
  test("v1 or hybrid hosts: cached per memory cgroup id once that id is proven the process's own", () => {
    using d = tempDir();
    const proc = join(d.path, "proc");
    const memcg = join(d.path, "memory");
    const dir = join(memcg, `docker/${ID}`);
    mkdirSync(dir, { recursive: true });
    const memcgId = statSync(dir, { bigint: true }).ino;
    const rootId = statSync(memcg, { bigint: true }).ino;
    const fakeProc = (pid: number, cgroup: string) => {
      mkdirSync(join(proc, String(pid)), { recursive: true });
      writeFileSync(join(proc, String(pid), "cgroup"), cgroup);
      writeFileSync(join(proc, String(pid), "environ"), "POD_NAME=web-0\0");
    };
    fakeProc(30, `4:memory:/docker/${ID}\n0::/\n`);
    fakeProc(31, "4:memory:/\n0::/\n");
    const c = new Containers({ procRoot: proc, cgroupRoot: d.path, memcgRoot: memcg });
    const a = c.lookup(30, 1n, memcgId); // v2 root id 1: shared, only the memcg id can key it
    expect(a).toEqual({ id: ID, pod: "web-0" });
    expect(c.lookup(999, 1n, memcgId)).toBe(a); // gone, but its memory cgroup answers
    expect(c.lookup(999, 1n)).toBe(NO_CONTAINER); // the v2 root id alone is never cached
    // A memcg id that is not the inode of the cgroup the process names: answered, not cached.
    expect(c.lookup(30, 1n, memcgId + 1000n)).toEqual(a);
    expect(c.lookup(999, 1n, memcgId + 1000n)).toBe(NO_CONTAINER);
    // The memory root is shared by unrelated processes: never cached.
    expect(c.lookup(31, 1n, rootId)).toBe(NO_CONTAINER);
    expect(c.lookup(999, 1n, rootId)).toBe(NO_CONTAINER);
  });

  test("a fake /proc and cgroup tree: read once, cached per cgroup id, environ read once per container", () => {
    using d = tempDir();
    const proc = join(d.path, "proc");
    const cg = join(d.path, "cgroup");
    const scope = join(cg, `system.slice/docker-${ID}.scope`);
    mkdirSync(scope, { recursive: true });
    const cgroupId = statSync(scope, { bigint: true }).ino;
    const fakeProc = (pid: number, cgroup: string, environ: string) => {
      mkdirSync(join(proc, String(pid)), { recursive: true });
      writeFileSync(join(proc, String(pid), "cgroup"), cgroup);
      writeFileSync(join(proc, String(pid), "environ"), environ);
    };
    fakeProc(10, `0::/system.slice/docker-${ID}.scope\n`, "POD_NAME=web-0\0");
    fakeProc(11, `0::/system.slice/docker-${ID}.scope\n`, "POD_NAME=other\0");
    fakeProc(12, "garbage\n", "");
    const c = new Containers({ procRoot: proc, cgroupRoot: cg });
    const a = c.lookup(10, cgroupId);
    expect(a).toEqual({ id: ID, pod: "web-0" });
    expect(c.lookup(999, cgroupId)).toBe(a); // no such process: the cgroup id answers
    // Another cgroup id for the same container: the environ is not read again.
    expect(c.lookup(11, cgroupId + 1n)).toEqual({ id: ID, pod: "web-0" });
    expect(c.lookup(12, 77n)).toBe(NO_CONTAINER);
    expect(c.lookup(999, 78n)).toBe(NO_CONTAINER); // gone, not cached
  });

  test("v1 or hybrid hosts: a process gone before its lookup is answered from the memory cgroup tree", async () => {
    using d = tempDir();
    const proc = join(d.path, "proc");
    mkdirSync(proc);
    const memcg = join(d.path, "memory");
    const ino = (rel: string) => statSync(join(memcg, rel), { bigint: true }).ino;
    mkdirSync(join(memcg, "system.slice/cron.service"), { recursive: true });
    mkdirSync(join(memcg, `docker/${ID}`), { recursive: true });
    const c = new Containers({ procRoot: proc, cgroupRoot: d.path, memcgRoot: memcg });
    // No /proc entry for any of these pids: only the kernel's memcg id says where they ran.
    expect(c.lookup(40, 1n, ino("system.slice/cron.service"))).toBe(NO_CONTAINER);
    // A container whose pod name is not known yet needs a live process: no answer, no cache.
    expect(c.lookup(41, 1n, ino(`docker/${ID}`))).toBe(NO_CONTAINER);
    mkdirSync(join(proc, "42"));
    writeFileSync(join(proc, "42/cgroup"), `4:memory:/docker/${ID}\n0::/\n`);
    writeFileSync(join(proc, "42/environ"), "POD_NAME=db-1\0");
    const live = c.lookup(42, 1n, ino(`docker/${ID}`));
    expect(live).toEqual({ id: ID, pod: "db-1" });
    expect(c.lookup(43, 1n, ino(`docker/${ID}`))).toBe(live); // gone: the memcg id answers now
    // The root memory cgroup is shared: it answers nothing by itself.
    expect(c.lookup(44, 1n, statSync(memcg, { bigint: true }).ino)).toBe(NO_CONTAINER);
    // A cgroup made after the walk is found by the next one (at most one walk a second).
    mkdirSync(join(memcg, "user.slice"));
    await Bun.sleep(1100);
    mkdirSync(join(proc, "45"));
    writeFileSync(join(proc, "45/cgroup"), `4:memory:/docker/${ID2}\n0::/\n`); // a lie: the tree rules
    expect(c.lookup(45, 1n, ino("user.slice"))).toBe(NO_CONTAINER);
  });

  test("the shared root cgroup id (v1 or hybrid hosts) is never cached", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "20"));
    writeFileSync(join(d.path, "20/cgroup"), `4:memory:/docker/${ID}\n0::/\n`);
    writeFileSync(join(d.path, "20/environ"), "");
    mkdirSync(join(d.path, "21"));
    writeFileSync(join(d.path, "21/cgroup"), "4:memory:/\n0::/\n");
    const c = new Containers({ procRoot: d.path, cgroupRoot: d.path });
    expect(c.lookup(20, 1n).id).toBe(ID);
    expect(c.lookup(21, 1n).id).toBe(""); // same id 1, different answer
  });

  test("this process (not in a container) and a pid that does not exist", () => {
    const c = new Containers();
    expect(c.lookup(process.pid, 0n)).toBe(NO_CONTAINER);
    expect(c.lookup(2 ** 30, 5n)).toBe(NO_CONTAINER);
  });

  test("bad configuration fails at construction", () => {
    expect(() => new Containers({ maxEntries: -1 })).toThrow(/maxEntries/);
  });

  // Real processes in a real cgroup named like a docker scope: needs root and a cgroup2 mount.
  const mount = (() => {
    try {
      return cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
    } catch {
      return undefined;
    }
  })();
  test.skipIf(!isRoot || !mount)("real processes in a real cgroup v2 directory", async () => {
    const parent = join(mount!, `vigil-enrich-test-${process.pid}`);
    const leaf = join(parent, `docker-${ID}.scope`);
    mkdirSync(leaf, { recursive: true });
    try {
      const cgroupId = statSync(leaf, { bigint: true }).ino;
      await using a = await spawnSleeper(["sleep", "30"], { POD_NAME: "web-0" });
      await using b = await spawnSleeper(["sleep", "30"]);
      writeFileSync(join(leaf, "cgroup.procs"), String(a.pid));
      writeFileSync(join(leaf, "cgroup.procs"), String(b.pid));
      expect(readFileSync(`/proc/${a.pid}/cgroup`, "utf8")).toContain(`0::/vigil-enrich-test-${process.pid}/docker-${ID}.scope`);
      const c = new Containers();
      const info = c.lookup(a.pid, cgroupId);
      expect(info).toEqual({ id: ID, pod: "web-0" });
      expect(c.lookup(b.pid, cgroupId)).toBe(info); // b has no POD_NAME: the cached answer
      expect(c.lookup(2 ** 30, cgroupId)).toBe(info); // verified against the inode: cached
      // A wrong cgroup id is not the inode of b's cgroup: answered, but not cached under it.
      expect(c.lookup(b.pid, cgroupId + 1000n)).toEqual(info);
      expect(c.lookup(2 ** 30, cgroupId + 1000n)).toBe(NO_CONTAINER);
    } finally {
      // The children were killed and reaped when their block ended: the cgroup can go.
      await waitFor(() => {
        try {
          if (existsSync(leaf)) rmdirSync(leaf);
          rmdirSync(parent);
          return true;
        } catch {
          return false;
        }
      }, 10_000);
    }
  });
});
