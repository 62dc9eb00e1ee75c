/* File-family paths: fd → struct file, the path of a file, a user path made absolute against
 * the cwd or a dirfd, and the superblock (s_id) a user path's directory lives on. Every hop is
 * a direct fault-safe load through a BTF-typed pointer (process-path.h's walk) rather than a
 * bpf_probe_read_kernel call: the exits of path-carrying events cost mostly this.
 * Users: bpf/file.bpf.c. */
#ifndef VIGIL_FILE_PATH_H
#define VIGIL_FILE_PATH_H

#include "process-path.h"

#define AT_EMPTY_PATH 0x1000

/* The struct file behind fd in the current task (a typed pointer: direct loads), or NULL. */
static __always_inline struct file *task_file_of_fd(struct task_struct *task, int fd)
{
	void *f = task_fd_file(task, fd);
	return f ? as_file(f) : NULL;
}

static __always_inline struct file *file_of_fd(int fd)
{
	return task_file_of_fd(bpf_get_current_task_btf(), fd);
}

static __always_inline void str_empty(void *rec, struct vigil_str *s)
{
	s->off = ((struct vigil_hdr *)rec)->size;
	s->len = 0;
}

/* The path of an open file (empty for NULL). */
static __always_inline void fpath_file(void *rec, struct vigil_str *s, struct file *f)
{
	if (!f) {
		str_empty(rec, s);
		return;
	}
	put_path_fast(rec, s, f->f_path.dentry, f->f_path.mnt);
}

/* Where a user path is resolved from, for sb_of_user_path: the (mount, dentry) the kernel
 * starts its lookup at (the task's root for "/…", the cwd or the dirfd otherwise) and the
 * record bytes [own, end) still to resolve from there. mnt is NULL when there is no start
 * (unreadable path, dirfd not open). */
struct upath_start {
	struct vfsmount *mnt;
	struct dentry *dentry;
	__u32 own;
	__u32 end;
};

/* The base a previous fpath_user_at call of the same record walked (path2: rename, link and
 * symlinkat name two paths, usually against one dirfd): its path is still in the walk
 * buffer, so the second call reads only its name. Zero-initialise; valid is set by the call
 * that walked. */
struct upath_memo {
	int valid;
	int dirfd;
};

/* A path argument made absolute the way the kernel resolves it: "/…" is copied as given;
 * anything else is joined to the cwd (dirfd == AT_FDCWD) or to the dirfd's path; an empty
 * path (AT_EMPTY_PATH) is the dirfd's (or cwd's) own path. Neither ".." nor symlinks are
 * resolved. A relative path against a dirfd that is not open is kept as written. A joined
 * path longer than MAX_PATH - 1 keeps its end (the name). st (may be NULL; the calls are
 * inlined, so callers without it pay nothing) gets the lookup's start; memo (may be NULL)
 * lets a second path against the same dirfd skip the walk. task: the current task, which the
 * caller already holds (one helper call fewer per path).
 * Two helper calls per path: the user string is read once, right behind where the walk
 * builds the base (lib/process-path.h pwalk_state), and base, '/' and name are copied into
 * the record together (a 1-byte probe for '/', the string read and the base's copy were
 * three). */
