/* Shared maps, read-only configuration and the emit path used by every family.
 * Every family file (bpf/<family>.bpf.c) includes this header; maps and globals are
 * __weak so the per-family objects link into one (bpftool gen object) with one copy each.
 * User space mirror: src/agent/collector/loader.ts (map names, rodata names). */
#ifndef VIGIL_COMMON_H
#define VIGIL_COMMON_H

#include "../vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../events.h"

#ifndef __weak
#define __weak __attribute__((weak))
#endif

/* Scratch space for one record: a record is built here, then copied into the ring with its
 * real size. SCRATCH_SIZE is twice MAX_RECORD so masked variable offsets stay in bounds. */
#define MAX_RECORD 16384
#define SCRATCH_SIZE (MAX_RECORD * 2)
#define MAX_PATH 4096
#define MAX_ARGV 4096

/* ---- read-only configuration, written by the loader before load ----
 * The only variable in .rodata, so it sits at offset 0 (checked by the BTF layout test).
 * Mirror: CONFIG_LAYOUT in src/agent/collector/layouts.ts. */
struct vigil_config {
	__u32 agent_tgid;          /* the agent's own events are dropped in the kernel */
	__u32 rate_limit_per_sec;  /* per-exe events per second; 0 = unlimited */
	__u32 exe_allow_on;        /* the exe allow list is in use (skip its lookup when not) */
	__u32 wake_bytes;          /* wake the reader once this much is waiting (ring size / 8) */
};
const volatile struct vigil_config vigil_cfg __weak = {};

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by the loader (ring_size) */
} events SEC(".maps") __weak;

/* drops[type]: ring reserve/output failures, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VE_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps") __weak;

/* limited[type]: events suppressed by the per-exe rate limit, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VE_MAX);
	__type(key, __u32);
	__type(value, __u64);
} limited SEC(".maps") __weak;

/* enabled[type] != 0: the event is wanted. Switchable at run time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VE_MAX);
	__type(key, __u32);
	__type(value, __u8);
} enabled SEC(".maps") __weak;

/* Executables whose events are never reported (the exe allow list), by inode and device. */
struct exe_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct exe_key);
	__type(value, __u8);
} exe_allow SEC(".maps") __weak;

struct rate_state {
	__u64 window; /* second (boot time) the count belongs to */
	__u64 count;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct exe_key);
	__type(value, struct rate_state);
} exe_rate SEC(".maps") __weak;

/* Syscall arguments kept from sys_enter until sys_exit, in the thread's own storage: no
 * hashing or LRU locking on the hot path, and freed with the thread (a hash keyed by tid
 * cost ~400 ns per entry program and leaked entries of threads that never returned). */
struct inflight {
	__u64 args[6];
	__u32 type; /* 0 = empty */
	__u32 nr;
	__u64 aux; /* free for the family: e.g. a kernel pointer captured at entry */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps") __weak;

static __always_inline struct inflight *inflight_slot(bool create)
{
	return bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[SCRATCH_SIZE]);
} scratch SEC(".maps") __weak;

/* ---- helpers ---- */

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/* The address of offset `off` in a record, masked so the verifier can bound it (the barrier
 * keeps clang from dropping a mask it can prove redundant, which loses the bound). */
static __always_inline void *rec_at(void *rec, __u32 off)
{
	barrier_var(off);
	return rec + (off & (MAX_RECORD - 1));
}

static __always_inline void count(void *map, __u32 type)
{
	__u64 *v = bpf_map_lookup_elem(map, &type);
	if (v)
		*v += 1;
}

static __always_inline bool is_enabled(__u32 type)
{
	__u8 *on = bpf_map_lookup_elem(&enabled, &type);
	return on && *on;
}

static __always_inline void exe_key_of(struct task_struct *task, struct exe_key *key)
{
	struct inode *exe = task->mm->exe_file->f_inode;
	key->ino = exe->i_ino;
	key->dev = exe->i_sb->s_dev;
	key->pad = 0;
}

/* The filters after the enable switch: exe allow list and per-exe rate limit. Rate-limited
 * events are counted in `limited`. */
