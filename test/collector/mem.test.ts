// Memory and miscellaneous process events against the real kernel: mmap, mprotect(PROT_EXEC),
// pipe, memfd_create, nanosleep, mount, and module loading through the raw syscall hooks.
import { test, expect, describe } from "bun:test";
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canLoadBpf, collect, fixture, run, tempDir } from "../harness.ts";

const kv = (s: string) => Object.fromEntries(s.trim().split("\n").map((l) => l.split("="))) as Record<string, string>;

async function traced(names: string[], args: string[], last: (f: Record<string, string>) => boolean) {
  const c = collect(names);
  let r!: Awaited<ReturnType<typeof run>>;
  try {
    r = await run([fixture("trig-mem"), ...args]);
    expect(r.code).toBe(0);
    await c.waitFor((e) => e.fields.tgid === String(r.pid) && last(e.fields));
    await Bun.sleep(100);
  } finally {
    await c.stop();
  }
  return { c, r, out: kv(r.stdout) };
}

describe.skipIf(!canLoadBpf)("memory and misc process events", () => {
  test("mmap of a file (enabled explicitly)", async () => {
    using d = tempDir();
    const file = join(realpathSync(d.path), "mapped.bin");
    writeFileSync(file, Buffer.alloc(8192, 1));
    const { c, r, out } = await traced(["mmap"], ["mmap", file], (f) => f.file === file);
    const e = c.of(r.pid, "mmap").find((x) => x.fields.file === file)!;
    expect(e.fields).toMatchObject({ res: String(BigInt(out.addr)), addr: "0x0", len: "4096", prot: "1", flags: "0x2", fd: out.fd });
  });

  test("mprotect: PROT_EXEC on anonymous and file mappings; without PROT_EXEC nothing", async () => {
    using d = tempDir();
    const file = join(realpathSync(d.path), "code.bin");
    writeFileSync(file, Buffer.alloc(4096, 0xc3));
    const { c, r, out } = await traced(["mprotect"], ["mprotect", file], (f) => f.vm_file === file);
    const ev = c.of(r.pid, "mprotect").filter((e) => e.fields.addr === out.anon || e.fields.addr === out.file);
    expect(ev.map((e) => [e.fields.addr, e.fields.vm_file, e.fields.mprotect_prot, e.fields.res])).toEqual([
      [out.anon, "", "5", "0"],
      [out.file, file, "5", "0"],
    ]);
    // the last call (PROT_READ only, same address) is filtered in the kernel
    expect(c.of(r.pid, "mprotect").every((e) => (Number(e.fields.mprotect_prot) & 4) !== 0)).toBe(true);
    expect(ev[0].fields.owner_pid).toBe(String(r.pid));
    expect(ev[0].fields.owner_file).toBe(fixture("trig-mem"));
  });

  test("pipe and pipe2, memfd_create", async () => {
    const p = await traced(["pipe"], ["pipe"], (f) => f.flags === "0x0");
    expect(p.c.of(p.r.pid, "pipe").map((e) => [e.fields.fd0, e.fields.fd1, e.fields.flags, e.fields.res])).toEqual([
      [p.out.a0, p.out.a1, "0x80000", "0"],
      [p.out.b0, p.out.b1, "0x0", "0"],
    ]);
    const m = await traced(["memfd_create"], ["memfd"], () => true);
    expect(m.c.of(m.r.pid, "memfd_create").map((e) => [e.fields.fd_name, e.fields.flags, e.fields.res])).toEqual([["vigil-payload", "0x1", m.out.memfd]]);
  });

  test("nanosleep and clock_nanosleep (off by default, enabled here)", async () => {
    const { c, r } = await traced(["nanosleep"], ["sleep"], (f) => f.nsec === "20000000");
    expect(c.of(r.pid, "nanosleep").map((e) => [e.fields.sec, e.fields.nsec, e.fields.res])).toEqual([["0", "10000000", "0"], ["0", "20000000", "0"]]);
  });

  test("mount: a tmpfs in a temp dir, and a failing one", async () => {
    using d = tempDir();
    const dir = realpathSync(d.path);
    const { c, r } = await traced(["mount"], ["mount", dir], (f) => f.res === "-2");
    expect(c.of(r.pid, "mount").map((e) => [e.fields.dev, e.fields.file_path, e.fields.fstype, e.fields.flags, e.fields.res])).toEqual([
      ["vigil-tmpfs", dir, "tmpfs", "0x2", "0"],
      ["none", "/nonexistent-vigil-dir", "tmpfs", "0x0", "-2"],
    ]);
  });

  test("events not selected are not reported (only pipe selected)", async () => {
    const { c, r } = await traced(["pipe"], ["mix"], () => true);
    expect(new Set(c.of(r.pid).map((e) => e.event))).toEqual(new Set(["pipe"]));
  });

  test("module load attempts are reported with the file and the kernel's answer", async () => {
    using d = tempDir();
    const ko = join(realpathSync(d.path), "evil.ko");
    writeFileSync(ko, Buffer.from("\x7fELF not really a module"));
    const { c, r, out } = await traced(["module_load"], ["module", ko], (f) => f.syscall === "175");
    const ev = c.of(r.pid, "module_load").map((e) => [e.fields.syscall, e.fields.ko_file, e.fields.fd, e.fields.res]);
    expect(ev).toEqual([
      ["313", ko, out.fd, out.finit_module],
      ["175", "", "-1", out.init_module],
    ]);
    expect(c.of(r.pid, "module_load")[0].fields.run_path).toBe(process.cwd());
    // the hook variant in use is reported (raw syscall hooks where modules are compiled out)
    const choice = [...c.collector.bpf.hookChoices.values()][0];
    expect(["vigil_module_raw_exit", "vigil_init_module_enter+vigil_init_module_exit+vigil_finit_module_enter+vigil_finit_module_exit"]).toContain(choice);
  });
});