static __always_inline void fpath_user_at(void *rec, struct vigil_str *s, struct task_struct *task, int dirfd,
					  const char *upath, struct upath_start *st,
					  struct upath_memo *memo)
{
	if (st)
		st->mnt = NULL;
	struct pwalk_state *w = pwalk_get();
	long n = upath && w ? bpf_probe_read_user_str(&w->buf[PBUF_END + 1], MAX_PATH, upath) : -1;
	if (n <= 0 || !w) {
		str_empty(rec, s);
		return;
	}
	__u32 rlen = (n - 1) & (MAX_PATH - 1); /* the name's bytes, without its NUL */
	char c = w->buf[PBUF_END + 1];
	struct fs_struct *fs = task->fs;
	if (c == '/') {
		pwalk_emit(rec, s, w, PBUF_END + 1, rlen);
		if (st) {
			st->mnt = fs->root.mnt;
			st->dentry = fs->root.dentry;
			st->own = s->off + 1;
			st->end = s->off + s->len;
		}
		return;
	}
	struct vfsmount *bmnt;
	struct dentry *bdentry;
	if (dirfd == AT_FDCWD) {
		bmnt = fs->pwd.mnt;
		bdentry = fs->pwd.dentry;
	} else {
		struct file *f = task_file_of_fd(task, dirfd);
		bmnt = f ? f->f_path.mnt : NULL;
		bdentry = f ? f->f_path.dentry : NULL;
	}
	if (!bmnt || !bdentry) { /* no such dirfd: the path as written */
		pwalk_emit(rec, s, w, PBUF_END + 1, rlen);
		return;
	}
	__u32 blen;
	if (memo && memo->valid && memo->dirfd == dirfd) {
		blen = PBUF_END - w->pos; /* the base the memo's call walked, still in buf */
	} else {
		blen = pwalk_build(w, bdentry, bmnt);
		if (memo) {
			memo->valid = 1;
			memo->dirfd = dirfd;
		}
	}
	if (st) {
		st->mnt = bmnt;
		st->dentry = bdentry;
	}
	if (c == 0) { /* AT_EMPTY_PATH: the directory (or file) itself; the root is "/" */
		w->buf[PBUF_END] = '/';
		pwalk_emit(rec, s, w, blen ? w->pos : PBUF_END, blen ? blen : 1);
		if (st)
			st->own = st->end = 0;
		return;
	}
	/* base '/' name, contiguous in buf (the root's base is empty: "/name") */
	w->buf[PBUF_END] = '/';
	__u32 from = w->pos, len = blen + 1 + rlen;
	if (len > MAX_PATH - 1) { /* keep the end: the name */
		from += len - (MAX_PATH - 1);
		len = MAX_PATH - 1;
	}
	pwalk_emit(rec, s, w, from, len);
	if (st) {
		st->end = s->off + s->len;
		st->own = st->end >= rlen ? st->end - rlen : s->off;
	}
}

/* ---- the superblock of a user path's directory (sb_id) ----
 * Why a walk: tracepoints run before or after the kernel's lookup, never inside it, and
 * mknod/rename/link leave no fd to read the mount from (open does: its 602 takes the opened
 * file's f_path.mnt->mnt_sb, exact and without this walk). So the mount a path's directory is
 * on is found again: start where the kernel starts (upath_start) and descend into each child
 * mount whose mountpoint, seen from the current position, names a directory prefix of the rest
 * of the path; mounts stacked on a crossed mount's root are entered too. The last component is
 * never crossed (mknod, rename and link act in its parent). A path with no '/' after its start
 * (a bare name, cwd- or dirfd-relative) ends after one step with the start's mount.
 * What it misses (the mount reached so far is reported): symlinks, "..", "." and "//" in the
 * path; mountpoints more than SB_MP_DEPTH directories below the mount they sit on; walks
 * longer than SB_STEPS steps (hundreds of mounts below the start); mount changes racing the
 * syscall (the lists are read without the kernel's lock; every load is fault-safe).
 * Cost: about one step per child mount of each mount crossed, plus one per extra directory
 * level and per 8 bytes of a name that passes the length test; measured here (5 child mounts
 * under "/") about 1-2 us more per absolute-path mknod/rename, mostly cold mount and dentry
 * cache lines, nothing for a bare name.
 *
 * The verifier: one bpf_loop whose callback does one small step per call (count the '/' in 32
 * bytes of the rest, take the next child mount, climb one dentry up from its mountpoint,
 * compare one 8-byte word of a name), with every variable in a per-CPU map and only the two
 * map pointers in the loop context. Values read back from a map are unknown numbers, so the
 * callback's states converge at once (the state kept in a loop context on the stack, with
 * name comparisons unrolled inside the callback, was tracked exactly and hit the
 * 1M-instruction limit; now mknod's exit verifies in about 2,000 instructions). */
#define SB_STEPS 2048
#define SB_SHORT 16 /* a rest this short is tested for '/' inline */
#define SB_MP_DEPTH 8
#define SB_SLASH 0x2f2f2f2f2f2f2f2fULL
#define SB_LOW7 0x7f7f7f7f7f7f7f7fULL

enum { SB_COUNT, SB_PICK, SB_CLIMB, SB_MATCH };

