// libc through bun:ffi: the few calls the collector needs (memfd, mmap, epoll, clocks, errno).
import { dlopen, FFIType, toArrayBuffer, type Pointer } from "bun:ffi";

const { i32, u32, i64, cstring } = FFIType;
const P = "ptr" as const;
const usize = FFIType.u64; // size_t

const libcSymbols = {
  memfd_create: { args: [P, u32], returns: i32 },
  __errno_location: { args: [], returns: P },
  strerror: { args: [i32], returns: cstring },
  mmap: { args: [P, usize, i32, i32, i32, i64], returns: P },
  munmap: { args: [P, usize], returns: i32 },
  clock_gettime: { args: [i32, P], returns: i32 },
  vsnprintf: { args: [P, usize, P, P], returns: i32 },
  getpagesize: { args: [], returns: i32 },
  lseek: { args: [i32, i64, i32], returns: i64 },
  eventfd: { args: [u32, i32], returns: i32 },
  read: { args: [i32, P, usize], returns: i64 },
  write: { args: [i32, P, usize], returns: i64 },
  close: { args: [i32], returns: i32 },
  epoll_create1: { args: [i32], returns: i32 },
  epoll_ctl: { args: [i32, i32, i32, P], returns: i32 },
  epoll_wait: { args: [i32, P, i32, i32], returns: i32 },
} as const;

export type Libc = ReturnType<typeof openLibc>;
function openLibc() {
  return dlopen("libc.so.6", libcSymbols).symbols;
}
let libcCache: Libc | undefined;
export function libc(): Libc {
  return (libcCache ??= openLibc());
}

export function errno(): number {
  const p = libc().__errno_location();
  if (!p) return 0;
  return new Int32Array(toBuffer(p, 4))[0];
}

function toBuffer(p: Pointer | bigint, len: number): ArrayBuffer {
  return toArrayBuffer(p, 0, len);
}

export function strerror(code: number): string {
  return String(libc().strerror(code));
}

/** Linux errno names for the errors libbpf commonly reports. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 7: "E2BIG", 9: "EBADF", 12: "ENOMEM",
  13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 22: "EINVAL", 24: "EMFILE", 28: "ENOSPC",
  38: "ENOSYS", 95: "EOPNOTSUPP", 524: "ENOTSUPP",
};
export function errnoName(code: number): string {
  const c = Math.abs(code);
  return ERRNO_NAMES[c] ?? `errno ${c}`;
}

