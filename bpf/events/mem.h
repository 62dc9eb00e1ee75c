/* Event structs of the memory/misc process events (mmap, mprotect, pipe, memfd_create,
 * nanosleep, mount, module load); part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/mem.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once

/* mmap 9. */
struct vigil_mmap {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 addr;
	__u64 len;
	__u32 prot;
	__u32 flags;
	__s32 fd;
	struct vigil_str file;
};

/* mprotect 10 (PROT_EXEC requested). */
struct vigil_mprotect {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 addr;
	__u64 len;
	__u32 prot;
	__u32 owner_pid;
	struct vigil_str owner_file;
	struct vigil_str vm_file;
};

/* pipe 22 (pipe, pipe2). */
struct vigil_pipe {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd0;
	__s32 fd1;
	__u32 flags;
	__u32 pad;
};

/* memfd_create 356. */
struct vigil_memfd {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	struct vigil_str fd_name;
};

/* nanosleep 35 (nanosleep, clock_nanosleep). */
struct vigil_nanosleep {
	struct vigil_hdr hdr;
	__s64 res;
	__s64 sec;
	__s64 nsec;
};

/* mount 165. */
struct vigil_mount {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 flags;
	struct vigil_str dev;
	struct vigil_str file_path;
	struct vigil_str fstype;
	__u32 pad;
};

/* kernel module load 603 (init_module, finit_module). */
struct vigil_module {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__u32 nr;
	struct vigil_str ko_file;
	struct vigil_str run_path;
};
