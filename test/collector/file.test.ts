// File family against the real kernel: every event and syscall variant, success and failure,
// absolute paths for relative and dirfd-based calls.
import { test, expect, describe } from "bun:test";
import { mkdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";
import type { DecodedEvent } from "../../src/agent/collector/decode.ts";

async function trigger(cmd: string, dir: string) {
  const r = await run([fixture("trig-file"), cmd, dir]);
  expect(r.code).toBe(0);
  const out = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split("=")));
  return { pid: r.pid, out: out as Record<string, string> };
}

const pick = (evs: DecodedEvent[], ...keys: string[]) => evs.map((e) => Object.fromEntries(keys.map((k) => [k, e.fields[k]])));

/** The s_id the kernel gives the superblock `path` is on, from sources independent of Vigil:
 * for a block-device filesystem the device's name (its DEVNAME; ext4 names /sys/fs/ext4/<s_id>
 * after the same string), else the filesystem type (the default s_id of a superblock without a
 * device, e.g. "tmpfs"), found by the path's st_dev in /proc/self/mountinfo. */
function sidOf(path: string): string {
  const dev = statSync(path, { bigint: true }).dev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  if (major !== 0) {
    const uevent = readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, "utf8");
    return /^DEVNAME=(.*)$/m.exec(uevent)![1];
  }
  const line = readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[2] === `${major}:${minor}`)!;
  return line.split(" - ")[1].split(" ")[0];
}

