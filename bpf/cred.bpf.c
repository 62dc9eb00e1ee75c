/* User/credentials family: set*id calls (105, 106, 113, 114, 117, 119), credentials raised to
 * root (604) and privilege escalation (611). Elkeid sees 604/611 in commit_creds kprobes; here
 * the same facts come from syscall tracepoints and sched_process_exec/fork/exit, plus an
 * optional sweep of every syscall exit (tp_btf/sys_exit, event priv_esc_sweep). The per-thread
 * state they share is in lib/cred-state.h. */
#include "lib/cred-check.h"

enum { NR_execve = 59, NR_execveat = 322 };

static __always_inline void emit_cred_root(__s64 res, __u32 old_uid, __u32 old_euid, __u32 nr)
{
	struct vigil_cred_root *ev = record_begin(VE_CRED_ROOT, sizeof(*ev));
	if (!ev)
		return;
	ev->res = res;
	ev->old_uid = old_uid;
	ev->old_euid = old_euid;
	ev->nr = nr;
	ev->pad = 0;
	record_submit(ev);
}

/* ---- set*id: syscall tracepoints (native 64-bit calls only; i386 ones are not traced) ---- */

/* Entry: judge the state before the call (611), keep the requested ids and the old real and
 * effective ids of the call's kind (aux: old << 32 | old effective) for the exit. */
static __always_inline int setid_enter(struct trace_event_raw_sys_enter *ctx, __u32 type, int nargs, int gid)
{
	struct task_struct *t = bpf_get_current_task_btf();
	check_escalation(t, ctx->id, SEEN_SETID);
	if (gid ? !should_trace(type) : !should_trace_any(type, VE_CRED_ROOT))
		return 0;
	struct uid_pair old;
	if (gid)
		gids_of(t, &old);
	else
		uids_of(t, &old);
	stash_args_aux(type, ctx, nargs, ((__u64)old.uid << 32) | old.euid);
	return 0;
}

/* Exit: a successful set*uid is a legitimate path to whatever it gave (611 state), the event
 * with the ids before and after, and 604 when uid or euid became 0. */
static __always_inline int setid_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int nargs, int gid)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct uid_pair now;
	if (gid) {
		gids_of(t, &now);
	} else {
		uids_of(t, &now);
		struct cred_state *s = bpf_task_storage_get(&cred_state, t, 0, 0);
		if (s && ctx->ret == 0)
			learn(s, &now);
	}
	struct inflight in;
	if (!take_args(type, &in))
		return 0;
	__u32 old_id = in.aux >> 32, old_eid = (__u32)in.aux;
	if (is_enabled(type)) {
		struct vigil_setid *ev = record_begin(type, sizeof(*ev));
		if (!ev)
			return 0;
		ev->res = ctx->ret;
		ev->id0 = in.args[0];
		ev->id1 = nargs > 1 ? (__s32)in.args[1] : -1;
		ev->id2 = nargs > 2 ? (__s32)in.args[2] : -1;
		ev->old_id = old_id;
		ev->old_eid = old_eid;
		ev->new_id = now.uid;
		ev->new_eid = now.euid;
		ev->pad = 0;
		record_submit(ev);
	}
	if (!gid && ctx->ret == 0 && is_enabled(VE_CRED_ROOT) && raised_to_root(old_id, old_eid, &now))
		emit_cred_root(ctx->ret, old_id, old_eid, in.nr);
	return 0;
}

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

/* ---- exec: setuid-root programs (604) ---- */

/* execve/execveat entry: judge the state (611) and keep the uid/euid the exec starts from.
 * The process family owns the execve event; these are the user family's own programs on the
 * same tracepoints. i386 execs are not traced here (sched_process_exec still learns them). */
