// The libbpf and libc bindings (bun:ffi). libbpf, libelf and zlib are embedded in the binary
// and loaded from memfds, dependencies first, so glibc matches libbpf's DT_NEEDED entries by
// soname and the host needs none of them installed.
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { memfdLibrary as memfd } from "../../common/native-lib.ts";
import { libc, errno, strerror, errnoName } from "./libc.ts";
import libzPath from "../../../build/lib/libz.so.1" with { type: "file" };
import libelfPath from "../../../build/lib/libelf.so.1" with { type: "file" };
import libbpfPath from "../../../build/lib/libbpf.so.1" with { type: "file" };

const { i32, u32, u64, i64, cstring, bool, void: V } = FFIType;
const P = "ptr" as const;
const usize = FFIType.u64;
export { libc, errno, strerror, errnoName };

const libbpfSymbols = {
  libbpf_set_print: { args: [P], returns: P },
  libbpf_num_possible_cpus: { args: [], returns: i32 },
  bpf_object__open_mem: { args: [P, usize, P], returns: P },
  bpf_object__load: { args: [P], returns: i32 },
  bpf_object__close: { args: [P], returns: V },
  bpf_object__next_program: { args: [P, P], returns: P },
  bpf_object__find_map_by_name: { args: [P, cstring], returns: P },
  bpf_object__find_program_by_name: { args: [P, cstring], returns: P },
  bpf_program__name: { args: [P], returns: cstring },
  bpf_program__section_name: { args: [P], returns: cstring },
  bpf_program__set_autoload: { args: [P, bool], returns: i32 },
  bpf_program__autoload: { args: [P], returns: bool },
  bpf_program__attach: { args: [P], returns: P },
  bpf_program__attach_tracepoint: { args: [P, cstring, cstring], returns: P },
  bpf_program__fd: { args: [P], returns: i32 },
  bpf_link__destroy: { args: [P], returns: i32 },
  bpf_map__fd: { args: [P], returns: i32 },
  bpf_map__set_max_entries: { args: [P, u32], returns: i32 },
  bpf_map__initial_value: { args: [P, P], returns: P },
  bpf_map_lookup_elem: { args: [i32, P, P], returns: i32 },
  bpf_map_update_elem: { args: [i32, P, P, u64], returns: i32 },
  bpf_map_delete_elem: { args: [i32, P], returns: i32 },
  bpf_obj_get_info_by_fd: { args: [i32, P, P], returns: i32 },
  libbpf_get_error: { args: [P], returns: i64 },
} as const;

export type Libbpf = ReturnType<typeof openLibbpf>;

const memfdLibrary = (path: string, name: string) => memfd({ dlopen, ptr, read }, path, name);

function openLibbpf() {
  // Order matters: each library's dependencies must already be loaded.
  const z = memfdLibrary(libzPath, "vigil-libz.so.1");
  dlopen(z, { zlibVersion: { args: [], returns: cstring } });
  const elf = memfdLibrary(libelfPath, "vigil-libelf.so.1");
  dlopen(elf, { elf_version: { args: [u32], returns: u32 } });
  const bpf = memfdLibrary(libbpfPath, "vigil-libbpf.so.1");
  return dlopen(bpf, libbpfSymbols).symbols;
}

let libbpfCache: Libbpf | undefined;
export function libbpf(): Libbpf {
  return (libbpfCache ??= openLibbpf());
}

/** CLOCK_BOOTTIME - CLOCK_REALTIME offset, to turn bpf_ktime_get_boot_ns() into unix ns. */
export function bootToUnixOffsetNs(): bigint {
  const ts = new BigInt64Array(2);
  libc().clock_gettime(0 /* REALTIME */, ptr(ts));
  const real = ts[0] * 1_000_000_000n + ts[1];
  libc().clock_gettime(7 /* BOOTTIME */, ptr(ts));
  const boot = ts[0] * 1_000_000_000n + ts[1];
  return real - boot;
}

