/* Process family: execve, fork/clone, exit, setsid, prctl, kill/tkill, ptrace.
 * All on syscall tracepoints (entry keeps the arguments, exit has the result), except the
 * successful exec, which is read from sched_process_exec where the new image is complete. */
#include "lib/sock.h"

#define PR_SET_NAME 15

/* execve success: sched_process_exec fires once the new image is committed, so argv and the
 * exe file are the new ones, and it fires even when a multi-threaded caller's tid changed
 * (which would orphan the sys_enter stash). It cannot see failed execs: see the exits below. */
SEC("tracepoint/sched/sched_process_exec")
int vigil_execve_success(struct trace_event_raw_sched_process_exec *ctx)
{
	if (!should_trace(VE_EXECVE))
		return 0;
	struct vigil_execve *ev = record_begin(VE_EXECVE, sizeof(*ev));
	if (!ev)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	ev->res = 0;
	unsigned long as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
	__u32 len = ae > as ? ae - as : 0;
	if (len > MAX_ARGV)
		len = MAX_ARGV;
	put_bytes(ev, &ev->argv, (void *)as, len, 1);
	/* The environment is copied, not searched: a byte-by-byte scan for LD_PRELOAD= costs
	 * microseconds in BPF, a copy a fraction of one. */
	unsigned long es = BPF_CORE_READ(mm, env_start), ee = BPF_CORE_READ(mm, env_end);
	len = ee > es ? ee - es : 0;
	if (len > MAX_ARGV)
		len = MAX_ARGV;
	put_bytes(ev, &ev->env, (void *)es, len, 1);
	unsigned short loc = ctx->__data_loc_filename & 0xFFFF;
	put_str(ev, &ev->filename, (void *)ctx + loc, MAX_PATH, 0);
	put_file_path(ev, &ev->exe_path, BPF_CORE_READ(mm, exe_file));
	put_cwd(ev, &ev->run_path);
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (tty)
		put_str(ev, &ev->tty, __builtin_preserve_access_index(&tty->name), 64, 0);
	else
		ev->tty.off = ev->tty.len = 0;

	struct sock *sk = NULL;
	struct file *f = fd_file(0);
	umode_t mode = f ? BPF_CORE_READ(f, f_inode, i_mode) : 0;
	ev->stdin_type = (mode & S_IFMT) >> 12;
	ev->stdin_ino = f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
	ev->stdin_path.off = ev->stdin_path.len = 0;
	if ((mode & S_IFMT) == S_IFSOCK)
		sk = file_sock(f);
	else if (f && (mode & S_IFMT) != S_IFIFO)
		put_file_path(ev, &ev->stdin_path, f);
	f = fd_file(1);
	mode = f ? BPF_CORE_READ(f, f_inode, i_mode) : 0;
	ev->stdout_type = (mode & S_IFMT) >> 12;
	ev->stdout_ino = f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
	ev->stdout_path.off = ev->stdout_path.len = 0;
	if ((mode & S_IFMT) == S_IFSOCK) {
		if (!sk)
			sk = file_sock(f);
	} else if (f && (mode & S_IFMT) != S_IFIFO)
		put_file_path(ev, &ev->stdout_path, f);
	sock_ends(sk, &ev->local, &ev->peer);
	record_submit(ev);
	return 0;
}

/* execve failure: the exit of execve/execveat with ret < 0 (the old image is still there). */
STASH_ENTER(execve, 3, VE_EXECVE, vigil_execve_enter)
STASH_ENTER(execveat, 5, VE_EXECVE, vigil_execveat_enter)

static __always_inline int execve_failed(struct trace_event_raw_sys_exit *ctx, int at)
{
	struct inflight in;
	if (!take_args(VE_EXECVE, &in) || ctx->ret >= 0)
		return 0;
	struct vigil_execve *ev = record_begin(VE_EXECVE, sizeof(*ev));
	if (!ev)
		return 0;
	__builtin_memset((void *)ev + sizeof(struct vigil_hdr), 0, sizeof(*ev) - sizeof(struct vigil_hdr));
	ev->res = ctx->ret;
	const char *path = (const char *)in.args[at ? 1 : 0];
	put_str(ev, &ev->filename, path, MAX_PATH, 1);
	put_cwd(ev, &ev->run_path);
	record_submit(ev);
	return 0;
}

SYS_EXIT(execve, vigil_execve_exit) { return execve_failed(ctx, 0); }
SYS_EXIT(execveat, vigil_execveat_exit) { return execve_failed(ctx, 1); }

/* fork/vfork/clone/clone3: the parent's exit carries the child's pid. Thread creation is
 * clone with CLONE_THREAD (user space tells them apart by flags). */
