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
 * or the exec of a setuid-root program (nr = the syscall: 105/113/117, or 59/322 for
 * execve/execveat). */
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

/* privilege escalation 611: a thread holds uid or euid 0 that it did not obtain through a
 * path the agent watches (fork of a root parent, set*uid, exec of a setuid program): what a
 * kernel exploit that swaps or overwrites credentials leaves behind. */
struct vigil_priv_esc {
	struct vigil_hdr hdr;
	__u32 p_pid;             /* real parent's tgid */
	__s32 nr;                /* syscall in progress where it was seen (i386 number if compat) */
	struct vigil_creds p_cred;
	struct vigil_creds c_cred;
	__u32 old_uid;           /* what the thread last held legitimately */
	__u32 old_euid;
	__u8 where;              /* 0 sys_exit sweep, 1 execve entry, 2 set*id entry, 3 fork */
	__u8 compat;             /* 1: seen in a 32-bit (i386) syscall */
	__u8 pad[6];
};