static __always_inline bool pass_exe_filters(__u32 type, struct task_struct *task)
{
	if (!vigil_cfg.exe_allow_on && !vigil_cfg.rate_limit_per_sec)
		return true;
	struct exe_key key;
	exe_key_of(task, &key);
	if (vigil_cfg.exe_allow_on && bpf_map_lookup_elem(&exe_allow, &key))
		return false;
	if (vigil_cfg.rate_limit_per_sec) {
		__u64 sec = bpf_ktime_get_boot_ns() / 1000000000ULL;
		struct rate_state *st = bpf_map_lookup_elem(&exe_rate, &key);
		if (!st) {
			struct rate_state init = { .window = sec, .count = 1 };
			bpf_map_update_elem(&exe_rate, &key, &init, BPF_ANY);
		} else if (st->window != sec) {
			st->window = sec;
			st->count = 1;
		} else if (++st->count > vigil_cfg.rate_limit_per_sec) {
			count(&limited, type);
			return false;
		}
	}
	return true;
}

/* The cheap gate every program runs first: enabled, not the agent, exe not allow-listed,
 * within the per-exe rate limit. The _t forms take the current task the program already
 * holds: bpf_get_current_task_btf and bpf_get_current_pid_tgid are real calls here, and on
 * CPUs with return-thunk mitigations (SRSO Safe RET, retbleed) every call's return is dear. */
static __always_inline bool gate_task(__u32 type, struct task_struct *task)
{
	if (vigil_cfg.agent_tgid && task->tgid == vigil_cfg.agent_tgid)
		return false;
	return pass_exe_filters(type, task);
}

static __always_inline bool should_trace_t(__u32 type, struct task_struct *task)
{
	return is_enabled(type) && gate_task(type, task);
}

static __always_inline bool should_trace(__u32 type)
{
	return is_enabled(type) && gate_task(type, bpf_get_current_task_btf());
}

/* Since 6.17 the verifier lets a program read untrusted memory with plain fault-safe loads
 * through bpf_rdonly_cast(p, 0); before that the same reads take a helper call. The CO-RE check
 * turns the unused branch into dead code before verification. Built with
 * -DVIGIL_COMPAT_PRE_6_17 (scripts/build.ts --define), the object always takes the older path:
 * test/collector/compat.test.ts runs it on this kernel. */
#ifdef VIGIL_COMPAT_PRE_6_17
#define HAVE_UNTRUSTED_LOADS() 0
#else
#define HAVE_UNTRUSTED_LOADS() bpf_core_enum_value_exists(enum bpf_features, BPF_FEAT_RDONLY_CAST_TO_VOID)
#endif

/* The kfunc behind typed (as_file, net_as) and untrusted-memory casts in every family. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;

/* The struct file * (untyped) in slot fd of the current task's fd table, or NULL. The table
 * is indexed by a variable, which a typed load cannot do: since 6.17 the slot is read through
 * an untrusted-memory cast (a plain fault-safe load), before that with one helper call. */
