/* User/credentials family: set*id calls, credentials raised to root (604), privilege
 * escalation (611). Elkeid sees 604/611 through commit_creds kprobes; here the same facts come
 * from syscall tracepoints, sched_process_exec and sched_process_fork (tp_btf). */
#include "lib/common.h"

enum {
	NR_setuid = 105, NR_setgid = 106, NR_setreuid = 113, NR_setregid = 114,
	NR_setresuid = 117, NR_setresgid = 119, NR_execve = 59,
};

/* The last credentials each process legitimately had (tgid → uid/euid), learned at fork,
 * exec and set*id. A process found running as root against this record triggers 611.
 * Processes that existed before the agent have no record and are not judged. */
struct known_cred {
	__u32 uid;
	__u32 euid;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct known_cred);
} cred_known SEC(".maps") __weak;

/* uid/euid at execve entry, by tid, to compare after a successful exec. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct known_cred);
} exec_cred SEC(".maps") __weak;

static __always_inline void current_ids(struct known_cred *k, int gid)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (gid) {
		k->uid = BPF_CORE_READ(task, cred, gid.val);
		k->euid = BPF_CORE_READ(task, cred, egid.val);
	} else {
		k->uid = BPF_CORE_READ(task, cred, uid.val);
		k->euid = BPF_CORE_READ(task, cred, euid.val);
	}
}

static __always_inline void read_creds(const struct cred *c, struct vigil_creds *out)
{
	out->id[0] = BPF_CORE_READ(c, uid.val);
	out->id[1] = BPF_CORE_READ(c, euid.val);
	out->id[2] = BPF_CORE_READ(c, suid.val);
	out->id[3] = BPF_CORE_READ(c, fsuid.val);
	out->id[4] = BPF_CORE_READ(c, gid.val);
	out->id[5] = BPF_CORE_READ(c, egid.val);
	out->id[6] = BPF_CORE_READ(c, sgid.val);
	out->id[7] = BPF_CORE_READ(c, fsgid.val);
}

static __always_inline void remember(__u32 tgid, __u32 uid, __u32 euid)
{
	struct known_cred k = { .uid = uid, .euid = euid };
	bpf_map_update_elem(&cred_known, &tgid, &k, BPF_ANY);
}

/* 611: running as root now, but the last legitimate record says otherwise. */
static __always_inline void check_escalation(__u32 nr)
{
	if (!should_trace(VE_PRIV_ESC))
		return;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct known_cred *k = bpf_map_lookup_elem(&cred_known, &tgid);
	if (!k)
		return;
	struct known_cred now;
	current_ids(&now, 0);
	if (!((now.uid == 0 && k->uid != 0) || (now.euid == 0 && k->euid != 0)))
		return;
	struct vigil_priv_esc *ev = record_begin(VE_PRIV_ESC, sizeof(*ev));
	if (!ev)
		return;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	ev->p_pid = BPF_CORE_READ(parent, tgid);
	ev->nr = nr;
	read_creds(BPF_CORE_READ(parent, cred), &ev->p_cred);
	read_creds(BPF_CORE_READ(task, cred), &ev->c_cred);
	record_submit(ev);
	/* report once: from now on this is what the process is */
	remember(tgid, now.uid, now.euid);
}

/* ---- set*id ---- */

static __always_inline int setid_enter(struct trace_event_raw_sys_enter *ctx, __u32 type, int nargs, int gid)
{
	check_escalation(ctx->id);
	if (!should_trace_any(type, VE_CRED_ROOT))
		return 0;
	struct known_cred old;
	current_ids(&old, gid);
	struct known_cred olduid;
	current_ids(&olduid, 0);
	/* aux: the old real/effective ids of the call's kind, then the old uid/euid for 604 */
	stash_args_aux(type, ctx, nargs, ((__u64)old.uid << 32) | old.euid);
	struct inflight *in = inflight_slot(false);
	if (in) {
		in->args[4] = olduid.uid;
		in->args[5] = olduid.euid;
	}
	return 0;
}

