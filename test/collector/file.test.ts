// File family against the real kernel: every event and syscall variant, success and failure,
// absolute paths for relative and dirfd-based calls.
import { test, expect, describe } from "bun:test";
import { realpathSync } from "node:fs";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";
import type { DecodedEvent } from "../../src/agent/collector/decode.ts";

async function trigger(cmd: string, dir: string) {
  const r = await run([fixture("trig-file"), cmd, dir]);
  expect(r.code).toBe(0);
  const out = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split("=")));
  return { pid: r.pid, out: out as Record<string, string> };
}

const pick = (evs: DecodedEvent[], ...keys: string[]) => evs.map((e) => Object.fromEntries(keys.map((k) => [k, e.fields[k]])));

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
  });

  test("mkdir, chmod, rename, link, symlink, truncate, unlink, rmdir, chdir", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    const names = ["mkdir", "chmod", "rename", "link", "symlink", "truncate", "unlink", "rmdir", "chdir"];
    const c = collect(names);
    let t!: Awaited<ReturnType<typeof trigger>>;
    try {
      t = await trigger("ops", dir);
      await c.waitFor((e) => e.fields.tgid === String(t.pid) && e.event === "chdir" && e.fields.file === dir);
    } finally {
      await c.stop();
    }
    const ev = (name: string) => c.of(t.pid, name);
    expect(pick(ev("mkdir"), "file", "mode", "res")).toEqual([
      { file: `${dir}/d`, mode: "750", res: "0" },
      { file: `${dir}/d2`, mode: "700", res: "0" },
      { file: `${dir}/d`, mode: "750", res: "-17" },
    ]);
    expect(pick(ev("chmod"), "file", "mode", "res")).toEqual([
      { file: `${dir}/f`, mode: "600", res: "0" },
      { file: `${dir}/f`, mode: "640", res: "0" },
      { file: `${dir}/f`, mode: "604", res: "0" },
    ]);
    expect(pick(ev("rename"), "old_name", "new_name", "res")).toEqual([
      { old_name: `${dir}/f`, new_name: `${dir}/g`, res: "0" },
      { old_name: `${dir}/g`, new_name: `${dir}/h`, res: "0" },
    ]);
    expect(pick(ev("link"), "old_name", "new_name")).toEqual([
      { old_name: `${dir}/h`, new_name: `${dir}/hl` },
      { old_name: `${dir}/h`, new_name: `${dir}/hl2` },
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