static __always_inline void *task_fd_file(struct task_struct *task, long fd)
{
	if (fd < 0)
		return NULL;
	struct fdtable *fdt = task->files->fdt;
	if ((unsigned long)fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	void *f = NULL;
	if (HAVE_UNTRUSTED_LOADS())
		f = (void *)((const __u64 *)bpf_rdonly_cast((void *)fds, 0))[(__u32)fd];
	else
		bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline void *scratch_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Direct loads through the BTF-typed current task (the verifier turns them into fault-safe
 * PROBE_MEM loads: a NULL mm of a kernel thread reads as 0) are several times cheaper than a
 * bpf_probe_read_kernel call per hop. */
static __always_inline void fill_hdr(struct vigil_hdr *h, __u32 type, struct task_struct *task)
{
	h->type = type;
	h->size = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->ts = bpf_ktime_get_boot_ns();
	/* The v2 cgroup and the uids by direct loads too: what bpf_get_current_cgroup_id and
	 * bpf_get_current_uid_gid read (task->cgroups->dfl_cgrp, current_cred()), ~30 and ~38 ns
	 * per call here, measured, against a few ns of loads. */
	h->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	h->pid = task->pid; /* what bpf_get_current_pid_tgid returns, without the call */
	h->tgid = task->tgid;
	h->ppid = task->real_parent->tgid;
	const struct cred *cred = task->cred;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->sessionid = task->sessionid;
	struct signal_struct *sig = task->signal;
	h->pgid = sig->pids[PIDTYPE_PGID]->numbers[0].nr;
	h->sid = sig->pids[PIDTYPE_SID]->numbers[0].nr;
	struct nsproxy *ns = task->nsproxy;
	h->pid_ns = ns->pid_ns_for_children->ns.inum;
	struct inode *exe = task->mm->exe_file->f_inode;
	h->exe_ino = exe->i_ino;
	h->exe_dev = exe->i_sb->s_dev;
	/* comm and nodename as word loads through the typed pointers: two helper calls fewer.
	 * The kernel keeps both NUL-padded (__set_task_comm, uts write), so whole words are the
	 * strings; user space stops at the first NUL either way. */
	const __u64 *comm = (const __u64 *)task->comm;
	__u64 *hc = (__u64 *)h->comm;
	hc[0] = comm[0];
	hc[1] = comm[1];
	const __u64 *node = (const __u64 *)ns->uts_ns->name.nodename;
	__u64 *hn = (__u64 *)h->nodename;
	for (int i = 0; i < 8; i++)
		hn[i] = node[i];
}

/* Start a record of `body` bytes (header included) in the scratch buffer. Returns NULL when
 * the scratch map is unavailable (never expected). */
static __always_inline void *record_begin_t(__u32 type, __u32 body, struct task_struct *task)
{
	struct vigil_hdr *h = scratch_buf();
	if (!h)
		return NULL;
	fill_hdr(h, type, task);
	h->size = body;
	return h;
}

static __always_inline void *record_begin(__u32 type, __u32 body)
{
	return record_begin_t(type, body, bpf_get_current_task_btf());
}

/* Append a NUL-terminated string to the record's tail and point `s` at it.
 * user != 0 reads user memory. Returns the bytes appended (including the NUL). */
static __always_inline void put_str(void *rec, struct vigil_str *s, const void *src, __u32 max,
				    int user)
{
	struct vigil_hdr *h = rec;
	__u32 off = h->size;
	if (off >= MAX_RECORD) {
		s->off = 0;
		s->len = 0;
		return;
	}
	long n;
	if (max > MAX_PATH)
		max = MAX_PATH;
	if (user)
		n = bpf_probe_read_user_str(rec_at(rec, off), max, src);
	else
		n = bpf_probe_read_kernel_str(rec_at(rec, off), max, src);
	if (n <= 0) {
		s->off = off;
		s->len = 0;
		return;
	}
	s->off = off;
	s->len = n - 1;
	h->size = off + n;
}

/* Copy raw bytes (user memory when user != 0) into the tail. */
static __always_inline void put_bytes(void *rec, struct vigil_str *s, const void *src, __u32 len,
				      int user)
{
	struct vigil_hdr *h = rec;
	__u32 off = h->size;
	if (off >= MAX_RECORD || len == 0 || len > MAX_PATH) {
		s->off = off;
		s->len = 0;
		return;
	}
	long err;
	barrier_var(len); /* keep the mask: the verifier needs it even where clang sees it is redundant */
	len &= 2 * MAX_PATH - 1;
	if (user)
		err = bpf_probe_read_user(rec_at(rec, off), len, src);
	else
		err = bpf_probe_read_kernel(rec_at(rec, off), len, src);
	if (err) {
		s->off = off;
		s->len = 0;
		return;
	}
	s->off = off;
	s->len = len;
	h->size = off + len;
}

/* Copy the finished record into the ring; a failure is counted in drops[type]. */
static __always_inline void record_submit(void *rec)
{
	struct vigil_hdr *h = rec;
	__u32 size = h->size;
	__u32 type = h->type;
	/* 8-byte align so every record in the ring starts aligned. */
	size = (size + 7) & ~7U;
	if (size > MAX_RECORD)
		size = MAX_RECORD;
	if (size < sizeof(struct vigil_hdr))
		size = sizeof(struct vigil_hdr);
	h->size = size;
	/* A wakeup costs the producer an irq_work self-IPI (an APIC write: a VM exit under KVM,
	 * ~0.6-2 us) and waking the reader. The reader polls every 100 ms (1 s once quiet) anyway,
	 * so a record asks for one only when it makes the bytes waiting cross a multiple of
	 * wake_bytes (an eighth of the ring): once per eighth, not on every record while the
	 * reader is behind (which cost an open storm ~0.6 us per open, measured with perf). Two
	 * CPUs racing over one boundary can both miss it; the next boundary, or the poll timeout,
	 * then wakes the reader. */
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u32 w = vigil_cfg.wake_bytes;
	if (w && avail / w != (avail + size + BPF_RINGBUF_HDR_SZ) / w)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, rec, size, flags))
		count(&drops, type);
}

