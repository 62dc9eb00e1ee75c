// Event specifications of the user (credentials) family. Mirror of bpf/events/cred.h (offsets
// are checked against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec, FieldSpec } from "./types.ts";
import { fld, RES } from "./common.ts";

const progs = (...names: string[]) => names.flatMap((n) => [`vigil_${n}_enter`, `vigil_${n}_exit`]);

/** struct vigil_setid, named for uid or gid calls; `ids` names id0..id2 as the call does. */
function setid(kind: "uid" | "gid", ids: string[]): FieldSpec[] {
  const e = kind === "uid" ? "euid" : "egid";
  return [
    RES,
    ...ids.map((n, i) => fld(n, 160 + 4 * i, "i32", `id${i}`)),
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

export const userEvents: EventSpec[] = [
  setidEvent("setuid", 105, "uid", ["uid"]),
  setidEvent("setgid", 106, "gid", ["gid"]),
  setidEvent("setreuid", 113, "uid", ["ruid", "euid"]),
  setidEvent("setregid", 114, "gid", ["rgid", "egid"]),
  setidEvent("setresuid", 117, "uid", ["ruid", "euid", "suid"]),
  setidEvent("setresgid", 119, "gid", ["rgid", "egid", "sgid"]),
  {
    name: "cred_root", dt: 604, family: "user", struct: "vigil_cred_root", size: 176, defaultOn: true,
    programs: [...progs("setuid", "setreuid", "setresuid"), "vigil_cred_execve_enter", "vigil_cred_exec"],
    fields: [RES, fld("old_uid", 160, "u32"), fld("old_euid", 164, "u32"), fld("syscall", 168, "u32", "nr")],
    summary: "credentials raised to root (set*uid, or exec of a setuid-root program)",
  },
  {
    name: "priv_esc", dt: 611, family: "user", struct: "vigil_priv_esc", size: 224, defaultOn: true,
    programs: [...progs("setuid", "setreuid", "setresuid", "setgid", "setregid", "setresgid"), "vigil_cred_execve_enter", "vigil_cred_exec", "vigil_cred_fork"],
    fields: [fld("p_pid", 152, "u32"), fld("syscall", 156, "u32", "nr")],
    derive(rec, f) {
      f.p_cred = creds(rec, 160);
      f.c_cred = creds(rec, 192);
    },
    summary: "privilege escalation: root without fork/set*id/setuid-exec (checked at execve, set*id)",
  },
];