describe.skipIf(!canLoadBpf)("file events", () => {
  test("open and file_create: variants, created vs existing, relative, dirfd, failure", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    const c = collect(["open", "file_create"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("open", dir);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "file_create" && e.fields.file_path.endsWith("/fifo"));
    } finally {
      await c.stop();
    }
    // (the spawner's and the loader's own opens before main() are not part of the check)
    const opens = c.of(t.pid, "open").filter((e) => e.fields.file.startsWith(`${dir}/`));
    expect(pick(opens, "file", "res")).toEqual([
      { file: `${dir}/new file ü.txt`, res: t.out.created },
      { file: `${dir}/new file ü.txt`, res: t.out.existing },
      { file: `${dir}/missing/x`, res: "-2" },
      { file: `${dir}/rel.txt`, res: t.out.relative },
      { file: `${dir}/creat.txt`, res: t.out.creat },
      { file: `${dir}/at.txt`, res: t.out.at_dirfd },
      { file: `${dir}/at.txt`, res: t.out.openat2 },
    ]);
    expect(opens[0].fields.mode).toBe("640");
    expect(Number(opens[0].fields.flags) & 0o100).toBe(0o100); // O_CREAT
    const created = c.of(t.pid, "file_create").map((e) => e.fields.file_path);
    // the second O_CREAT open of the same file, and the openat2 of an existing one, create nothing
    expect(created).toEqual([`${dir}/new file ü.txt`, `${dir}/rel.txt`, `${dir}/creat.txt`, `${dir}/at.txt`, `${dir}/fifo`]);
    // the opened file's own superblock for an open, the directory's for mknodat
    expect(new Set(c.of(t.pid, "file_create").map((e) => e.fields.sb_id))).toEqual(new Set([sidOf(dir)]));
  });

  test("mkdir, chmod, rename, link, symlink, truncate, unlink, rmdir, chdir", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    const names = ["mkdir", "chmod", "rename", "link", "symlink", "truncate", "unlink", "rmdir", "chdir"];
    const c = collect(names);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("ops", dir);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "chdir" && e.fields.res === "0" && e.fields.file === dir && c.of(t.pid, "chdir").length >= 6);
    } finally {
      await c.stop();
    }
    const ev = (name: string) => c.of(t.pid, name);
    expect(pick(ev("mkdir"), "file", "mode", "res")).toEqual([
      { file: `${dir}/d`, mode: "750", res: "0" },
      { file: `${dir}/d2`, mode: "700", res: "0" },
      { file: `${dir}/d`, mode: "750", res: "-17" },
      { file: `${dir}/cd`, mode: "755", res: "0" },
    ]);
    expect(pick(ev("chmod"), "file", "mode", "res")).toEqual([
      { file: `${dir}/f`, mode: "600", res: "0" },
      { file: `${dir}/f`, mode: "640", res: "0" },
      { file: `${dir}/f`, mode: "604", res: "0" },
    ]);
    const sb = sidOf(dir);
    expect(pick(ev("rename"), "old_name", "new_name", "res", "sb_id")).toEqual([
      { old_name: `${dir}/f`, new_name: `${dir}/g`, res: "0", sb_id: sb },
      { old_name: `${dir}/g`, new_name: `${dir}/h`, res: "0", sb_id: sb },
    ]);
    expect(pick(ev("link"), "old_name", "new_name", "sb_id")).toEqual([
      { old_name: `${dir}/h`, new_name: `${dir}/hl`, sb_id: sb },
      { old_name: `${dir}/h`, new_name: `${dir}/hl2`, sb_id: sb },
    ]);
    expect(pick(ev("symlink"), "old_name", "new_name")).toEqual([
      { old_name: "../target-x", new_name: `${dir}/sl` },
      { old_name: "/etc/hostname", new_name: `${dir}/sl2` },
    ]);
    expect(pick(ev("truncate"), "file", "length")).toEqual([
      { file: `${dir}/h`, length: "10" },
      { file: `${dir}/h`, length: "3" }, // ftruncate of the fd opened as "f": the file's current name
    ]);
    expect(pick(ev("unlink"), "file", "res")).toEqual([
      { file: `${dir}/hl`, res: "0" },
      { file: `${dir}/hl2`, res: "0" },
      { file: `${dir}/nope`, res: "-2" },
    ]);
    expect(pick(ev("rmdir"), "file", "res")).toEqual([
      { file: `${dir}/d`, res: "0" },
      { file: `${dir}/d2`, res: "0" },
    ]);
    expect(pick(ev("chdir"), "file", "res")).toEqual([
      { file: dir, res: "0" }, // the trigger's own chdir(dir) at start
      { file: "/tmp", res: "0" },
      { file: dir, res: "0" },
      { file: `${dir}/cd`, res: "0" }, // chdir("cd"): the new cwd, not "cd" joined to it
      { file: `${dir}/cd/nope`, res: "-2" },
      { file: dir, res: "0" }, // chdir(".."): resolved
    ]);
  });

  test("sb_id of file_create (open, mknod), rename and link across mounts: nested, stacked, dirfd, AT_EMPTY_PATH", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    for (const sub of ["t", "st", "s"]) mkdirSync(`${dir}/${sub}`);
    const mounted: string[] = [];
    const mount = (type: string, at: string) => {
      expect(Bun.spawnSync(["mount", "-t", type, `vigil-${type}`, at]).exitCode).toBe(0);
      mounted.unshift(at);
    };
    const c = collect(["file_create", "rename", "link"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      mount("tmpfs", `${dir}/t`); // t: tmpfs, with a ramfs at t/r
      mkdirSync(`${dir}/t/r`);
      mount("ramfs", `${dir}/t/r`);
      mount("tmpfs", `${dir}/st`); // st: a ramfs stacked on a tmpfs
      mount("ramfs", `${dir}/st`);
      t = await trigger("sb", dir);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "link" && e.fields.new_name.endsWith("/e1"));
    } finally {
      await c.stop();
      for (const m of mounted) Bun.spawnSync(["umount", m]);
    }
    const root = sidOf(dir); // "vda" here: DIR is on the root filesystem
    expect(root).not.toBe("ramfs");
    const created = c.of(t.pid, "file_create").filter((e) => e.fields.file_path.startsWith(`${dir}/`));
    expect(pick(created, "file_path", "sb_id", "res")).toEqual([
      { file_path: `${dir}/t/o1`, sb_id: "tmpfs", res: t.out.open_t }, // the opened file's own
      { file_path: `${dir}/o2`, sb_id: root, res: t.out.open_dir },
      { file_path: `${dir}/t/n1`, sb_id: "tmpfs", res: "0" }, // absolute: from the root down
      { file_path: `${dir}/t/n2`, sb_id: "tmpfs", res: "0" }, // from a dirfd down
      { file_path: `${dir}/n3`, sb_id: root, res: "0" },
      { file_path: `${dir}/t/n4`, sb_id: "tmpfs", res: "0" }, // a dirfd inside the tmpfs
      { file_path: `${dir}/n5`, sb_id: root, res: "0" },
      { file_path: `${dir}/s/n6`, sb_id: root, res: "0" }, // "s/" has the length of "t/", not its name
      { file_path: `${dir}/t/r/n7`, sb_id: "ramfs", res: "0" }, // two crossings
      { file_path: `${dir}/st/n8`, sb_id: "ramfs", res: "0" }, // the top of a stack
    ]);
    expect(pick(c.of(t.pid, "rename"), "old_name", "new_name", "sb_id", "res")).toEqual([
      { old_name: `${dir}/t/o1`, new_name: `${dir}/t/o1r`, sb_id: "tmpfs", res: "0" },
      { old_name: `${dir}/t/o1r`, new_name: `${dir}/t/o1s`, sb_id: "tmpfs", res: "0" },
      { old_name: `${dir}/o2`, new_name: `${dir}/o2r`, sb_id: root, res: "0" },
      { old_name: `${dir}/o2r`, new_name: `${dir}/t/x`, sb_id: root, res: "-18" }, // EXDEV: old_name's
    ]);
    expect(pick(c.of(t.pid, "link"), "old_name", "new_name", "sb_id", "res")).toEqual([
      { old_name: `${dir}/t/o1s`, new_name: `${dir}/t/x`, sb_id: "tmpfs", res: "0" },
      { old_name: `${dir}/t/o1s`, new_name: `${dir}/t/o1l`, sb_id: "tmpfs", res: "0" },
      { old_name: `${dir}/o2r`, new_name: `${dir}/o2l`, sb_id: root, res: "0" },
      { old_name: `${dir}/t/o1s`, new_name: `${dir}/t/e1`, sb_id: "tmpfs", res: "0" }, // AT_EMPTY_PATH: the fd's own
    ]);
  });

  test("read, write (with buf), close, dup, stat: the off-by-default events", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    const c = collect(["read", "write", "close", "dup", "stat"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("rw", dir);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "close" && e.fields.file === `${dir}/data`);
    } finally {
      await c.stop();
    }
    const data = `${dir}/data`;
    const writes = c.of(t.pid, "write").filter((e) => e.fields.file === data);
    expect(pick(writes, "res", "buf", "count")).toEqual([
      { res: "28", buf: "hello vigil, this is a write", count: "28" },
      { res: "2", buf: "XY", count: "2" },
    ]);
    const reads = c.of(t.pid, "read").filter((e) => e.fields.file === data || e.fields.fd === "999");
    expect(pick(reads, "res", "fd")).toEqual([{ res: "5", fd: t.out.fd }, { res: "-9", fd: "999" }]);
    expect(pick(c.of(t.pid, "dup").filter((e) => e.fields.fd === t.out.fd), "fd", "newfd", "file")).toEqual([
      { fd: t.out.fd, newfd: t.out.dup, file: data },
      { fd: t.out.fd, newfd: "50", file: data },
      { fd: t.out.fd, newfd: "51", file: data },
    ]);
    const stats = c.of(t.pid, "stat").filter((e) => e.fields.file.startsWith(dir));
    expect(pick(stats, "file", "res")).toEqual([
      { file: data, res: "0" },
      { file: `${dir}/missing`, res: "-2" },
      { file: data, res: "0" },
      { file: data, res: "0" },
    ]);
    const closes = c.of(t.pid, "close").filter((e) => e.fields.fd === t.out.fd);
    expect(pick(closes, "file", "res")).toEqual([{ file: data, res: "0" }]);
  });

  test("a path deeper than 32 components keeps its last 32", async () => {
    using d = tempDir();
    const c = collect(["open"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("deep", d.path);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.fields.file.endsWith("/leaf"));
    } finally {
      await c.stop();
    }
    const e = c.of(t.pid, "open").find((x) => x.fields.file.endsWith("/leaf"))!;
    const parts = e.fields.file.split("/").slice(1);
    expect(parts.length).toBe(32);
    expect(parts[30]).toBe("d39");
    expect(parts[0]).toBe("d09");
  });

  test("names of every length to 255 bytes, UTF-8 included, are copied whole", async () => {
    // The kernel walk copies each name in 8-byte words from its end backwards: lengths around
    // word boundaries and the longest name are where an off-by-one would show.
    using d = tempDir();
    const names = ["a", "bcdefgh", "ijklmnop", "qrstuvwxy", "0123456789abcdef", "0123456789abcdefg", "naïve-文件", "n".repeat(255)];
    const dir = `${realpathSync(d.path)}/${names.join("/")}`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/f`;
    await Bun.write(file, "x");
    const c = collect(["open"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["cat", file]);
      expect(r.code).toBe(0);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.file.endsWith("/f"));
    } finally {
      await c.stop();
    }
    const e = c.of(r.pid, "open").find((x) => x.fields.file.endsWith("/f"))!;
    expect(e.fields.file).toBe(file);
  });

  test("a cwd-relative path joined longer than 4095 bytes keeps its end (the name)", async () => {
    // 12 directories of 255-byte names as the cwd, then a 1,500-byte relative name: 4,6xx
    // bytes joined. mkdir fails (ENOENT: the name's directories do not exist) and is reported.
    using d = tempDir();
    const segs = Array.from({ length: 12 }, (_, i) => String(i % 10).repeat(255));
    const rel = Array.from({ length: 6 }, (_, i) => String.fromCharCode(97 + i).repeat(249)).join("/");
    const script = `set -e; ${segs.map((n) => `mkdir ${n}; cd ${n}`).join("; ")}; exec mkdir ${rel}`;
    const c = collect(["mkdir"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["bash", "-c", script], { cwd: d.path });
      expect(r.code).not.toBe(0);
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.fields.res === "-2");
    } finally {
      await c.stop();
    }
    const full = `${realpathSync(d.path)}/${segs.join("/")}/${rel}`;
    expect(full.length).toBeGreaterThan(4095);
    const e = c.of(r.pid, "mkdir").find((x) => x.fields.res === "-2")!;
    expect(e.fields.file.length).toBe(4095);
    expect(e.fields.file).toBe(full.slice(-4095));
  });

  test("the shared path program attaches only at the selected events' syscalls", async () => {
    // vigil_path1_exit serves unlink, rmdir, mkdir, chmod, chdir, truncate and stat; with
    // rmdir alone it sits on rmdir and unlinkat (which may be either) and nowhere else.
    using d = tempDir();
    const c = collect(["rmdir"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      const shared = c.collector.bpf.attached.filter((p) => p.name === "vigil_path1_exit").map((p) => p.section).sort();
      expect(shared).toEqual(["tracepoint/syscalls/sys_exit_rmdir", "tracepoint/syscalls/sys_exit_unlinkat"]);
      t = await trigger("ops", d.path);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.fields.file.endsWith("/d2"));
      await Bun.sleep(200);
    } finally {
      await c.stop();
    }
    const dir = realpathSync(d.path);
    // unlinkat(dfd, "hl2", 0) ran through the same program and tracepoint: not an rmdir
    expect(c.of(t.pid).map((e) => [e.event, e.fields.file])).toEqual([["rmdir", `${dir}/d`], ["rmdir", `${dir}/d2`]]);
  });

  test("events not selected are not reported", async () => {
    using d = tempDir();
    const c = collect(["mkdir"]);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("ops", d.path);
      await c.waitFor((e) => e.fields.tgid === String(t.pid));
      await Bun.sleep(200);
    } finally {
      await c.stop();
    }
    expect(new Set(c.of(t.pid).map((e) => e.event))).toEqual(new Set(["mkdir"]));
  });
});
