/* File family: open (+ file created), unlink/rmdir, rename/link/symlink, chmod, chdir, mkdir,
 * truncate, stat, read/write, close, dup. Syscall exit tracepoints, with the arguments from
 * the saved registers (lib/process-regs.h); only close has an entry program, which keeps the
 * file (after the call the fd is gone). The path is the file's own (from its fd at exit) when
 * there is one, else the user path made absolute against the cwd or dirfd (lib/file-path.h);
 * symlinks and ".." inside a user path are not resolved (the kernel's lookup is not visible
 * from tracepoints). */
#include "lib/file-path.h"
#include "lib/cred-check.h"
#include "lib/process-regs.h"

#define O_CREAT 0100
#define AT_REMOVEDIR 0x200
#define FMODE_CREATED (1U << 20) /* include/linux/fs.h, unchanged since 4.19 */
#define WRITE_BUF_BYTES 64

/* x86-64 syscall numbers that share an exit handler. */
enum {
	NR_open = 2, NR_openat = 257, NR_creat = 85, NR_openat2 = 437,
	NR_unlink = 87, NR_unlinkat = 263, NR_rmdir = 84,
	NR_rename = 82, NR_renameat = 264, NR_renameat2 = 316,
	NR_link = 86, NR_linkat = 265, NR_symlink = 88, NR_symlinkat = 266,
	NR_chmod = 90, NR_fchmod = 91, NR_fchmodat = 268, NR_fchmodat2 = 452,
	NR_chdir = 80, NR_fchdir = 81, NR_mkdir = 83, NR_mkdirat = 258,
	NR_truncate = 76, NR_ftruncate = 77,
	NR_stat = 4, NR_fstat = 5, NR_lstat = 6, NR_newfstatat = 262, NR_statx = 332,
	NR_mknod = 133, NR_mknodat = 259,
	NR_dup = 32, NR_dup2 = 33, NR_dup3 = 292,
	NR_writev = 20, NR_readv = 19,
};

_Static_assert(sizeof(struct vigil_file_create) <= sizeof(struct vigil_open),
	       "file_create reuses the path bytes of the open record in place");

/* ---- open, openat, openat2, creat → open 2 and file created 602 ----
 * Only sys_exit: the arguments are still in the thread's saved registers there
 * (lib/process-regs.h), so no entry program runs and nothing is stashed per thread (an entry
 * cost openat ~190 ns of program, plus its tracepoint's dispatch, on every open of the host).
 * The exit reads the new fd's struct file: its path is the file actually opened (symlinks,
 * ".." resolved) and f_mode & FMODE_CREATED says whether this open created it. Failed opens
 * report the user path; files created by other calls (O_TMPFILE linkat, rename) are not 602. */

/* 602 for an open that created f. path: the open record's path still in the scratch buffer
 * (reused in place), or NULL to walk it. */
static __always_inline void emit_open_created(struct file *f, long ret, __u32 mode, struct vigil_str *path)
{
	struct vigil_file_create *ev = record_begin(VE_FILE_CREATE, sizeof(*ev));
	if (!ev)
		return;
	ev->res = ret;
	ev->mode = mode;
	ev->pad = 0;
	if (path && path->off >= sizeof(*ev)) {
		ev->file_path = *path;
		ev->hdr.size = path->off + path->len + 1;
	} else {
		fpath_file(ev, &ev->file_path, f);
	}
	put_sb_id(ev, &ev->sb_id, f->f_path.mnt->mnt_sb);
	record_submit(ev);
}

/* Exits of the open family, shared by three events: open (every open), file_create (602, an
 * O_CREAT open that created the file) and priv_esc's open checkpoint (611: what an escalated
 * process does next without spawning anything - read /etc/shadow, write authorized_keys or
 * a cron file - opens a file). One program for all three: a second program on the same
 * tracepoint cost ~140 ns of program and its dispatch on every open of the host. */