struct sb_walk {
	__u64 mnt;   /* struct mount *: the mount reached so far (the answer) */
	__u64 at;    /* struct dentry *: where the rest of the path starts, in mnt */
	__u64 next;  /* struct list_head *: mnt's next child mount to look at */
	__u64 cand;  /* struct mount *: the child mount being checked */
	__u64 d;     /* struct dentry *: climb / match position, from cand's mountpoint up */
	__u32 phase;
	__u32 pos;   /* record offset of the rest of the path */
	__u32 end;   /* record offset of the path's NUL */
	__u32 dirs;  /* '/' in the rest: no mountpoint deeper than this can match */
	__u32 depth; /* climb: directories from at down to the mountpoint */
	__u32 len;   /* climb: bytes of "a/b/…/mp/" */
	__u32 o;     /* match: record offset just past the component being compared */
	__u32 word;  /* count: word of the rest; match: word of the component */
	__u32 fresh; /* at is the root of a crossed mount: mounts stacked on it are followed */
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_walk);
} sbwalk_scratch SEC(".maps") __weak;

static __always_inline struct sb_walk *sbwalk_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&sbwalk_scratch, &zero);
}

/* The record's 8 bytes at off, the bytes from `keep` on cleared (keep < 8). */
static __always_inline __u64 rec_word(void *rec, __u32 off, __u32 keep)
{
	__u64 u = 0;
	__builtin_memcpy(&u, rec_at(rec, off), 8);
	if (keep < 8)
		u &= (1ULL << ((keep & 7) * 8)) - 1;
	return u;
}

static __always_inline void sb_enter(struct sb_walk *w, struct mount *m, __u32 pos)
{
	w->mnt = (__u64)m;
	w->at = (__u64)m->mnt.mnt_root;
	w->next = (__u64)m->mnt_mounts.next;
	w->pos = pos;
	w->fresh = 1;
	w->phase = SB_PICK;
}

/* The loop context: only the two map pointers (the same every step, so they cost the
 * verifier nothing and the callback no lookups). */
struct sb_ctx {
	struct sb_walk *w;
	void *rec;
};

/* One dentry up from w->d (the candidate's mountpoint or one of its ancestors) towards at.
 * Reaching at ends the climb with the cheap test ("a/b/…/mp" must be followed by '/' and one
 * more component) and, if it passes, the name comparison starts. */
static __always_inline void sb_climb(struct sb_walk *w, void *rec)
{
	struct dentry *d = as_dentry(w->d);
	struct dentry *p = d->d_parent;
	w->phase = SB_PICK;
	if (w->depth >= w->dirs || w->depth >= SB_MP_DEPTH || p == d ||
	    d == as_mount(w->mnt)->mnt.mnt_root)
		return; /* deeper than the path, or not below at */
	w->len += d->d_name.len + 1;
	w->depth++;
	w->d = (__u64)p;
	if ((__u64)p != w->at) {
		w->phase = SB_CLIMB;
		return;
	}
	__u32 slash = w->pos + w->len - 1;
	if (slash + 1 >= w->end || *(char *)rec_at(rec, slash) != '/' ||
	    *(char *)rec_at(rec, slash + 1) == '/')
		return;
	w->o = slash;
	w->d = (__u64)as_mount(w->cand)->mnt_mountpoint;
	w->word = 0;
	w->phase = SB_MATCH;
}