/* Stash the first `nargs` syscall arguments at sys_enter for the matching sys_exit. Reading
 * past the syscall's real arguments would make attach fail with EACCES (the tracepoint's
 * record is only that long), so every caller passes the syscall's argument count. */
static __always_inline struct inflight *stash_args(__u32 type, struct trace_event_raw_sys_enter *ctx, int nargs)
{
	struct inflight *in = inflight_slot(true);
	if (!in)
		return NULL;
	in->type = type;
	in->nr = *(__s32 *)&ctx->id; /* __syscall_nr is an int: a 0-argument record ends after it */
	in->aux = 0;
	/* one load per argument: a loop becomes ctx pointer arithmetic, which the verifier refuses */
	if (nargs > 0) in->args[0] = ctx->args[0];
	if (nargs > 1) in->args[1] = ctx->args[1];
	if (nargs > 2) in->args[2] = ctx->args[2];
	if (nargs > 3) in->args[3] = ctx->args[3];
	if (nargs > 4) in->args[4] = ctx->args[4];
	if (nargs > 5) in->args[5] = ctx->args[5];
	return in;
}

/* stash_args plus a value of the family's choosing (e.g. a struct file * seen at entry). */
static __always_inline void stash_args_aux(__u32 type, struct trace_event_raw_sys_enter *ctx, int nargs, __u64 aux)
{
	struct inflight *in = stash_args(type, ctx, nargs);
	if (in)
		in->aux = aux;
}

/* Take the arguments stashed for this thread's syscall of `type` (copied into out; the slot
 * is emptied). */
static __always_inline bool take_args(__u32 type, struct inflight *out)
{
	struct inflight *in = inflight_slot(false);
	if (!in || in->type != type)
		return false;
	__builtin_memcpy(out, in, sizeof(*out));
	in->type = 0;
	return true;
}

#ifndef VIGIL_COMMON_MACROS
#define VIGIL_COMMON_MACROS
/* One gate for programs that feed two events (e.g. open and file-created). */
static __always_inline bool should_trace_any_t(__u32 a, __u32 b, struct task_struct *task)
{
	if (!is_enabled(a) && !is_enabled(b))
		return false;
	return gate_task(is_enabled(a) ? a : b, task);
}

static __always_inline bool should_trace_any(__u32 a, __u32 b)
{
	return should_trace_any_t(a, b, bpf_get_current_task_btf());
}

#define SYS_ENTER(sc, fn) \
	SEC("tracepoint/syscalls/sys_enter_" #sc) int fn(struct trace_event_raw_sys_enter *ctx)
#define SYS_EXIT(sc, fn) \
	SEC("tracepoint/syscalls/sys_exit_" #sc) int fn(struct trace_event_raw_sys_exit *ctx)

/* The common entry: gate on the event, keep the syscall's nargs arguments for the exit. */
#define STASH_ENTER(sc, nargs, type, fn)                  \
	SYS_ENTER(sc, fn)                                 \
	{                                                 \
		if (should_trace(type))                   \
			stash_args(type, ctx, nargs);     \
		return 0;                                 \
	}
#endif

#endif /* VIGIL_COMMON_H */
