// The shape of an event specification: how one event kind is named, switched, hooked and
// decoded. Each family file in this folder exports a list of these; catalog.ts joins them.
import type { Enricher } from "../enrich/index.ts";

export type Family = "file" | "process" | "network" | "user" | "vigil";

/** How a field's bytes become Elkeid's string value. */
export type FieldKind =
  | "u8" | "u16" | "u32" | "i32" | "u64" | "i64"
  | "octal" // u32 printed in octal (modes)
  | "hex"   // u64 printed as 0x…
  | "hex32" // u32 printed as 0x…
  | "str"   // struct vigil_str {u16 off, u16 len} pointing into the record's tail
  | "sa_ip" | "sa_port" | "sa_family"; // struct vigil_sockaddr (24 bytes) at off

export interface FieldSpec {
  /** Elkeid's output name, e.g. "dport". */
  name: string;
  /** C member name in the event struct (for the BTF layout test); defaults to name. */
  member?: string;
  /** Byte offset from the start of the record (header included). */
  off: number;
  kind: FieldKind;
  /** Size in bytes of the C member (checked against BTF). */
  size: number;
  /** Layout only: checked against BTF but never put in the fields; the event's derive reads
   * it from the record (deleting a field afterwards would turn every event object into a slow
   * dictionary). */
  hidden?: true;
}

/** Computed fields: get the record and the already-decoded fields, return extra fields. */
export type Derive = (rec: DataView, fields: Record<string, string>, ctx: DeriveContext) => void;
export interface DeriveContext {
  enricher?: Enricher;
  str(rec: DataView, off: number): string;
}

export interface EventSpec {
  /** Event name used on the command line and in output ("execve"). */
  name: string;
  /** Elkeid data_type, equal to enum vigil_event_type in bpf/events.h. */
  dt: number;
  family: Family;
  /** C struct name in bpf/events.h (checked against BTF). */
  struct: string;
  /** sizeof(struct): the fixed part, before the string tail. */
  size: number;
  /** On unless switched off: high-volume events are off by default. */
  defaultOn: boolean;
  /** With defaultOn, the event is in "default" only where this holds on the running kernel
   * (module_load: where modules exist; without them only a hook on every syscall sees it). */
  defaultWhen?: () => boolean;
  /** Why defaultWhen can leave the event out of "default", for --help. */
  defaultWhenNote?: string;
  /** BPF program names (function names) that produce this event. */
  programs: string[];
  fields: FieldSpec[];
  derive?: Derive;
  /** One line for --help. */
  summary: string;
}