static __always_inline int setid_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int nargs, int gid)
{
	struct inflight in;
	if (!take_args(type, &in))
		return 0;
	struct known_cred now;
	current_ids(&now, gid);
	struct known_cred nowuid;
	current_ids(&nowuid, 0);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (ctx->ret == 0)
		remember(tgid, nowuid.uid, nowuid.euid);
	if (is_enabled(type)) {
		struct vigil_setid *ev = record_begin(type, sizeof(*ev));
		if (!ev)
			return 0;
		ev->res = ctx->ret;
		ev->id0 = in.args[0];
		ev->id1 = nargs > 1 ? (__s32)in.args[1] : -1;
		ev->id2 = nargs > 2 ? (__s32)in.args[2] : -1;
		ev->old_id = in.aux >> 32;
		ev->old_eid = (__u32)in.aux;
		ev->new_id = now.uid;
		ev->new_eid = now.euid;
		ev->pad = 0;
		record_submit(ev);
	}
	__u32 old_uid = in.args[4], old_euid = in.args[5];
	if (!gid && ctx->ret == 0 && is_enabled(VE_CRED_ROOT) &&
	    ((old_uid != 0 && nowuid.uid == 0) || (old_euid != 0 && nowuid.euid == 0))) {
		struct vigil_cred_root *ev = record_begin(VE_CRED_ROOT, sizeof(*ev));
		if (!ev)
			return 0;
		ev->res = ctx->ret;
		ev->old_uid = old_uid;
		ev->old_euid = old_euid;
		ev->nr = in.nr;
		ev->pad = 0;
		record_submit(ev);
	}
	return 0;
}

/* set*id calls take at most 3 arguments; the stash's args[4..5] carry the old uid/euid. */
SYS_ENTER(setuid, vigil_setuid_enter) { return setid_enter(ctx, VE_SETUID, 1, 0); }
SYS_ENTER(setreuid, vigil_setreuid_enter) { return setid_enter(ctx, VE_SETREUID, 2, 0); }
SYS_ENTER(setresuid, vigil_setresuid_enter) { return setid_enter(ctx, VE_SETRESUID, 3, 0); }
SYS_ENTER(setgid, vigil_setgid_enter) { return setid_enter(ctx, VE_SETGID, 1, 1); }
SYS_ENTER(setregid, vigil_setregid_enter) { return setid_enter(ctx, VE_SETREGID, 2, 1); }
SYS_ENTER(setresgid, vigil_setresgid_enter) { return setid_enter(ctx, VE_SETRESGID, 3, 1); }
SYS_EXIT(setuid, vigil_setuid_exit) { return setid_exit(ctx, VE_SETUID, 1, 0); }
SYS_EXIT(setreuid, vigil_setreuid_exit) { return setid_exit(ctx, VE_SETREUID, 2, 0); }
SYS_EXIT(setresuid, vigil_setresuid_exit) { return setid_exit(ctx, VE_SETRESUID, 3, 0); }
SYS_EXIT(setgid, vigil_setgid_exit) { return setid_exit(ctx, VE_SETGID, 1, 1); }
SYS_EXIT(setregid, vigil_setregid_exit) { return setid_exit(ctx, VE_SETREGID, 2, 1); }
SYS_EXIT(setresgid, vigil_setresgid_exit) { return setid_exit(ctx, VE_SETRESGID, 3, 1); }

/* ---- exec: setuid programs (604), escalation check before, new record after (611) ---- */

SYS_ENTER(execve, vigil_cred_execve_enter)
{
	check_escalation(NR_execve);
	if (!is_enabled(VE_CRED_ROOT) && !is_enabled(VE_PRIV_ESC))
		return 0;
	struct known_cred k;
	current_ids(&k, 0);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&exec_cred, &tid, &k, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int vigil_cred_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	if (!is_enabled(VE_CRED_ROOT) && !is_enabled(VE_PRIV_ESC))
		return 0;
	__u32 old_tid = ctx->old_pid;
	struct known_cred *before = bpf_map_lookup_elem(&exec_cred, &old_tid);
	struct known_cred now;
	current_ids(&now, 0);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	remember(tgid, now.uid, now.euid);
	if (!before)
		return 0;
	struct known_cred old = *before;
	bpf_map_delete_elem(&exec_cred, &old_tid);
	if (!((old.uid != 0 && now.uid == 0) || (old.euid != 0 && now.euid == 0)))
		return 0;
	if (!should_trace(VE_CRED_ROOT))
		return 0;
	struct vigil_cred_root *ev = record_begin(VE_CRED_ROOT, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = 0;
	ev->old_uid = old.uid;
	ev->old_euid = old.euid;
	ev->nr = NR_execve;
	ev->pad = 0;
	record_submit(ev);
	return 0;
}

/* ---- fork: a child starts with its parent's credentials ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vigil_cred_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!is_enabled(VE_PRIV_ESC))
		return 0;
	if (child->pid != child->tgid)
		return 0; /* a thread shares its process's record */
	const struct cred *c = child->cred;
	remember(child->tgid, c->uid.val, c->euid.val);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
