/* Paths for the exec event (cwd, exe, stdin/stdout files) by direct BTF loads.
 * Same walk as put_dentry_path in path.h (bounded, crosses mounts through struct mount, keeps
 * the last PATH_MAX_DEPTH components), but every hop is a plain fault-safe load through a
 * pointer typed with bpf_rdonly_cast (inlined by the verifier to a register move) instead of a
 * bpf_probe_read_kernel call; only the name copies are helper calls. execve makes up to four
 * walks per exec, so this is where its cost was. */
#ifndef VIGIL_PROCESS_PATH_H
#define VIGIL_PROCESS_PATH_H

#include "path.h"

extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;

#define as_dentry(p) ((struct dentry *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct dentry)))
#define as_file(p) ((struct file *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct file)))
#define as_mount(p) ((struct mount *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(struct mount)))

/* The walk's state lives in a per-CPU map, not in the loop context on the stack: a pointer
 * read back from map memory is a plain number to the verifier, so the states of successive
 * steps compare equal and the callback is verified a few times, not once per depth (typed
 * pointers kept on the stack made the verifier give up after a million instructions). */
struct pwalk_state {
	__u64 dentry;
	__u64 mnt; /* struct mount * */
	__u64 name[PATH_MAX_DEPTH];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pwalk_state);
} pwalk_scratch SEC(".maps") __weak;

static __always_inline struct pwalk_state *pwalk_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&pwalk_scratch, &zero);
}

static long pwalk_step(__u64 i, void *data)
{
	__u32 *n = data;
	struct pwalk_state *st = pwalk_get();
	if (!st)
		return 1;
	struct dentry *d = as_dentry(st->dentry);
	struct mount *m = as_mount(st->mnt);
	struct dentry *root = m->mnt.mnt_root;
	struct dentry *parent = d->d_parent;
	if (d == root || d == parent) {
		struct mount *pm = m->mnt_parent;
		if (d != root || m == pm || !pm)
			return 1; /* the root of the whole tree */
		st->dentry = (__u64)m->mnt_mountpoint;
		st->mnt = (__u64)pm;
		return 0;
	}
	if (*n >= PATH_MAX_DEPTH)
		return 1;
	st->name[*n & (PATH_MAX_DEPTH - 1)] = (__u64)d->d_name.name;
	*n += 1;
	st->dentry = (__u64)parent;
	return 0;
}

static long pwrite_step(__u64 i, void *data)
{
	struct write_ctx *w = data;
	struct pwalk_state *st = pwalk_get();
	void *rec = scratch_buf();
	if (!st || !rec || i >= w->n)
		return 1;
	if (w->off - w->start > MAX_PATH - NAME_MAX_LEN - 2 || w->off >= MAX_RECORD)
		return 1;
	__u32 idx = (w->n - 1 - i) & (PATH_MAX_DEPTH - 1);
	*(char *)rec_at(rec, w->off) = '/';
	w->off++;
	long len = bpf_probe_read_kernel_str(rec_at(rec, w->off), NAME_MAX_LEN, (void *)st->name[idx]);
	if (len > 1)
		w->off += len - 1;
	return 0;
}

/* Append the path of (dentry, vfsmount) to the record's tail (rec = the scratch record). */
static __always_inline void put_path_fast(void *rec, struct vigil_str *s, struct dentry *dentry,
					  struct vfsmount *vfsmnt)
{
	struct vigil_hdr *h = rec;
	s->off = h->size;
	s->len = 0;
	if (!dentry || !vfsmnt || h->size >= MAX_RECORD)
		return;
	struct pwalk_state *st = pwalk_get();
	if (!st)
		return;
	st->dentry = (__u64)dentry;
	st->mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	__u32 n = 0;
	bpf_loop(PATH_MAX_DEPTH * 2, pwalk_step, &n, 0);
	struct write_ctx wr = { .n = n, .off = h->size, .start = h->size };
	if (n == 0) {
		*(char *)rec_at(rec, wr.off) = '/';
		wr.off++;
	} else {
		bpf_loop(PATH_MAX_DEPTH, pwrite_step, &wr, 0);
	}
	*(char *)rec_at(rec, wr.off) = 0;
	s->len = wr.off - wr.start;
	h->size = wr.off + 1;
}

static __always_inline void put_file_path_fast(void *rec, struct vigil_str *s, struct file *f)
{
	if (!f) {
		s->off = ((struct vigil_hdr *)rec)->size;
		s->len = 0;
		return;
	}
	put_path_fast(rec, s, f->f_path.dentry, f->f_path.mnt);
}

#endif
