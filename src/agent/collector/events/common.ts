// Small builders shared by the family spec files, so each field is one readable line.
import type { FieldSpec, FieldKind } from "./types.ts";

const SIZES: Record<FieldKind, number> = {
  u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, octal: 4, hex: 8, hex32: 4, str: 4,
  sa_ip: 24, sa_port: 24, sa_family: 24,
};

/** A field: output name, byte offset in the record, kind, and the C member when it differs. */
export function fld(name: string, off: number, kind: FieldKind, member?: string): FieldSpec {
  return member ? { name, off, kind, size: SIZES[kind], member } : { name, off, kind, size: SIZES[kind] };
}

/** A field the event's derive reads from the record itself; it is never output as is. */
export function hid(name: string, off: number, kind: FieldKind, member?: string): FieldSpec {
  return { ...fld(name, off, kind, member), hidden: true };
}

/** res (s64) right after the header, at 152: every syscall event has it. */
export const RES = fld("res", 152, "i64");

/** The five Elkeid socket fields from two struct vigil_sockaddr members. */
export function sockFields(remoteOff: number, remoteMember: string, localOff: number, localMember: string): FieldSpec[] {
  return [
    fld("sa_family", remoteOff, "sa_family", remoteMember),
    fld("dip", remoteOff, "sa_ip", remoteMember),
    fld("dport", remoteOff, "sa_port", remoteMember),
    fld("sip", localOff, "sa_ip", localMember),
    fld("sport", localOff, "sa_port", localMember),
  ];
}

/** The entry and exit programs of each named syscall hook: vigil_<name>_enter, vigil_<name>_exit. */
export function progs(...names: string[]): string[] {
  return names.flatMap((n) => [`vigil_${n}_enter`, `vigil_${n}_exit`]);
}

/** One program attached to several syscall exit tracepoints (`program@syscalls/sys_exit_<name>`
 * entries: the loader attaches the program at each named tracepoint instead of its own
 * section). The program tells the syscalls apart by ctx->id. */
export function sharedExits(program: string, ...syscalls: string[]): string[] {
  return syscalls.map((n) => `${program}@syscalls/sys_exit_${n}`);
}

/** Exit programs only: the syscall's arguments come from the saved registers at its exit
 * (bpf/lib/process-regs.h exit_args). */
export function exits(...names: string[]): string[] {
  return names.map((n) => `vigil_${n}_exit`);
}

/** The bytes of a struct vigil_str at off, undecoded (AF_UNIX names, DNS questions and the
 * environment are not text to decode whole). */
export function rawStr(rec: DataView, off: number): Uint8Array {
  const soff = rec.getUint16(off, true);
  const len = rec.getUint16(off + 2, true);
  if (len === 0 || soff + len > rec.byteLength) return new Uint8Array(0);
  return new Uint8Array(rec.buffer, rec.byteOffset + soff, len);
}

/** argv as the kernel keeps it (NUL-separated) → Elkeid's space-joined string. */
export function argvString(raw: string): string {
  return raw.replace(/\0+$/, "").replaceAll("\0", " ");
}

/**
 * The open family's exit programs (no entry programs: the arguments come from the saved
 * registers, bpf/file.bpf.c). Three events share them: open, file_create, and priv_esc's
 * open checkpoint (one program per open instead of two).
 */
export const OPEN_EXITS = exits("open", "openat", "creat", "openat2");
