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

/* file created 602: an open that created its file (FMODE_CREATED), or mknod/mknodat.
 * sb_id: s_id of the file's superblock ("vda", "tmpfs"): the opened file's own for an open,
 * that of the path's directory for mknod (bpf/lib/file-path.h). Never larger than vigil_open:
 * an open that created its file reuses the open record's path bytes in place. */
struct vigil_file_create {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 mode;
	struct vigil_str file_path;
	struct vigil_str sb_id;
	__u32 pad;
};

/* One path: unlink 605, rmdir 606, chdir 80, stat 4. flags: unlinkat/statx flags. */
struct vigil_path_op {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	struct vigil_str file;
};

/* Two paths: rename 82, link 86, symlink 88 (old_name = the link's target as written).
 * sb_id: s_id of the superblock old_name's directory is on (rename, link; empty for symlink). */
struct vigil_path2 {
	struct vigil_hdr hdr;
	__s64 res;
	__u32 flags;
	struct vigil_str old_name;
	struct vigil_str new_name;
	struct vigil_str sb_id;
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

/* read 0, write 1 (and their p/v variants). buf: the first bytes written (write only; for
 * writev those of the first iovec). */
struct vigil_rw {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 count;
	__s32 fd;
	struct vigil_str file;
	struct vigil_str buf;
	__u32 pad;
};

/* close 3, dup 32 (dup, dup2, dup3). fd: the closed fd, or dup's oldfd; newfd: dup's result
 * (-1 for close). */
struct vigil_fd_op {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__s32 newfd;
	struct vigil_str file;
	__u32 pad;
};
