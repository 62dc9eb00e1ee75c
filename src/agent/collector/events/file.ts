// Event specifications of the file family. Mirror of bpf/events/file.h (offsets are checked
// against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec } from "./types.ts";
import { exits, fld, OPEN_EXITS, RES, progs, sharedExits } from "./common.ts";

/** bpf/file.bpf.c's shared programs: one image for every one-path syscall, one for the
 * two-path ones and mknod (cold code cost more than the work, see there). */
const path1 = (...sc: string[]) => sharedExits("vigil_path1_exit", ...sc);
const path2Exits = (...sc: string[]) => sharedExits("vigil_path2_exit", ...sc);

const pathOp = (file = "file") => [RES, fld("flags", 160, "u32"), fld(file, 164, "str", "file")];
const pathMode = [RES, fld("mode", 160, "octal"), fld("file", 164, "str")];
const path2 = [RES, fld("flags", 160, "u32"), fld("old_name", 164, "str"), fld("new_name", 168, "str")];
const path2Sb = [...path2, fld("sb_id", 172, "str")];
const CREATE_SOCKET_FIELDS = ["sa_family", "dip", "dport", "sip", "sport", "socket_pid"];
const rw = [RES, fld("count", 160, "u64"), fld("fd", 168, "i32"), fld("file", 172, "str"), fld("buf", 176, "str")];

export const fileEvents: EventSpec[] = [
  {
    name: "open", dt: 2, family: "file", struct: "vigil_open", size: 176, defaultOn: true,
    programs: OPEN_EXITS, // exits only: the arguments are read from the saved registers
    fields: [RES, fld("flags", 160, "u32"), fld("mode", 164, "octal"), fld("file", 168, "str")],
    summary: "open, openat, openat2, creat (file = the opened file's path)",
  },
  {
    name: "file_create", dt: 602, family: "file", struct: "vigil_file_create", size: 176, defaultOn: true,
    programs: [...OPEN_EXITS, ...path2Exits("mknod", "mknodat")],
    fields: [RES, fld("mode", 160, "octal"), fld("file_path", 164, "str"), fld("sb_id", 168, "str")],
    // Elkeid's socket of the creating process: finding it means scanning the process's fds
    // (and its ancestors'), far beyond a file event's budget, so the fields stay empty.
    derive(_rec, f) {
      for (const k of CREATE_SOCKET_FIELDS) f[k] = "";
    },
    summary: "a file created (an open that created it, mknod, mknodat)",
  },
  {
    name: "unlink", dt: 605, family: "file", struct: "vigil_path_op", size: 168, defaultOn: true,
    programs: path1("unlink", "unlinkat"), fields: pathOp(),
    summary: "unlink, unlinkat (files)",
  },
  {
    name: "rmdir", dt: 606, family: "file", struct: "vigil_path_op", size: 168, defaultOn: true,
    programs: path1("rmdir", "unlinkat"), fields: pathOp(),
    summary: "rmdir, unlinkat(AT_REMOVEDIR)",
  },
  {
    name: "rename", dt: 82, family: "file", struct: "vigil_path2", size: 176, defaultOn: true,
    programs: path2Exits("rename", "renameat", "renameat2"), fields: path2Sb,
    summary: "rename, renameat, renameat2",
  },
  {
    name: "link", dt: 86, family: "file", struct: "vigil_path2", size: 176, defaultOn: true,
    programs: path2Exits("link", "linkat"), fields: path2Sb,
    summary: "hard links: link, linkat",
  },
  {
    name: "symlink", dt: 88, family: "file", struct: "vigil_path2", size: 176, defaultOn: true,
    programs: path2Exits("symlink", "symlinkat"), fields: path2,
    summary: "symlink, symlinkat (old_name = the target as written)",
  },
  {
    name: "chmod", dt: 90, family: "file", struct: "vigil_path_mode", size: 168, defaultOn: true,
    // fchmodat2 (kernel 6.6+) where its tracepoint exists
    programs: [...path1("chmod", "fchmod", "fchmodat"), `${path1("fchmodat2")[0]}|${path1("fchmodat")[0]}`],
    fields: pathMode,
    summary: "chmod, fchmod, fchmodat, fchmodat2",
  },
  {
    name: "chdir", dt: 80, family: "file", struct: "vigil_path_op", size: 168, defaultOn: true,
    programs: path1("chdir", "fchdir"), fields: pathOp(),
    summary: "chdir, fchdir",
  },
  {
    name: "mkdir", dt: 83, family: "file", struct: "vigil_path_mode", size: 168, defaultOn: true,
    programs: path1("mkdir", "mkdirat"), fields: pathMode,
    summary: "mkdir, mkdirat",
  },
  {
    name: "truncate", dt: 76, family: "file", struct: "vigil_truncate", size: 176, defaultOn: true,
    programs: path1("truncate", "ftruncate"),
    fields: [RES, fld("length", 160, "i64"), fld("file", 168, "str")],
    summary: "truncate, ftruncate",
  },
  {
    name: "stat", dt: 4, family: "file", struct: "vigil_path_op", size: 168, defaultOn: false,
    programs: path1("newstat", "newlstat", "newfstat", "newfstatat", "statx"), fields: pathOp(),
    summary: "stat, lstat, fstat, newfstatat, statx (high volume)",
  },
  {
    name: "read", dt: 0, family: "file", struct: "vigil_rw", size: 184, defaultOn: false,
    programs: exits("read", "pread", "readv"), fields: rw,
    summary: "read, pread64, readv (high volume)",
  },
  {
    name: "write", dt: 1, family: "file", struct: "vigil_rw", size: 184, defaultOn: false,
    programs: exits("write", "pwrite", "writev"), fields: rw,
    summary: "write, pwrite64, writev; buf = the first 64 bytes written (high volume)",
  },
  {
    name: "close", dt: 3, family: "file", struct: "vigil_fd_op", size: 176, defaultOn: false,
    programs: progs("close"), fields: [RES, fld("fd", 160, "i32"), fld("file", 168, "str")],
    summary: "close (high volume)",
  },
  {
    name: "dup", dt: 32, family: "file", struct: "vigil_fd_op", size: 176, defaultOn: false,
    programs: exits("dup", "dup2", "dup3"),
    fields: [RES, fld("fd", 160, "i32"), fld("newfd", 164, "i32"), fld("file", 168, "str")],
    summary: "dup, dup2, dup3 (newfd = the result)",
  },
];
