// Event specifications of the user (credentials) family. Mirror of bpf/events/cred.h (offsets
// are checked against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec, FieldSpec } from "./types.ts";
import { fld, OPEN_EXITS, RES, progs } from "./common.ts";


/**
 * struct vigil_setid, named for uid or gid calls; `ids` names id0..id2 as the call does, with
 * a req_ prefix: a bare "uid" would replace Elkeid's common uid field (the caller's uid).
 */
function setid(kind: "uid" | "gid", ids: string[]): FieldSpec[] {
  const e = kind === "uid" ? "euid" : "egid";
  return [
    RES,
    ...ids.map((n, i) => fld(`req_${n}`, 160 + 4 * i, "i32", `id${i}`)),
    fld(`old_${kind}`, 172, "u32", "old_id"), fld(`old_${e}`, 176, "u32", "old_eid"),
    fld(`new_${kind}`, 180, "u32", "new_id"), fld(`new_${e}`, 184, "u32", "new_eid"),
  ];
}

function creds(rec: DataView, off: number): string {
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) ids.push(rec.getUint32(off + 4 * i, true));
  return ids.join("|");
}

const setidEvent = (name: string, dt: number, kind: "uid" | "gid", ids: string[]): EventSpec => ({
  name, dt, family: "user", struct: "vigil_setid", size: 192, defaultOn: true,
  programs: progs(name), fields: setid(kind, ids),
  summary: `${name}(${ids.join(", ")}), with the ${kind}s before and after`,
});

/** struct vigil_priv_esc.where (enum SEEN_* in bpf/lib/cred-check.h). */
const SEEN_AT = ["sys_exit", "execve", "setid", "fork", "open", "exit"];

const SETUID_PROGS = progs("setuid", "setreuid", "setresuid");
const EXEC_PROGS = ["vigil_cred_execve_enter", "vigil_cred_execveat_enter", "vigil_cred_exec"];

/** struct vigil_priv_esc, shared by priv_esc and priv_esc_sweep (both data_type 611). */
const privEsc = {
  dt: 611, family: "user", struct: "vigil_priv_esc", size: 240,
  fields: [
    fld("p_pid", 152, "u32"), fld("syscall", 156, "i32", "nr"),
    fld("old_uid", 224, "u32"), fld("old_euid", 228, "u32"), fld("compat", 233, "u8"),
  ],
  derive(rec: DataView, f: Record<string, string>) {
    f.p_cred = creds(rec, 160);
    f.c_cred = creds(rec, 192);
    const where = rec.getUint8(232);
    f.seen_at = SEEN_AT[where] ?? String(where);
  },
} as const satisfies Partial<EventSpec>;

export const userEvents: EventSpec[] = [
  setidEvent("setuid", 105, "uid", ["uid"]),
  setidEvent("setgid", 106, "gid", ["gid"]),
  setidEvent("setreuid", 113, "uid", ["ruid", "euid"]),
  setidEvent("setregid", 114, "gid", ["rgid", "egid"]),
  setidEvent("setresuid", 117, "uid", ["ruid", "euid", "suid"]),
  setidEvent("setresgid", 119, "gid", ["rgid", "egid", "sgid"]),
  {
    name: "cred_root", dt: 604, family: "user", struct: "vigil_cred_root", size: 176, defaultOn: true,
    programs: [...SETUID_PROGS, ...EXEC_PROGS],
    fields: [RES, fld("old_uid", 160, "u32"), fld("old_euid", 164, "u32"), fld("syscall", 168, "u32", "nr")],
    summary: "credentials raised to root (set*uid, or exec of a setuid-root program)",
  },
  // Another name for 611 that adds the every-syscall sweep (+100-160 ns of CPU per syscall
  // measured, so off by default). Listed before priv_esc so that BY_DT maps 611 records to
  // priv_esc; selecting both is fine (the sweep and the checkpoints share one state).
  {
    ...privEsc, fields: [...privEsc.fields], name: "priv_esc_sweep", defaultOn: false,
    programs: ["vigil_priv_esc_sweep"],
    summary: "privilege escalation (611) also checked at every syscall exit (+100-160 ns per syscall)",
  },
  {
    ...privEsc, fields: [...privEsc.fields], name: "priv_esc", defaultOn: true,
    programs: [
      ...progs("setuid", "setreuid", "setresuid", "setgid", "setregid", "setresgid"), ...EXEC_PROGS,
      "vigil_cred_fork", "vigil_priv_esc_exit",
      ...OPEN_EXITS, // the open checkpoint lives in the file family's open exits
    ],
    summary: "privilege escalation: uid/euid 0 not obtained by fork, set*uid or a setuid exec (checked at fork, exec, set*id, open, exit)",
  },
];
