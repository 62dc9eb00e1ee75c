/* Event structs of the process family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/process.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once

/* execve 59: emitted from sched_process_exec on success, from sys_exit_execve* on failure. */
struct vigil_execve {
	struct vigil_hdr hdr;
	__s64 res;
	struct vigil_sockaddr local;  /* of the stdin (else stdout) socket, if any */
	struct vigil_sockaddr peer;
	__u64 stdin_ino;
	__u64 stdout_ino;
	__u32 stdin_type;             /* S_IFMT >> 12 of fd 0 (0 = closed) */
	__u32 stdout_type;
	struct vigil_str argv;        /* NUL-separated, from the new mm's arg area */
	struct vigil_str filename;    /* as passed to execve */
	struct vigil_str exe_path;    /* the new mm's exe file */
	struct vigil_str run_path;    /* cwd */
	struct vigil_str tty;
	struct vigil_str stdin_path;
	struct vigil_str stdout_path;
	struct vigil_str env;         /* the first MAX_ARGV bytes of the environment (user space
	                               * takes LD_PRELOAD and SSH_CONNECTION from it) */
	/* The task's cgroup in the memory controller's hierarchy (kernfs id = the directory's
	 * inode): on cgroup-v1 and hybrid hosts every process sits in the v2 root, so user space
	 * keys its container cache by this instead of hdr.cgroup_id. 0 without memcg. */
	__u64 memcg_id;
	/* The new image's size and mtime from its inode: with hdr.exe_dev/exe_ino they key the
	 * exe-hash cache, so a known binary costs no stat() per exec. */
	__u64 exe_size;
	__u64 exe_mtime_ns;
};

/* fork 57 (fork, vfork) and clone 56 (clone, clone3): res = child pid. */
struct vigil_fork {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 flags;
};

/* exit 60, exit_group 231. */
struct vigil_exit {
	struct vigil_hdr hdr;
	__s64 code;
	__u32 last_thread;            /* the process ends with this call: exit_group, or exit of
	                               * the only live thread (user space drops it from its cache) */
	__u32 pad;
};

/* setsid 112: res only. */
struct vigil_res {
	struct vigil_hdr hdr;
	__s64 res;
};

/* prctl 157 (PR_SET_NAME only). */
struct vigil_prctl {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 option;
	struct vigil_str new_name;
};

/* kill 62, tkill 200 (tkill, tgkill). */
struct vigil_kill {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 target_pid;
	__s32 sig;
};

/* ptrace 101. */
struct vigil_ptrace {
	struct vigil_hdr hdr;
	__s64 res;
	__s64 request;
	__u64 addr;
	__u64 data;
	__s32 target_pid;
	__u32 pad;
};