static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	check_escalation(task, ctx->id, SEEN_OPEN);
	struct sys_args a;
	sys_args_of(task, &a);
	long ret = ctx->ret;
	__u32 nr = ctx->id;
	int dirfd = AT_FDCWD;
	const char *upath;
	__u64 flags;
	__u32 mode;
	if (nr == NR_openat || nr == NR_openat2) {
		dirfd = a.a[0];
		upath = (const char *)a.a[1];
		flags = a.a[2];
		mode = a.a[3];
		if (nr == NR_openat2) {
			__u64 how[2] = {}; /* struct open_how: flags, mode, resolve */
			bpf_probe_read_user(how, sizeof(how), (void *)a.a[2]);
			flags = how[0];
			mode = how[1];
		}
	} else if (nr == NR_creat) {
		upath = (const char *)a.a[0];
		flags = O_CREAT | 01 | 01000; /* O_CREAT | O_WRONLY | O_TRUNC */
		mode = a.a[1];
	} else {
		upath = (const char *)a.a[0];
		flags = a.a[1];
		mode = a.a[2];
	}
	/* Only an O_CREAT open can create a file: nothing to do when open itself is off. */
	if (!is_enabled(VE_OPEN) && !(flags & O_CREAT))
		return 0;
	if (!should_trace_any_t(VE_OPEN, VE_FILE_CREATE, task))
		return 0;
	struct file *f = ret >= 0 ? task_file_of_fd(task, ret) : NULL;
	bool created = f && (flags & O_CREAT) && (f->f_mode & FMODE_CREATED);
	struct vigil_str path = {};
	bool have_path = false;
	if (is_enabled(VE_OPEN)) {
		struct vigil_open *ev = record_begin_t(VE_OPEN, sizeof(*ev), task);
		if (!ev)
			return 0;
		ev->res = ret;
		ev->flags = flags;
		ev->mode = mode;
		ev->pad = 0;
		if (f)
			fpath_file(ev, &ev->file, f);
		else
			fpath_user_at(ev, &ev->file, task, dirfd, upath, NULL, NULL);
		path = ev->file;
		have_path = true;
		record_submit(ev);
	}
	if (created && is_enabled(VE_FILE_CREATE))
		emit_open_created(f, ret, mode, have_path ? &path : NULL);
	return 0;
}
SYS_EXIT(open, vigil_open_exit) { return open_exit(ctx); }
SYS_EXIT(openat, vigil_openat_exit) { return open_exit(ctx); }
SYS_EXIT(creat, vigil_creat_exit) { return open_exit(ctx); }
SYS_EXIT(openat2, vigil_openat2_exit) { return open_exit(ctx); }

/* Where a path argument comes from: a user path relative to dirfd, or a path the kernel
 * holds (use_own: an fd's file for fchdir, fstat, fchmod and ftruncate, where a bad fd
 * leaves the path empty; the new cwd after a successful chdir, whose relative argument
 * would otherwise be joined to the directory it just entered). Each exit fills one per path,
 * so the verifier sees one walk per path whatever the syscall variant. */
struct path_arg {
	int dirfd;
	int use_own;
	const char *upath;
	struct dentry *dentry;
	struct vfsmount *mnt;
};

static __always_inline void path_arg_file(struct path_arg *a, struct file *f)
{
	a->use_own = 1;
	a->dentry = f ? f->f_path.dentry : NULL;
	a->mnt = f ? f->f_path.mnt : NULL;
}

static __always_inline void put_path_arg(void *rec, struct vigil_str *s, struct path_arg *a, struct task_struct *task)
{
	if (a->use_own)
		put_path_fast(rec, s, a->dentry, a->mnt); /* NULL: empty */
	else
		fpath_user_at(rec, s, task, a->dirfd, a->upath, NULL, NULL);
}