STASH_ENTER(fork, 0, VE_FORK, vigil_fork_enter)
STASH_ENTER(vfork, 0, VE_FORK, vigil_vfork_enter)
STASH_ENTER(clone, 5, VE_CLONE, vigil_clone_enter)
STASH_ENTER(clone3, 2, VE_CLONE, vigil_clone3_enter)

static __always_inline int fork_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int kind)
{
	struct inflight in;
	if (!take_args(type, &in) || ctx->ret == 0)
		return 0;
	struct vigil_fork *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	if (kind == 0)
		ev->flags = 17; /* SIGCHLD */
	else if (kind == 1)
		ev->flags = 0x4000 | 0x100 | 17; /* CLONE_VFORK | CLONE_VM | SIGCHLD */
	else if (kind == 2)
		ev->flags = in.args[0];
	else {
		__u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (void *)in.args[0]);
		ev->flags = flags;
	}
	record_submit(ev);
	return 0;
}
SYS_EXIT(fork, vigil_fork_exit) { return fork_exit(ctx, VE_FORK, 0); }
SYS_EXIT(vfork, vigil_vfork_exit) { return fork_exit(ctx, VE_FORK, 1); }
SYS_EXIT(clone, vigil_clone_exit) { return fork_exit(ctx, VE_CLONE, 2); }
SYS_EXIT(clone3, vigil_clone3_exit) { return fork_exit(ctx, VE_CLONE, 3); }

/* exit/exit_group never return: reported at entry with the exit code. A process killed by a
 * signal makes neither call (sched_process_exit would see it; not an Elkeid event). */
static __always_inline int exit_enter(struct trace_event_raw_sys_enter *ctx, __u32 type)
{
	if (!should_trace(type))
		return 0;
	struct vigil_exit *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->code = (int)ctx->args[0];
	record_submit(ev);
	return 0;
}
SYS_ENTER(exit, vigil_exit_enter) { return exit_enter(ctx, VE_EXIT); }
SYS_ENTER(exit_group, vigil_exit_group_enter) { return exit_enter(ctx, VE_EXIT_GROUP); }

/* setsid: the new session id is the result. */
STASH_ENTER(setsid, 0, VE_SETSID, vigil_setsid_enter)
SYS_EXIT(setsid, vigil_setsid_exit)
{
	struct inflight in;
	if (!take_args(VE_SETSID, &in))
		return 0;
	struct vigil_res *ev = record_begin(VE_SETSID, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	record_submit(ev);
	return 0;
}

/* prctl(PR_SET_NAME): renaming a thread is a classic way to hide; other options are dropped at
 * entry, before anything is kept. */
SYS_ENTER(prctl, vigil_prctl_enter)
{
	if (ctx->args[0] == PR_SET_NAME && should_trace(VE_PRCTL))
		stash_args(VE_PRCTL, ctx, 2);
	return 0;
}
SYS_EXIT(prctl, vigil_prctl_exit)
{
	struct inflight in;
	if (!take_args(VE_PRCTL, &in))
		return 0;
	struct vigil_prctl *ev = record_begin(VE_PRCTL, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->option = in.args[0];
	put_str(ev, &ev->new_name, (void *)in.args[1], 16, 1);
	record_submit(ev);
	return 0;
}

/* kill / tkill / tgkill: signals to other processes. */
STASH_ENTER(kill, 2, VE_KILL, vigil_kill_enter)
STASH_ENTER(tkill, 2, VE_TKILL, vigil_tkill_enter)
STASH_ENTER(tgkill, 3, VE_TKILL, vigil_tgkill_enter)

static __always_inline int kill_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int tg)
{
	struct inflight in;
	if (!take_args(type, &in))
		return 0;
	struct vigil_kill *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->target_pid = tg ? in.args[1] : in.args[0];
	ev->sig = tg ? in.args[2] : in.args[1];
	record_submit(ev);
	return 0;
}
SYS_EXIT(kill, vigil_kill_exit) { return kill_exit(ctx, VE_KILL, 0); }
SYS_EXIT(tkill, vigil_tkill_exit) { return kill_exit(ctx, VE_TKILL, 0); }
SYS_EXIT(tgkill, vigil_tgkill_exit) { return kill_exit(ctx, VE_TKILL, 1); }

/* ptrace: every request (Elkeid reports only POKETEXT/POKEDATA; filter on ptrace_request). */
STASH_ENTER(ptrace, 4, VE_PTRACE, vigil_ptrace_enter)
SYS_EXIT(ptrace, vigil_ptrace_exit)
{
	struct inflight in;
	if (!take_args(VE_PTRACE, &in))
		return 0;
	struct vigil_ptrace *ev = record_begin(VE_PTRACE, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->request = in.args[0];
	ev->target_pid = in.args[1];
	ev->addr = in.args[2];
	ev->data = in.args[3];
	ev->pad = 0;
	record_submit(ev);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
