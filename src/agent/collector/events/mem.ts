// Event specifications of the memory/misc process events (family "process"). Mirror of
// bpf/events/mem.h (offsets are checked against the object's BTF by btf-layout.test.ts).
import { existsSync } from "node:fs";
import type { EventSpec } from "./types.ts";
import { exits, fld, RES } from "./common.ts";


export const memEvents: EventSpec[] = [
  {
    name: "mmap", dt: 9, family: "process", struct: "vigil_mmap", size: 192, defaultOn: false,
    programs: exits("mmap"),
    fields: [RES, fld("addr", 160, "hex"), fld("len", 168, "u64"), fld("prot", 176, "u32"), fld("flags", 180, "hex32"), fld("fd", 184, "i32"), fld("file", 188, "str")],
    summary: "mmap (high volume: every program start maps its libraries)",
  },
  {
    name: "mprotect", dt: 10, family: "process", struct: "vigil_mprotect", size: 192, defaultOn: true,
    programs: exits("mprotect"),
    fields: [RES, fld("addr", 160, "hex"), fld("len", 168, "u64"), fld("mprotect_prot", 176, "u32", "prot"), fld("owner_pid", 180, "u32"), fld("owner_file", 184, "str"), fld("vm_file", 188, "str")],
    summary: "mprotect adding PROT_EXEC (vm_file = the mapping's file, empty if anonymous)",
  },
  {
    name: "pipe", dt: 22, family: "process", struct: "vigil_pipe", size: 176, defaultOn: true,
    programs: exits("pipe", "pipe2"),
    fields: [RES, fld("fd0", 160, "i32"), fld("fd1", 164, "i32"), fld("flags", 168, "hex32")],
    summary: "pipe, pipe2",
  },
  {
    name: "memfd_create", dt: 356, family: "process", struct: "vigil_memfd", size: 168, defaultOn: true,
    programs: exits("memfd_create"),
    fields: [RES, fld("flags", 160, "hex32"), fld("fd_name", 164, "str")],
    summary: "memfd_create (fileless payloads)",
  },
  {
    name: "nanosleep", dt: 35, family: "process", struct: "vigil_nanosleep", size: 176, defaultOn: false,
    programs: exits("nanosleep", "clock_nanosleep"),
    fields: [RES, fld("sec", 160, "i64"), fld("nsec", 168, "i64")],
    summary: "nanosleep, clock_nanosleep (high volume: every sleep loop)",
  },
  {
    name: "mount", dt: 165, family: "process", struct: "vigil_mount", size: 184, defaultOn: true,
    programs: exits("mount"),
    fields: [RES, fld("flags", 160, "hex"), fld("dev", 168, "str"), fld("file_path", 172, "str"), fld("fstype", 176, "str")],
    summary: "mount",
  },
  {
    name: "module_load", dt: 603, family: "process", struct: "vigil_module", size: 176, defaultOn: true,
    // Without module support (no /proc/modules) a load can only fail with ENOSYS, and only the
    // raw sys_exit hook sees the attempt: ~80 ns of program on every syscall of the host, +4.5%
    // on an exec storm (159 syscalls per posix_spawn). Asked for by name, it is attached.
    defaultWhen: () => existsSync("/proc/modules"),
    defaultWhenNote: "not in default on kernels without module support (its hook would run on every syscall)",
    programs: [
      "vigil_init_module_enter+vigil_init_module_exit+vigil_finit_module_enter+vigil_finit_module_exit" +
        "|vigil_module_raw_exit",
    ],
    fields: [RES, fld("fd", 160, "i32"), fld("syscall", 164, "u32", "nr"), fld("ko_file", 168, "str"), fld("run_path", 172, "str")],
    summary: "init_module, finit_module (raw syscall hooks where modules are compiled out)",
  },
];