/* ---- one path: unlink 605, rmdir 606, chdir 80, stat 4, chmod 90, mkdir 83, truncate 76 ----
 * One program for all of them, attached to each syscall's exit tracepoint (the catalogue's
 * `program@tracepoint` entries; the event from ctx->id). ~70 programs each carrying its own
 * inlined copy of the gate, the header and the path walk ran cold: an iteration of ~17
 * different path syscalls left each image out of the caches by its next call (rmdir cost
 * 1.33 us in its own program, 0.9 us inside unlink's, the same code). One image here, one
 * path walk in it. The path is the one given, made absolute (after a successful
 * unlink/rmdir there is nothing left to read it from), or the fd's own file for fchdir,
 * fstat, fchmod and ftruncate (a bad fd leaves it empty), or for a successful chdir the
 * new cwd. unlinkat picks 605 or 606 at exit
 * by AT_REMOVEDIR. fchmodat2 (6.6+) is attached only where its tracepoint exists (catalogue
 * alternative). */

_Static_assert(__builtin_offsetof(struct vigil_path_op, flags) == __builtin_offsetof(struct vigil_path_mode, mode) &&
	       __builtin_offsetof(struct vigil_path_op, file) == __builtin_offsetof(struct vigil_path_mode, file) &&
	       sizeof(struct vigil_path_op) == sizeof(struct vigil_path_mode),
	       "path_op and path_mode share one layout: the one-path program fills both the same way");

/* The event a one-path syscall reports (0: not one of them). */
static __always_inline __u32 path1_type(__u32 nr, __u64 unlinkat_flags)
{
	switch (nr) {
	case NR_unlink: return VE_UNLINK;
	case NR_unlinkat: return unlinkat_flags & AT_REMOVEDIR ? VE_RMDIR : VE_UNLINK;
	case NR_rmdir: return VE_RMDIR;
	case NR_chdir: case NR_fchdir: return VE_CHDIR;
	case NR_stat: case NR_lstat: case NR_fstat: case NR_newfstatat: case NR_statx: return VE_STAT;
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_fchmodat2: return VE_CHMOD;
	case NR_mkdir: case NR_mkdirat: return VE_MKDIR;
	case NR_truncate: case NR_ftruncate: return VE_TRUNCATE;
	}
	return 0;
}

SYS_EXIT(unlink, vigil_path1_exit)
{
	/* the registers are read once, before the gate: unlinkat's event depends on them */
	struct task_struct *task = bpf_get_current_task_btf();
	struct inflight in;
	regs_args_t(0, ctx, &in, task);
	__u32 type = path1_type(in.nr, in.args[2]);
	if (!type || !should_trace_t(type, task))
		return 0;
	bool trunc = type == VE_TRUNCATE;
	struct vigil_path_op *ev = record_begin_t(type, trunc ? sizeof(struct vigil_truncate) : sizeof(struct vigil_path_op), task);
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	struct vigil_truncate *t = (struct vigil_truncate *)ev;
	struct vigil_str *file = trunc ? &t->file : &ev->file;
	__u32 word = 0; /* flags (unlinkat, newfstatat, statx) or mode (chmod, mkdir) */
	struct path_arg a = { .dirfd = AT_FDCWD, .upath = (const char *)in.args[0] };
	switch (in.nr) {
	case NR_chdir:
		if (ctx->ret == 0) { /* where it went, resolved ("..", symlinks) */
			struct fs_struct *fs = task->fs;
			a.use_own = 1;
			a.dentry = fs->pwd.dentry;
			a.mnt = fs->pwd.mnt;
		}
		break;
	case NR_unlinkat:
	case NR_newfstatat:
	case NR_statx:
	case NR_fchmodat:
	case NR_fchmodat2:
	case NR_mkdirat:
		word = in.nr == NR_newfstatat ? in.args[3] : in.args[2];
		a.dirfd = in.args[0];
		a.upath = (const char *)in.args[1];
		break;
	case NR_chmod:
	case NR_mkdir:
		word = in.args[1];
		break;
	case NR_fchmod:
		word = in.args[1];
		/* fallthrough */
	case NR_fchdir:
	case NR_fstat:
	case NR_ftruncate:
		path_arg_file(&a, task_file_of_fd(task, in.args[0]));
		break;
	}
	if (trunc) {
		t->length = in.args[1];
		t->pad = 0;
	} else {
		ev->flags = word;
	}
	put_path_arg(ev, file, &a, task);
	record_submit(ev);
	return 0;
}

