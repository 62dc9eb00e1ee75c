// Event specifications of the process family. Mirror of bpf/events/process.h (offsets are
// checked against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec } from "./types.ts";
import { fld, hid, RES, sockFields, argvString, rawStr } from "./common.ts";
import { HDR } from "../layouts.ts";

const FILE_TYPES: Record<number, string> = { 1: "pipe", 12: "socket" };

/** Offsets of the members the derives below read from the record themselves (hidden fields:
 * the spec entries use the same names, so the BTF layout test checks these). */
const EXECVE = {
  stdin_ino: 208, stdout_ino: 216, stdin_type: 224, stdout_type: 228, env: 260,
  memcg_id: 264, exe_size: 272, exe_mtime_ns: 280,
} as const;
const EXIT_LAST_THREAD = 160;
/** struct vigil_fork: res and flags (read from the record, not parsed back from the fields). */
const FORK = { res: 152, flags: 160 } as const;

export const processEvents: EventSpec[] = [
  {
    name: "execve", dt: 59, family: "process", struct: "vigil_execve", size: 288, defaultOn: true,
    programs: ["vigil_execve_success", "vigil_execve_exit", "vigil_execveat_exit"],
    fields: [
      RES,
      fld("argv", 232, "str"),
      fld("filename", 236, "str"),
      fld("exe_path", 240, "str"),
      fld("run_path", 244, "str"),
      fld("tty", 248, "str"),
      fld("stdin", 252, "str", "stdin_path"),
      fld("stdout", 256, "str", "stdout_path"),
      hid("stdin_type", EXECVE.stdin_type, "u32"),
      hid("stdout_type", EXECVE.stdout_type, "u32"),
      hid("stdin_ino", EXECVE.stdin_ino, "u64"),
      hid("stdout_ino", EXECVE.stdout_ino, "u64"),
      hid("env", EXECVE.env, "str"), // only what detection needs leaves the host, not the environment
      hid("memcg_id", EXECVE.memcg_id, "u64"),
      hid("exe_size", EXECVE.exe_size, "u64"),
      hid("exe_mtime_ns", EXECVE.exe_mtime_ns, "u64"),
      ...sockFields(184, "peer", 160, "local"),
    ],
    derive(rec, f, ctx) {
      f.argv = argvString(f.argv) || f.filename;
      const env = rawStr(rec, EXECVE.env); // the environment block, searched without decoding it
      f.ld_preload = envValueIn(env, LD_PRELOAD);
      f.ssh = envValueIn(env, SSH_CONNECTION);
      // a pipe or socket on stdin/stdout has no path: its inode, as /proc/PID/fd shows it
      const inType = FILE_TYPES[rec.getUint32(EXECVE.stdin_type, true)];
      if (!f.stdin && inType) f.stdin = `${inType}:[${rec.getBigUint64(EXECVE.stdin_ino, true)}]`;
      const outType = FILE_TYPES[rec.getUint32(EXECVE.stdout_type, true)];
      if (!f.stdout && outType) f.stdout = `${outType}:[${rec.getBigUint64(EXECVE.stdout_ino, true)}]`;
      if (f.sa_family === "0") f.sa_family = f.dip = f.dport = f.sip = f.sport = "";
      if (f.res === "0") {
        // the header's exe inode is the new image's (read after the exec), so the enricher can
        // remember the path by inode for this process's later events
        ctx.enricher?.onExec(Number(f.tgid), Number(f.ppid), f.exe_path, f.argv, f.comm,
          rec.getUint32(HDR.exe_dev, true), rec.getUint32(HDR.exe_ino, true), {
            size: rec.getBigUint64(EXECVE.exe_size, true),
            mtimeNs: rec.getBigUint64(EXECVE.exe_mtime_ns, true),
            memcgId: rec.getBigUint64(EXECVE.memcg_id, true),
          });
      }
    },
    summary: "program executions (execve, execveat), with argv, cwd, tty, stdin/stdout",
  },
  {
    name: "fork", dt: 57, family: "process", struct: "vigil_fork", size: 168, defaultOn: true,
    programs: ["vigil_fork_exit", "vigil_vfork_exit"],
    fields: [RES, fld("flags", FORK.flags, "hex")],
    derive: (rec, f, ctx) => forked(rec, f, ctx),
    summary: "fork and vfork (res = the child's pid)",
  },
  {
    name: "clone", dt: 56, family: "process", struct: "vigil_fork", size: 168, defaultOn: true,
    programs: ["vigil_clone_exit", "vigil_clone3_exit"],
    fields: [RES, fld("flags", FORK.flags, "hex")],
    derive: (rec, f, ctx) => forked(rec, f, ctx),
    summary: "clone and clone3 (res = the child's pid or tid; flags say which)",
  },
  {
    name: "exit", dt: 60, family: "process", struct: "vigil_exit", size: 168, defaultOn: true,
    programs: ["vigil_exit_enter"], fields: [fld("code", 152, "i64"), hid("last_thread", EXIT_LAST_THREAD, "u32")],
    derive: (rec, f, ctx) => exited(rec, f, ctx),
    summary: "a thread's exit(code)",
  },
  {
    name: "exit_group", dt: 231, family: "process", struct: "vigil_exit", size: 168, defaultOn: true,
    programs: ["vigil_exit_group_enter"], fields: [fld("code", 152, "i64"), hid("last_thread", EXIT_LAST_THREAD, "u32")],
    derive: (rec, f, ctx) => exited(rec, f, ctx),
    summary: "a process's exit_group(code)",
  },
  {
    name: "setsid", dt: 112, family: "process", struct: "vigil_res", size: 160, defaultOn: true,
    programs: ["vigil_setsid_exit"], fields: [RES],
    summary: "a new session (res = the session id)",
  },
  {
    name: "prctl", dt: 157, family: "process", struct: "vigil_prctl", size: 168, defaultOn: true,
    programs: ["vigil_prctl_exit"],
    fields: [RES, fld("option", 160, "u32"), fld("new_name", 164, "str")],
    summary: "prctl(PR_SET_NAME): a thread renaming itself",
  },
  {
    name: "kill", dt: 62, family: "process", struct: "vigil_kill", size: 168, defaultOn: true,
    programs: ["vigil_kill_exit"],
    fields: [RES, fld("target_pid", 160, "i32"), fld("sig", 164, "i32")],
    summary: "kill(pid, sig)",
  },
  {
    name: "tkill", dt: 200, family: "process", struct: "vigil_kill", size: 168, defaultOn: true,
    programs: ["vigil_tkill_exit", "vigil_tgkill_exit"],
    fields: [RES, fld("target_pid", 160, "i32"), fld("sig", 164, "i32")],
    summary: "tkill and tgkill (signals to one thread)",
  },
  {
    name: "ptrace", dt: 101, family: "process", struct: "vigil_ptrace", size: 192, defaultOn: true,
    programs: ["vigil_ptrace_exit"],
    fields: [RES, fld("ptrace_request", 160, "i64", "request"), fld("target_pid", 184, "i32"), fld("addr", 168, "hex"), fld("data", 176, "hex")],
    summary: "ptrace, every request (Elkeid reports POKETEXT=4/POKEDATA=5 only)",
  },
];