static long sb_step(__u64 i, void *data)
{
	struct sb_ctx *ctx = data;
	struct sb_walk *w = ctx->w;
	void *rec = ctx->rec;
	switch (w->phase) {
	case SB_COUNT: /* '/' bytes in the rest, 32 a step (an exact zero-byte test per word) */
		for (int j = 0; j < 4; j++) {
			__u32 off = w->pos + w->word * 8;
			if (off >= w->end) {
				if (w->dirs == 0)
					return 1; /* a single name: the start's mount is the answer */
				w->phase = SB_PICK;
				return 0;
			}
			/* bytes past the end read as 0, which is not '/' */
			__u64 x = rec_word(rec, off, w->end - off) ^ SB_SLASH;
			__u64 z = ~(((x & SB_LOW7) + SB_LOW7) | x | SB_LOW7); /* 0x80 in each '/' byte */
			w->dirs += ((z >> 7) * 0x0101010101010101ULL) >> 56;
			w->word++;
		}
		return 0;
	case SB_PICK: { /* the next child mount, and the first dentry of its climb */
		__u64 head = w->mnt + bpf_core_field_offset(struct mount, mnt_mounts);
		if (!w->next || w->next == head)
			return 1; /* no child mount left: w->mnt is where the path is */
		struct mount *c = as_mount(w->next - bpf_core_field_offset(struct mount, mnt_child));
		w->next = (__u64)c->mnt_child.next;
		struct dentry *mp = c->mnt_mountpoint;
		if ((__u64)mp == w->at) { /* stacked on the position: followed after a crossing */
			if (w->fresh)
				sb_enter(w, c, w->pos);
			return 0;
		}
		w->cand = (__u64)c;
		w->d = (__u64)mp;
		w->depth = 0;
		w->len = 0;
		sb_climb(w, rec);
		return 0;
	}
	case SB_CLIMB:
		sb_climb(w, rec);
		return 0;
	case SB_MATCH: { /* one word of one component name, from the mountpoint up */
		struct dentry *d = as_dentry(w->d);
		__u32 n = d->d_name.len;
		w->phase = SB_PICK;
		if (w->o < w->pos + n)
			return 0;
		__u32 start = w->o - n, at = w->word * 8;
		__u32 keep = n - at;
		if (keep > 8)
			keep = 8;
		barrier_var(keep); /* a bound the verifier can see for the read's size */
		keep &= 15;
		__u64 k[2] = {};
		bpf_probe_read_kernel(k, keep, d->d_name.name + at);
		if (k[0] != rec_word(rec, start + at, keep))
			return 0;
		w->phase = SB_MATCH;
		if (at + 8 < n) {
			w->word++;
			return 0;
		}
		/* the component matched: the path has it right after at, or after a '/' */
		struct dentry *p = d->d_parent;
		if ((__u64)p == w->at) {
			if (start == w->pos) {
				w->dirs -= w->depth;
				sb_enter(w, as_mount(w->cand), w->pos + w->len);
			} else {
				w->phase = SB_PICK;
			}
			return 0;
		}
		if (start <= w->pos || *(char *)rec_at(rec, start - 1) != '/') {
			w->phase = SB_PICK;
			return 0;
		}
		w->word = 0;
		w->d = (__u64)p;
		w->o = start - 1;
		return 0;
	}
	}
	return 1;
}

/* The superblock of the mount a user path's directory is on (NULL: no start). */
static __always_inline struct super_block *sb_of_user_path(struct upath_start *st)
{
	if (!st->mnt)
		return NULL;
	struct super_block *sb = st->mnt->mnt_sb;
	if (st->own >= st->end) /* nothing to resolve: the start itself (AT_EMPTY_PATH) */
		return sb;
	void *rec = scratch_buf();
	if (!rec)
		return sb;
	if (st->end - st->own <= SB_SHORT) {
		/* a short rest without '/' is a bare name, in the start's mount: no walk to set up */
		bool slash = false;
		for (__u32 i = 0; i < SB_SHORT; i++) {
			__u32 o = st->own + i;
			if (o >= st->end)
				break;
			if (*(char *)rec_at(rec, o) == '/')
				slash = true;
		}
		if (!slash)
			return sb;
	}
	struct sb_walk *w = sbwalk_get();
	if (!w)
		return sb;
	struct mount *m = real_mount(st->mnt);
	w->mnt = (__u64)m;
	w->at = (__u64)st->dentry;
	w->next = (__u64)as_mount(m)->mnt_mounts.next;
	w->pos = st->own;
	w->end = st->end;
	w->dirs = 0;
	w->word = 0;
	w->fresh = 0; /* the start itself is already where the kernel begins */
	w->phase = SB_COUNT;
	struct sb_ctx ctx = { .w = w, .rec = rec };
	bpf_loop(SB_STEPS, sb_step, &ctx, 0);
	return as_mount(w->mnt)->mnt.mnt_sb;
}

/* Append the s_id of sb ("vda", "tmpfs", …) to the record; empty for NULL. s_id is a
 * char[32] of a zeroed superblock, NUL-terminated, possibly with an older, longer name's
 * bytes after the NUL (a filesystem may set it twice at mount): four word loads through
 * the typed pointer and a scan for the NUL, not a string helper. */
static __always_inline void put_sb_id(void *rec, struct vigil_str *s, struct super_block *sb)
{
	struct vigil_hdr *h = rec;
	__u32 off = h->size;
	if (!sb || off >= MAX_RECORD) {
		str_empty(rec, s);
		return;
	}
	const __u64 *w = (const __u64 *)sb->s_id;
	for (int i = 0; i < 4; i++)
		*(__u64 *)rec_at(rec, off + i * 8) = w[i];
	__u32 len = 31;
	for (__u32 i = 0; i < 31; i++) {
		if (*(char *)rec_at(rec, off + i) == 0) {
			len = i;
			break;
		}
	}
	*(char *)rec_at(rec, off + len) = 0;
	s->off = off;
	s->len = len;
	h->size = off + len + 1;
}

#endif