/* ---- two paths: rename 82, link 86, symlink 88; and mknod 602 ----
 * One program for the nine syscalls, as above. Both paths as given, made absolute. sb_id
 * is the superblock of old_name's directory, from the mount walk of lib/file-path.h: rename
 * and link work within one mount (EXDEV otherwise), so for a successful call it is
 * new_name's too; a failed one reports old_name's. With linkat(AT_EMPTY_PATH) it is the fd's
 * own mount (exact, no walk). symlink leaves it empty (Elkeid has no sb_id there). A
 * symlink's target is reported exactly as written.
 * mknod/mknodat create files (FIFOs, devices, sockets): 602 with the one path made absolute
 * and, as no fd is left to read the mount from, sb_id the superblock of the path's directory
 * by the same walk (exact unless the directory part has symlinks or ".."; a bare name costs
 * no walk). Its record shares the first path's place: file_path is where old_name is. */

_Static_assert(__builtin_offsetof(struct vigil_file_create, mode) == __builtin_offsetof(struct vigil_path2, flags) &&
	       __builtin_offsetof(struct vigil_file_create, file_path) == __builtin_offsetof(struct vigil_path2, old_name) &&
	       sizeof(struct vigil_file_create) == sizeof(struct vigil_path2),
	       "mknod's 602 record is filled through the two-path record's first path");

static __always_inline __u32 path2_type(__u32 nr)
{
	switch (nr) {
	case NR_rename: case NR_renameat: case NR_renameat2: return VE_RENAME;
	case NR_link: case NR_linkat: return VE_LINK;
	case NR_symlink: case NR_symlinkat: return VE_SYMLINK;
	case NR_mknod: case NR_mknodat: return VE_FILE_CREATE;
	}
	return 0;
}

SYS_EXIT(rename, vigil_path2_exit)
{
	__u32 type = path2_type(ctx->id);
	struct inflight in;
	if (!type || !is_enabled(type))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!exit_args_t(type, ctx, &in, task))
		return 0;
	struct vigil_path2 *ev = record_begin_t(type, sizeof(*ev), task);
	if (!ev)
		return 0;
	bool mknod = type == VE_FILE_CREATE;
	struct vigil_file_create *fc = (struct vigil_file_create *)ev;
	ev->res = ctx->ret;
	ev->flags = 0; /* mknod: mode */
	int newdir = AT_FDCWD, olddir = AT_FDCWD;
	const char *old = (const char *)in.args[0], *nw = (const char *)in.args[1];
	switch (in.nr) {
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		ev->flags = in.nr == NR_renameat ? 0 : in.args[4];
		olddir = in.args[0];
		old = (const char *)in.args[1];
		newdir = in.args[2];
		nw = (const char *)in.args[3];
		break;
	case NR_symlinkat:
		newdir = in.args[1];
		nw = (const char *)in.args[2];
		break;
	case NR_mknod:
		ev->flags = in.args[1];
		break;
	case NR_mknodat:
		ev->flags = in.args[2];
		olddir = in.args[0];
		old = (const char *)in.args[1];
		break;
	}
	/* two path joins in the image, whatever the syscall; new_name against old_name's dirfd
	 * (rename(a, b), link(a, b)) reuses the base old_name's walked */
	struct upath_start st;
	struct upath_memo memo = {};
	if (type == VE_SYMLINK)
		put_str(ev, &ev->old_name, old, MAX_PATH, 1);
	else
		fpath_user_at(ev, &ev->old_name, task, olddir, old, &st, &memo);
	struct vigil_str *sb = &ev->sb_id;
	if (mknod) {
		fc->pad = 0;
		sb = &fc->sb_id;
	} else {
		fpath_user_at(ev, &ev->new_name, task, newdir, nw, NULL, &memo);
	}
	if (type == VE_SYMLINK)
		str_empty(ev, sb);
	else
		put_sb_id(ev, sb, sb_of_user_path(&st));
	record_submit(ev);
	return 0;
}

