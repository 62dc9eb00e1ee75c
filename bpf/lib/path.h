/* Paths and files: the full path of a (dentry, vfsmount) by a bounded walk that crosses
 * mounts, fd → struct file, and user paths made absolute against the cwd or a dirfd.
 * Kernel-side d_path is not available to tracepoint programs (bpf_d_path is LSM/fentry only). */
#ifndef VIGIL_PATH_H
#define VIGIL_PATH_H

#include "common.h"

#define PATH_MAX_DEPTH 32
#define NAME_MAX_LEN 256
#define AT_FDCWD -100

struct path_names {
	const unsigned char *name[PATH_MAX_DEPTH];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_names);
} path_scratch SEC(".maps") __weak;

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return (struct mount *)((void *)mnt - bpf_core_field_offset(struct mount, mnt));
}

/* The walk runs in bpf_loop callbacks so the verifier checks each step once, however many
 * times a program walks a path (execve walks four). */
struct walk_ctx {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	__u32 n;
};

static long walk_step(__u64 i, void *data)
{
	struct walk_ctx *w = data;
	__u32 zero = 0;
	struct path_names *pn = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!pn)
		return 1;
	/* copy out of the context first: BPF_CORE_READ on w->x would relocate walk_ctx itself */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *pmnt = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != mnt_root || mnt == pmnt || !pmnt)
			return 1; /* the root of the whole tree */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = pmnt;
		w->vfsmnt = (struct vfsmount *)((void *)pmnt + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	if (w->n >= PATH_MAX_DEPTH)
		return 1;
	pn->name[w->n & (PATH_MAX_DEPTH - 1)] = BPF_CORE_READ(dentry, d_name.name);
	w->n++;
	w->dentry = parent;
	return 0;
}

struct write_ctx {
	__u32 n;     /* components collected */
	__u32 off;   /* write position in the record */
	__u32 start;
};

static long write_step(__u64 i, void *data)
{
	struct write_ctx *w = data;
	__u32 zero = 0;
	struct path_names *pn = bpf_map_lookup_elem(&path_scratch, &zero);
	void *rec = scratch_buf();
	if (!pn || !rec || i >= w->n)
		return 1;
	if (w->off - w->start > MAX_PATH - NAME_MAX_LEN - 2 || w->off >= MAX_RECORD)
		return 1;
	__u32 idx = (w->n - 1 - i) & (PATH_MAX_DEPTH - 1);
	*(char *)rec_at(rec, w->off) = '/';
	w->off++;
	long len = bpf_probe_read_kernel_str(rec_at(rec, w->off), NAME_MAX_LEN, pn->name[idx]);
	if (len > 1)
		w->off += len - 1;
	return 0;
}

/* Append the path of (dentry, vfsmnt) to the record's tail; s covers what was written. rec
 * must be the scratch record (record_begin). Paths deeper than PATH_MAX_DEPTH keep their last
 * PATH_MAX_DEPTH components. */
static __always_inline void put_dentry_path(void *rec, struct vigil_str *s, struct dentry *dentry,
					    struct vfsmount *vfsmnt)
{
	struct vigil_hdr *h = rec;
	s->off = h->size;
	s->len = 0;
	if (!dentry || h->size >= MAX_RECORD)
		return;
	struct walk_ctx w = { .dentry = dentry, .vfsmnt = vfsmnt, .mnt = real_mount(vfsmnt), .n = 0 };
	bpf_loop(PATH_MAX_DEPTH * 2, walk_step, &w, 0);
	struct write_ctx wr = { .n = w.n, .off = h->size, .start = h->size };
	if (w.n == 0) {
		*(char *)rec_at(rec, wr.off) = '/';
		wr.off++;
	} else {
		bpf_loop(PATH_MAX_DEPTH, write_step, &wr, 0);
	}
	*(char *)rec_at(rec, wr.off) = 0;
	s->len = wr.off - wr.start;
	h->size = wr.off + 1;
}

static __always_inline void put_file_path(void *rec, struct vigil_str *s, struct file *f)
{
	if (!f) {
		s->off = ((struct vigil_hdr *)rec)->size;
		s->len = 0;
		return;
	}
	put_dentry_path(rec, s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

/* The struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(int fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if ((unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void put_cwd(void *rec, struct vigil_str *s)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	put_dentry_path(rec, s, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt));
}

/* A path argument as the kernel resolved it: absolute user paths are copied as given;
 * relative ones are joined to the cwd (dirfd == AT_FDCWD) or to the dirfd's path. */
static __always_inline void put_user_path_at(void *rec, struct vigil_str *s, int dirfd, const char *upath)
{
	char c = 0;
	bpf_probe_read_user(&c, 1, upath);
	if (c == '/' || !upath) {
		put_str(rec, s, upath, MAX_PATH, 1);
		return;
	}
	struct vigil_hdr *h = rec;
	struct vigil_str base;
	if (dirfd == AT_FDCWD)
		put_cwd(rec, &base);
	else
		put_file_path(rec, &base, fd_file(dirfd));
	/* replace the base's NUL with '/', then append the relative path */
	__u32 off = h->size - 1;
	if (base.len == 1) /* the root: "/" + name */
		off = base.off + 1;
	else
		*(char *)rec_at(rec, off) = '/', off++;
	h->size = off;
	struct vigil_str rel;
	put_str(rec, &rel, upath, MAX_PATH, 1);
	s->off = base.off;
	s->len = rel.len + (rel.off - base.off);
}

static __always_inline void put_user_path(void *rec, struct vigil_str *s, const char *upath)
{
	put_user_path_at(rec, s, AT_FDCWD, upath);
}

#endif
