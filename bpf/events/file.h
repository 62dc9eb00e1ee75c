/* Event structs of the file family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/file.ts). Every struct starts with struct vigil_hdr hdr. Paths
 * are absolute: the opened file's own path, or the user path joined to the cwd/dirfd. */
#pragma once

/* open 2 (open, openat, openat2, creat). */
struct vigil_open {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	__u32 mode;
	struct vigil_str file;
	__u32 pad;
};

/* file created 602: an open that created its file (FMODE_CREATED), or mknod/mknodat. */
struct vigil_file_create {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 mode;
	struct vigil_str file_path;
};

/* One path: unlink 605, rmdir 606, chdir 80, stat 4. flags: unlinkat/statx flags. */
struct vigil_path_op {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	struct vigil_str file;
};

/* Two paths: rename 82, link 86, symlink 88 (old_name = the link's target). */
struct vigil_path2 {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	struct vigil_str old_name;
	struct vigil_str new_name;
	__u32 pad;
};

/* A path and a mode: chmod 90, mkdir 83. */
struct vigil_path_mode {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 mode;
	struct vigil_str file;
};

/* truncate 76 (truncate, ftruncate). */
struct vigil_truncate {
	struct vigil_hdr hdr;
	__s64 res;
	__s64 length;
	struct vigil_str file;
	__u32 pad;
};

/* read 0, write 1 (and their p/v variants). buf: the first bytes written (write only). */
struct vigil_rw {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 count;
	__s32 fd;
	struct vigil_str file;
	struct vigil_str buf;
	__u32 pad;
};

/* close 3, dup 32 (dup, dup2, dup3). newfd = the result for dup. */
struct vigil_fd_op {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__s32 newfd;
	struct vigil_str file;
	__u32 pad;
};