/* ---- read 0, write 1: high volume, off by default ----
 * The fd's path at exit; write also copies the first bytes written (for writev, of the first
 * iovec). preadv/pwritev and io_uring are not seen. */

static __always_inline int rw_exit(struct trace_event_raw_sys_exit *ctx, __u32 type)
{
	struct inflight in;
	if (!exit_args(type, ctx, &in))
		return 0;
	struct vigil_rw *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	long n = ctx->ret;
	ev->res = n;
	ev->fd = in.args[0];
	ev->count = in.args[2]; /* bytes asked for; the iovec count for readv/writev */
	ev->pad = 0;
	fpath_file(ev, &ev->file, file_of_fd(in.args[0]));
	const void *src = (const void *)in.args[1];
	if (type == VE_WRITE && n > 0 && in.nr == NR_writev) {
		struct iovec iov = {};
		bpf_probe_read_user(&iov, sizeof(iov), src);
		src = iov.iov_base;
		if (n > (long)iov.iov_len)
			n = iov.iov_len;
	}
	if (type == VE_WRITE && n > 0) {
		if (n > WRITE_BUF_BYTES)
			n = WRITE_BUF_BYTES;
		put_bytes(ev, &ev->buf, src, n, 1);
	} else {
		str_empty(ev, &ev->buf);
	}
	record_submit(ev);
	return 0;
}
SYS_EXIT(read, vigil_read_exit) { return rw_exit(ctx, VE_READ); }
SYS_EXIT(pread64, vigil_pread_exit) { return rw_exit(ctx, VE_READ); }
SYS_EXIT(readv, vigil_readv_exit) { return rw_exit(ctx, VE_READ); }
SYS_EXIT(write, vigil_write_exit) { return rw_exit(ctx, VE_WRITE); }
SYS_EXIT(pwrite64, vigil_pwrite_exit) { return rw_exit(ctx, VE_WRITE); }
SYS_EXIT(writev, vigil_writev_exit) { return rw_exit(ctx, VE_WRITE); }

/* ---- close 3, dup 32: off by default ----
 * close looks the file up at entry (after the call the fd is gone) and walks its path at exit:
 * the dentry a struct file pins stays valid while the close completes. dup reports oldfd's
 * file. close_range is not seen. */
SYS_ENTER(close, vigil_close_enter)
{
	if (should_trace(VE_CLOSE))
		stash_args_aux(VE_CLOSE, ctx, 1, (__u64)file_of_fd(ctx->args[0]));
	return 0;
}

static __always_inline int fd_op_exit(struct trace_event_raw_sys_exit *ctx, __u32 type)
{
	struct inflight in;
	if (type == VE_CLOSE ? !take_args(type, &in) : !exit_args(type, ctx, &in)) /* close: its entry keeps the file */
		return 0;
	struct vigil_fd_op *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	struct file *f;
	if (type == VE_CLOSE) {
		ev->newfd = -1;
		f = as_file(in.aux);
	} else {
		ev->newfd = ctx->ret;
		f = file_of_fd(in.args[0]);
	}
	fpath_file(ev, &ev->file, f);
	record_submit(ev);
	return 0;
}
SYS_EXIT(close, vigil_close_exit) { return fd_op_exit(ctx, VE_CLOSE); }
SYS_EXIT(dup, vigil_dup_exit) { return fd_op_exit(ctx, VE_DUP); }
SYS_EXIT(dup2, vigil_dup2_exit) { return fd_op_exit(ctx, VE_DUP); }
SYS_EXIT(dup3, vigil_dup3_exit) { return fd_op_exit(ctx, VE_DUP); }

char LICENSE[] SEC("license") = "GPL";
