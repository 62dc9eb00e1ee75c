// Event specifications of the process family. Mirror of bpf/events/process.h (offsets are
// checked against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec } from "./types.ts";
import { fld, RES, sockFields, argvString } from "./common.ts";
import { HDR } from "../layouts.ts";

const FILE_TYPES: Record<number, string> = { 1: "pipe", 12: "socket" };

export const processEvents: EventSpec[] = [
  {
    name: "execve", dt: 59, family: "process", struct: "vigil_execve", size: 264, defaultOn: true,
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
      fld("stdin_type", 224, "u32"),
      fld("stdout_type", 228, "u32"),
      fld("stdin_ino", 208, "u64"),
      fld("stdout_ino", 216, "u64"),
      fld("env", 260, "str"),
      ...sockFields(184, "peer", 160, "local"),
    ],
    derive(rec, f, ctx) {
      f.argv = argvString(f.argv) || f.filename;
      f.ld_preload = envValue(f.env, "LD_PRELOAD");
      f.ssh = envValue(f.env, "SSH_CONNECTION");
      delete f.env; // only what detection needs leaves the host, not the whole environment
      for (const k of ["stdin", "stdout"] as const) {
        const type = Number(f[`${k}_type`]);
        if (!f[k] && FILE_TYPES[type]) f[k] = `${FILE_TYPES[type]}:[${f[`${k}_ino`]}]`;
        delete f[`${k}_type`];
        delete f[`${k}_ino`];
      }
      if (f.sa_family === "0") f.sa_family = f.dip = f.dport = f.sip = f.sport = "";
      if (f.res === "0") {
        // the header's exe inode is the new image's (read after the exec), so the enricher can
        // remember the path by inode for this process's later events
        ctx.enricher?.onExec(Number(f.tgid), Number(f.ppid), f.exe_path, f.argv, f.comm,
          rec.getUint32(HDR.exe_dev, true), rec.getUint32(HDR.exe_ino, true));
      }
    },
    summary: "program executions (execve, execveat), with argv, cwd, tty, stdin/stdout",
  },
  {
    name: "fork", dt: 57, family: "process", struct: "vigil_fork", size: 168, defaultOn: true,
    programs: ["vigil_fork_exit", "vigil_vfork_exit"],
    fields: [RES, fld("flags", 160, "hex")],
    derive: (_r, f, ctx) => forked(f, ctx),
    summary: "fork and vfork (res = the child's pid)",
  },
  {
    name: "clone", dt: 56, family: "process", struct: "vigil_fork", size: 168, defaultOn: true,
    programs: ["vigil_clone_exit", "vigil_clone3_exit"],
    fields: [RES, fld("flags", 160, "hex")],
    derive: (_r, f, ctx) => forked(f, ctx),
    summary: "clone and clone3 (res = the child's pid or tid; flags say which)",
  },
  {
    name: "exit", dt: 60, family: "process", struct: "vigil_exit", size: 168, defaultOn: true,
    programs: ["vigil_exit_enter"], fields: [fld("code", 152, "i64"), fld("last_thread", 160, "u32")],
    derive: (_r, f, ctx) => exited(f, ctx),
    summary: "a thread's exit(code)",
  },
  {
    name: "exit_group", dt: 231, family: "process", struct: "vigil_exit", size: 168, defaultOn: true,
    programs: ["vigil_exit_group_enter"], fields: [fld("code", 152, "i64"), fld("last_thread", 160, "u32")],
    derive: (_r, f, ctx) => exited(f, ctx),
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

/** One variable from a NUL-separated environment block ("" when absent). */
export function envValue(env: string, name: string): string {
  const key = `${name}=`;
  for (const kv of env.split("\0")) if (kv.startsWith(key)) return kv.slice(key.length);
  return "";
}

/** exit_group, or exit of the process's only live thread: the process is gone. The flag is
 * internal (Elkeid's exit events have no such field). */
function exited(f: Record<string, string>, ctx: Parameters<NonNullable<EventSpec["derive"]>>[2]): void {
  if (f.last_thread === "1") ctx.enricher?.onExit(Number(f.tgid));
  delete f.last_thread;
}

const CLONE_THREAD = 0x10000n;
function forked(f: Record<string, string>, ctx: Parameters<NonNullable<EventSpec["derive"]>>[2]): void {
  const child = Number(f.res);
  if (child > 0 && (BigInt(f.flags) & CLONE_THREAD) === 0n) ctx.enricher?.onFork(Number(f.tgid), child, f.comm);
}
