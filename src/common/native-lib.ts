// Opening a shared library embedded in the executable. bun build --compile keeps embedded files
// under /$bunfs/, which dlopen cannot read, so the bytes go into a memfd and dlopen opens
// /proc/self/fd/N (the same from a source checkout). bun:ffi comes in as a parameter: this
// module is also bundled for Node.js (the AC's interop test), where bun:ffi does not exist and
// nothing here is called.
import { readFileSync, writeSync } from "node:fs";
import type * as BunFfi from "bun:ffi";

export type Ffi = Pick<typeof BunFfi, "dlopen" | "ptr" | "read">;

interface Libc {
  memfd_create(name: BunFfi.Pointer, flags: number): number;
  __errno_location(): BunFfi.Pointer;
  strerror(e: number): BunFfi.CString;
}
let libc: Libc | undefined;

/** The /proc/self/fd path of a memfd holding the library at `path` (an embedded file). */
export function memfdLibrary(ffi: Ffi, path: string, name: string): string {
  const bytes = readFileSync(path);
  libc ??= ffi.dlopen("libc.so.6", {
    memfd_create: { args: ["ptr", "u32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
    strerror: { args: ["i32"], returns: "cstring" },
  }).symbols as unknown as Libc;
  const fd = libc.memfd_create(ffi.ptr(Buffer.from(`${name}\0`)), 1 /* MFD_CLOEXEC */);
  if (fd < 0) throw new Error(`memfd_create for ${name} failed: ${libc.strerror(ffi.read.i32(libc.__errno_location(), 0))}`);
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  return `/proc/self/fd/${fd}`;
}
