/* Event structs of the user (credentials) family; part of the contract in bpf/events.h
 * (mirror: src/agent/collector/events/user.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once

/* setuid 105, setgid 106, setreuid 113, setregid 114, setresuid 117, setresgid 119.
 * id0..id2 are the requested ids (-1 = unchanged); old/new are the real and effective uid
 * (or gid, for the gid calls) before and after the call. */
struct vigil_setid {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 id0;
	__s32 id1;
	__s32 id2;
	__u32 old_id;
	__u32 old_eid;
	__u32 new_id;
	__u32 new_eid;
	__u32 pad;
};

/* credentials raised to root 604: uid or euid went from non-zero to 0, through a set*id call
 * or the exec of a setuid-root program (nr = the syscall: 105/113/117 or 59). */
struct vigil_cred_root {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 old_uid;
	__u32 old_euid;
	__u32 nr;
	__u32 pad;
};

/* A credential summary: uid, euid, suid, fsuid, gid, egid, sgid, fsgid. */
struct vigil_creds {
	__u32 id[8];
};

/* privilege escalation 611: a process runs as root that never became root through a path the
 * agent saw (fork of a root parent, set*id, exec of a setuid program). */
struct vigil_priv_esc {
	struct vigil_hdr hdr;
	__u32 p_pid;
	__u32 nr;         /* where it was seen: 59 (execve) or the set*id syscall */
	struct vigil_creds p_cred;
	struct vigil_creds c_cred;
};
