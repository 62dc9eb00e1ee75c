/* The kernel ↔ user-space event contract. Mirrored by src/agent/collector/layouts.ts;
 * test/collector/btf-layout.test.ts reads the BTF of the built object and fails when the
 * two disagree. Never reorder or resize a field without changing both sides.
 *
 * A record in the ring is: struct vigil_hdr, then the event's fixed struct, then a string
 * tail. Strings are referenced from the fixed part by struct vigil_str {off, len}, where off
 * counts from the start of the record and len excludes the terminating NUL.
 *
 * Event kinds are Elkeid data_type numbers: the x86-64 syscall number for syscall events,
 * 6xx for semantic events, 9xx for Vigil's own (canary). Families add their structs in
 * bpf/events/<family>.h, included below. */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

enum vigil_event_type {
	VE_READ = 0,
	VE_WRITE = 1,
	VE_OPEN = 2,
	VE_CLOSE = 3,
	VE_STAT = 4,
	VE_MMAP = 9,
	VE_MPROTECT = 10,
	VE_PIPE = 22,
	VE_DUP = 32,
	VE_NANOSLEEP = 35,
	VE_CONNECT = 42,
	VE_ACCEPT = 43,
	VE_SENDTO = 44,
	VE_RECVFROM = 45,
	VE_BIND = 49,
	VE_GETPEERNAME = 52,
	VE_SOCKETPAIR = 53,
	VE_CLONE = 56,
	VE_FORK = 57,
	VE_EXECVE = 59,
	VE_EXIT = 60,
	VE_KILL = 62,
	VE_TRUNCATE = 76,
	VE_CHDIR = 80,
	VE_RENAME = 82,
	VE_MKDIR = 83,
	VE_LINK = 86,
	VE_SYMLINK = 88,
	VE_CHMOD = 90,
	VE_PTRACE = 101,
	VE_SETUID = 105,
	VE_SETGID = 106,
	VE_SETSID = 112,
	VE_SETREUID = 113,
	VE_SETREGID = 114,
	VE_SETRESUID = 117,
	VE_SETRESGID = 119,
	VE_PRCTL = 157,
	VE_MOUNT = 165,
	VE_TKILL = 200,
	VE_EXIT_GROUP = 231,
	VE_MEMFD_CREATE = 356,
	VE_DNS = 601,
	VE_FILE_CREATE = 602,
	VE_MODULE_LOAD = 603,
	VE_CRED_ROOT = 604,
	VE_UNLINK = 605,
	VE_RMDIR = 606,
	VE_PRIV_ESC = 611,
	VE_CANARY = 999,
	VE_MAX = 1024, /* size of per-type arrays (drops, enable switches) */
};

/* A string in the record's tail: off from the start of the record, len without NUL. */
struct vigil_str {
	__u16 off;
	__u16 len;
};

/* A socket address as events carry it. port is in host byte order; addr holds 4 bytes for
 * AF_INET, 16 for AF_INET6, and the path prefix for AF_UNIX. */
struct vigil_sockaddr {
	__u16 family;
	__u16 port;
	__u32 pad;
	__u8 addr[16];
};

/* Every record starts with this. 8-byte aligned, 152 bytes. */
struct vigil_hdr {
	__u16 type;      /* enum vigil_event_type */
	__u16 size;      /* whole record: header + body + string tail */
	__u32 cpu;
	__u64 ts;        /* bpf_ktime_get_boot_ns(); user space adds the boot→unix offset */
	__u64 cgroup_id;
	__u32 pid;       /* task->pid (thread id), Elkeid's "pid" */
	__u32 tgid;      /* task->tgid */
	__u32 ppid;      /* real_parent->tgid */
	__u32 pgid;
	__u32 sid;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 sessionid; /* audit session id (-1 when unset) */
	__u32 pid_ns;    /* inode number of the task's pid namespace */
	__u32 exe_ino;   /* inode of mm->exe_file: lets user space cache exe paths */
	__u32 exe_dev;
	char comm[16];
	char nodename[64];
};

/* Vigil's own: fires only on lseek(-1, <seq>, VIGIL_CANARY_WHENCE). Proves the whole path. */
#define VIGIL_CANARY_WHENCE 4729
struct vigil_canary {
	struct vigil_hdr hdr;
	__u64 seq;
};

#include "events/process.h"
#include "events/file.h"
#include "events/net.h"
#include "events/cred.h"
#include "events/mem.h"

#endif