const LD_PRELOAD = new TextEncoder().encode("LD_PRELOAD=");
const SSH_CONNECTION = new TextEncoder().encode("SSH_CONNECTION=");
const utf8 = new TextDecoder();


/**
 * One variable's value from a NUL-separated environment block ("" when absent), found in the
 * bytes: the block is up to 4 KiB per exec, and decoding then splitting it cost ~10 us. One
 * native search for the key, then a check that it starts an entry. key is "NAME=" encoded.
 */
export function envValueIn(env: Uint8Array, key: Uint8Array): string {
  const b = Buffer.from(env.buffer, env.byteOffset, env.length);
  for (let at = b.indexOf(key); at >= 0; at = b.indexOf(key, at + 1)) {
    if (at > 0 && env[at - 1] !== 0) continue; // inside another entry's name or value
    const from = at + key.length;
    const z = env.indexOf(0, from);
    return utf8.decode(env.subarray(from, z < 0 ? env.length : z));
  }
  return "";
}

/** exit_group, or exit of the process's only live thread: the process is gone. The flag is
 * internal (Elkeid's exit events have no such field). */
function exited(rec: DataView, f: Record<string, string>, ctx: Parameters<NonNullable<EventSpec["derive"]>>[2]): void {
  if (rec.getUint32(EXIT_LAST_THREAD, true) === 1) ctx.enricher?.onExit(Number(f.tgid));
}

const CLONE_THREAD = 0x10000;
function forked(rec: DataView, f: Record<string, string>, ctx: Parameters<NonNullable<EventSpec["derive"]>>[2]): void {
  const child = Number(rec.getBigInt64(FORK.res, true));
  if (child > 0 && (rec.getUint32(FORK.flags, true) & CLONE_THREAD) === 0) ctx.enricher?.onFork(Number(f.tgid), child, f.comm);
}
