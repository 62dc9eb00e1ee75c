// Credential family against the real kernel: set*id calls from a root trigger that drops to
// nobody (65534) and raises back, refused calls as nobody, real setuid-root programs, and
// privilege escalation (611) with its state rewritten the way a kernel exploit leaves it.
import { test, expect, describe } from "bun:test";
import { copyFileSync, chmodSync, chownSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { canLoadBpf, collect, fixture, run, tempDir, waitFor } from "../harness.ts";
import { libbpf } from "../../src/agent/collector/libbpf.ts";
import type { Collector } from "../../src/agent/collector/index.ts";
import type { DecodedEvent } from "../../src/agent/collector/decode.ts";
import { BY_DT } from "../../src/agent/collector/catalog.ts";

const trig = () => fixture("trig-cred");
const SETID = ["setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid"];
const NOBODY = "65534";
const ROOT = "0|0|0|0|0|0|0|0";

/** Fields of one event name of one process, in order, reduced to the listed keys. */
function rows(events: DecodedEvent[], name: string, keys: string[]): string[][] {
  return events.filter((e) => e.event === name).map((e) => keys.map((k) => e.fields[k]));
}

/** A setuid-root copy of the trigger in a directory nobody can reach. */
function suidCopy(dir: string, mode = 0o4755): string {
  chmodSync(dir, 0o755);
  const prog = join(dir, "suid-prog");
  copyFileSync(trig(), prog);
  chownSync(prog, 0, 0);
  chmodSync(prog, mode);
  return prog;
}

// ---- 611 helpers: rewrite a thread's credential state (task storage, keyed by a pidfd) ----
const libcSys = dlopen("libc.so.6", {
  syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
}).symbols;
const SYS_pidfd_open = 434;

/** Make the kernel believe `pid` last held uid/euid 1000: what an exploit that swapped the
 * credentials of a root-started process behind the kernel's back would look like. */
function forgeState(collector: Collector, pid: number, uid = 1000): void {
  const pidfd = Number(libcSys.syscall(SYS_pidfd_open, pid, 0));
  expect(pidfd).toBeGreaterThan(0);
  // struct cred_state (bpf/lib/cred-state.h): uid, euid, exec_uid, exec_euid, exec_nr, known
  const key = new Int32Array([pidfd]);
  const val = new Uint32Array([uid, uid, 0, 0, 0, 1]);
  try {
    expect(libbpf().bpf_map_update_elem(collector.bpf.mapFd("cred_state"), ptr(key), ptr(val), 0n)).toBe(0);
  } finally {
    libcSys.close(pidfd);
  }
}

/** Start `trig-cred wait-then <what>`, forge its state once it waits, let it go. */
async function forgedRun(collector: Collector, what: string): Promise<number> {
  const p = Bun.spawn([trig(), "wait-then", what], { stdin: "pipe", stdout: "pipe" });
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) out += new TextDecoder().decode((await reader.read()).value);
  const pid = Number(/pid=(\d+)/.exec(out)![1]);
  expect(pid).toBe(p.pid);
  // forge only once it sleeps in read(0): that read's exit is then its first syscall exit
  expect(await waitFor(() => readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("0 "))).toBe(true);
  forgeState(collector, pid);
  p.stdin.write("go\n");
  p.stdin.end();
  expect(await p.exited).toBe(0);
  return pid;
}