static __always_inline int exec_enter(__u32 nr)
{
	struct task_struct *t = bpf_get_current_task_btf();
	check_escalation(t, nr, SEEN_EXECVE);
	if (!is_enabled(VE_CRED_ROOT))
		return 0;
	struct uid_pair now;
	uids_of(t, &now);
	struct cred_state *s = bpf_task_storage_get(&cred_state, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	if (!s->known)
		learn(s, &now);
	s->exec_uid = now.uid;
	s->exec_euid = now.euid;
	s->exec_nr = nr;
	return 0;
}

SYS_ENTER(execve, vigil_cred_execve_enter) { return exec_enter(NR_execve); }
SYS_ENTER(execveat, vigil_cred_execveat_enter) { return exec_enter(NR_execveat); }

/* sched_process_exec: the new credentials are committed (setuid bits and file capabilities
 * applied), and the task storage followed the thread even when a non-leader exec took over
 * the leader's pid. Compared with the entry: 604. Whatever exec gave is legitimate (611). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(vigil_cred_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct cred_state *s = bpf_task_storage_get(&cred_state, t, 0, 0);
	if (!s)
		return 0;
	struct uid_pair now;
	uids_of(t, &now);
	__u32 nr = s->exec_nr, old_uid = s->exec_uid, old_euid = s->exec_euid;
	s->exec_nr = 0;
	learn(s, &now);
	if (nr && raised_to_root(old_uid, old_euid, &now) && should_trace(VE_CRED_ROOT))
		emit_cred_root(0, old_uid, old_euid, nr);
	return 0;
}

/* ---- 611: fork, open and exit checkpoints, and the sys_exit sweep ---- */

/* sched_process_fork, for every new process and thread: the child starts with what the
 * parent holds, so that is its legitimate state; the parent is judged first, which catches
 * an exploit that spawns a shell (system(), posix_spawn) before the child inherits its root.
 * A parent in an i386 syscall is not judged (its set*uid calls are invisible here). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vigil_cred_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!is_enabled(VE_PRIV_ESC) || !child)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	if (!in_compat_syscall(t))
		check_escalation(t, ((struct pt_regs *)bpf_task_pt_regs(t))->orig_ax, SEEN_FORK);
	struct uid_pair now;
	uids_of(child, &now);
	struct cred_state *s = bpf_task_storage_get(&cred_state, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (s) {
		learn(s, &now);
		s->exec_nr = 0;
	}
	return 0;
}

/* sched_process_exit, once per thread: the last look at a thread that escalated and used
 * only descriptors it already had. Reported after the fact, but reported. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vigil_priv_esc_exit, struct task_struct *p, bool group_dead)
{
	struct task_struct *t = bpf_get_current_task_btf();
	if (!in_compat_syscall(t))
		check_escalation_at(t, ((struct pt_regs *)bpf_task_pt_regs(t))->orig_ax, SEEN_EXIT, false);
	return 0;
}

/* The sweep (event priv_esc_sweep, off by default: ~60 ns of program per run and +100-160 ns
 * of CPU per syscall measured on a getppid storm, +40-60%): every syscall exit of every thread, i386 ones too (unlike the syscalls
 * tracepoints), so an exploit is seen at the exit of the very syscall that swapped the
 * credentials, whatever the process does next. It needs no other program: set*uid and exec
 * exits are legitimate by number, and a thread first seen here starts its state. It cannot
 * see a kernel thread or a thread that never returns to user space. */
SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_priv_esc_sweep, struct pt_regs *regs, long ret)
{
	if (!is_enabled(VE_PRIV_ESC))
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct uid_pair now;
	uids_of(t, &now);
	struct cred_state *s = judged_state(t, &now);
	if (!s || (s->uid == now.uid && s->euid == now.euid))
		return 0;
	long nr = regs ? regs->orig_ax : -1;
	bool compat = in_compat_syscall(t);
	if (raised_to_root(s->uid, s->euid, &now) && !changes_uids(nr, compat))
		report_escalation(t, s, nr, SEEN_SYS_EXIT, compat);
	learn(s, &now);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