describe.skipIf(!canLoadBpf)("user (credential) events", () => {
  test("set*id: requested ids, ids before/after, EPERM as nobody, 604 on every raise, no 611", async () => {
    const c = collect([...SETID, "cred_root", "priv_esc", "priv_esc_sweep"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "drop-and-raise"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("setresuid_raise=0");
      await c.waitFor((e) => e.fields.tgid === String(r.pid) && e.event === "setresuid" && e.fields.req_ruid === "0");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const ev = c.of(r.pid);
    const gidKeys = ["res", "old_gid", "old_egid", "new_gid", "new_egid"];
    const uidKeys = ["res", "old_uid", "old_euid", "new_uid", "new_euid"];
    expect(rows(ev, "setresgid", ["req_rgid", "req_egid", "req_sgid", ...gidKeys])).toEqual([
      ["65534", "65534", "0", "0", "0", "0", "65534", "65534"],
      ["-1", "12345", "-1", "-1", "0", "0", "0", "0"],
    ]);
    expect(rows(ev, "setregid", ["req_rgid", "req_egid", ...gidKeys])).toEqual([
      ["-1", "0", "0", "65534", "65534", "65534", "0"],
      ["12345", "-1", "-1", "0", "0", "0", "0"],
    ]);
    expect(rows(ev, "setgid", ["req_gid", ...gidKeys])).toEqual([
      ["0", "0", "65534", "0", "0", "0"],
      ["12345", "-1", "0", "0", "0", "0"],
    ]);
    expect(rows(ev, "setresuid", ["req_ruid", "req_euid", "req_suid", ...uidKeys])).toEqual([
      ["65534", "65534", "0", "0", "0", "0", NOBODY, NOBODY],
      ["-1", "12345", "-1", "-1", NOBODY, NOBODY, NOBODY, NOBODY],
      ["65534", "65534", "0", "0", "0", "0", NOBODY, NOBODY],
      ["0", "0", "0", "0", NOBODY, NOBODY, "0", "0"],
    ]);
    expect(rows(ev, "setreuid", ["req_ruid", "req_euid", ...uidKeys])).toEqual([
      ["12345", "-1", "-1", NOBODY, NOBODY, NOBODY, NOBODY],
      ["-1", "0", "0", NOBODY, NOBODY, NOBODY, "0"],
    ]);
    // the common uid stays the caller's (taken at the exit), not the requested id
    expect(rows(ev, "setuid", ["req_uid", "uid", ...uidKeys])).toEqual([
      ["12345", NOBODY, "-1", NOBODY, NOBODY, NOBODY, NOBODY],
      ["0", "0", "0", NOBODY, "0", "0", "0"],
    ]);
    // raised three times: the euid by setreuid, the uid by setuid, both by setresuid
    expect(rows(ev, "cred_root", ["syscall", "old_uid", "old_euid", "res"])).toEqual([
      ["113", NOBODY, NOBODY, "0"],
      ["105", NOBODY, "0", "0"],
      ["117", NOBODY, NOBODY, "0"],
    ]);
    expect(rows(ev, "priv_esc", ["seen_at"])).toEqual([]); // a legitimate path is no escalation
  });

  test("a switched-off event is not reported while its programs run for another", async () => {
    // setuid alone: its programs also feed cred_root, which is off
    const a = collect(["setuid"]);
    let r1!: Awaited<ReturnType<typeof run>>;
    try {
      r1 = await run([trig(), "drop-and-raise"]);
      await a.waitFor((e) => e.fields.tgid === String(r1.pid) && e.fields.req_uid === "0");
      await Bun.sleep(100);
    } finally {
      await a.stop();
    }
    expect(a.of(r1.pid).map((e) => e.event)).toEqual(["setuid", "setuid"]);
    // cred_root alone: the set*uid programs run, their events are off
    const b = collect(["cred_root"]);
    let r2!: Awaited<ReturnType<typeof run>>;
    try {
      r2 = await run([trig(), "drop-and-raise"]);
      await b.waitFor((e) => e.fields.tgid === String(r2.pid) && e.fields.syscall === "117");
      await Bun.sleep(100);
    } finally {
      await b.stop();
    }
    expect(b.of(r2.pid).map((e) => e.event)).toEqual(["cred_root", "cred_root", "cred_root"]);
  });

  test("exec of a setuid-root program by nobody: 604 through execve and execveat", async () => {
    using d = tempDir();
    const prog = suidCopy(d.path);
    const c = collect(["cred_root", "priv_esc", "priv_esc_sweep"]);
    const runs: Awaited<ReturnType<typeof run>>[] = [];
    try {
      for (const via of ["execve", "execveat"]) {
        const r = await run([trig(), "exec-as", NOBODY, prog, via]);
        expect(r.stdout.trim()).toBe(`uid=${NOBODY} euid=0`);
        runs.push(r);
      }
      await c.waitFor((e) => e.fields.tgid === String(runs[1].pid) && e.event === "cred_root");
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const keys = ["syscall", "old_uid", "old_euid", "res", "uid"];
    expect(rows(c.of(runs[0].pid), "cred_root", keys)).toEqual([["59", NOBODY, NOBODY, "0", NOBODY]]);
    expect(rows(c.of(runs[1].pid), "cred_root", keys)).toEqual([["322", NOBODY, NOBODY, "0", NOBODY]]);
    for (const r of runs) expect(c.of(r.pid, "priv_esc")).toEqual([]);
  });

  test("exec of the same program without the setuid bit: no 604", async () => {
    using d = tempDir();
    using d2 = tempDir();
    const prog = suidCopy(d.path, 0o755);
    const c = collect(["cred_root", "priv_esc"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "exec-as", NOBODY, prog]);
      expect(r.stdout.trim()).toBe(`uid=${NOBODY} euid=${NOBODY}`);
      // a later 604 of this collector proves the ring was read past the first exec
      const marker = await run([trig(), "exec-as", NOBODY, suidCopy(d2.path)]);
      await c.waitFor((e) => e.fields.tgid === String(marker.pid) && e.event === "cred_root");
    } finally {
      await c.stop();
    }
    expect(c.of(r.pid)).toEqual([]);
  });

  test("priv_esc: a raise back to root through i386 setresuid32 (int 0x80) is legitimate too", async () => {
    const c = collect(["priv_esc", "priv_esc_sweep"]);
    let r!: Awaited<ReturnType<typeof run>>;
    try {
      r = await run([trig(), "compat-raise"]);
      expect(r.stdout).toContain("raise=0\neuid=0");
      await Bun.sleep(200);
    } finally {
      await c.stop();
    }
    expect(c.of(r.pid, "priv_esc")).toEqual([]);
  });

  test("priv_esc_sweep: root the kernel never granted is reported once, at the next syscall exit", async () => {
    expect(BY_DT.get(611)?.name).toBe("priv_esc"); // the sweep is another name for 611
    const c = collect(["priv_esc_sweep"]);
    let pid = 0;
    try {
      pid = await forgedRun(c.collector, "getppid");
      await c.waitFor((e) => e.fields.tgid === String(pid));
      await Bun.sleep(100);
    } finally {
      await c.stop();
    }
    const ev = c.of(pid);
    expect(ev.map((e) => e.event)).toEqual(["priv_esc"]); // once, not at every later syscall
    // seen at the exit of the read() that returned the test's "go" line
    expect(ev[0].fields).toMatchObject({
      seen_at: "sys_exit", syscall: "0", compat: "0", old_uid: "1000", old_euid: "1000",
      p_pid: String(process.pid), c_cred: ROOT, uid: "0",
    });
    const me = (await Bun.file("/proc/self/status").text()).match(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m)!;
    expect(ev[0].fields.p_cred.split("|").slice(0, 4)).toEqual(me.slice(1, 5));
  });

  test("priv_esc checkpoints: fork (system()), execve, set*id entry, open, exit", async () => {
    const c = collect(["priv_esc"]);
    const seen: Record<string, string[][]> = {};
    try {
      for (const what of ["fork", "exec", "setgid", "open", "exit"]) {
        const pid = await forgedRun(c.collector, what);
        await c.waitFor((e) => e.fields.tgid === String(pid));
        await Bun.sleep(50);
        seen[what] = c.of(pid).map((e) => [e.event, e.fields.seen_at, e.fields.syscall, e.fields.old_uid, e.fields.c_cred]);
      }
    } finally {
      await c.stop();
    }
    expect(seen).toEqual({
      fork: [["priv_esc", "fork", "56", "1000", ROOT]], // glibc fork() is clone
      exec: [["priv_esc", "execve", "59", "1000", ROOT]],
      setgid: [["priv_esc", "setid", "106", "1000", ROOT]],
      open: [["priv_esc", "open", "257", "1000", ROOT]],
      exit: [["priv_esc", "exit", "231", "1000", ROOT]],
    });
  });

  test("priv_esc's open checkpoint rides the open event's program: one program per openat, both events", async () => {
    const c = collect(["priv_esc", "open", "file_create"]);
    let pid = 0;
    try {
      const names = c.collector.bpf.attached.map((p) => p.name);
      expect(names.filter((n) => n === "vigil_openat_exit")).toHaveLength(1);
      expect(names.filter((n) => /open|creat/.test(n)).sort()).toEqual(["vigil_creat_exit", "vigil_open_exit", "vigil_openat2_exit", "vigil_openat_exit"]);
      pid = await forgedRun(c.collector, "open");
      await c.waitFor((e) => e.fields.tgid === String(pid) && e.event === "priv_esc");
      await Bun.sleep(50);
    } finally {
      await c.stop();
    }
    const mine = c.of(pid);
    expect(rows(mine, "priv_esc", ["seen_at", "syscall", "old_uid"])).toEqual([["open", "257", "1000"]]);
    // the same openat is reported as an open, after the escalation was judged
    expect(rows(mine, "open", ["file", "res"]).filter(([f]) => f === "/etc/hostname")).toHaveLength(1);
  });
});
