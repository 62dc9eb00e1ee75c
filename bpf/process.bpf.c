/* Process family: execve, fork/clone, exit, setsid, prctl, kill/tkill, ptrace.
 * Syscall exit tracepoints only (the result is there, the arguments are still in the caller's
 * registers: lib/process-regs.h), except exit/exit_group, which never return and are seen at
 * entry, and the successful exec, read from sched_process_exec where the new image is complete. */
#include "lib/net-sock.h"
#include "lib/process-path.h"
#include "lib/process-regs.h"

#define PR_SET_NAME 15
#define S_IFMT NET_S_IFMT
#define S_IFSOCK NET_S_IFSOCK
#define S_IFIFO 0010000

/* inode timestamps before 6.11 (i_mtime_sec/i_mtime_nsec): a timespec64, renamed in 6.7 */
struct inode___pre611 {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));
struct inode___pre67 {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_mtime_ns(struct inode *ino)
{
	if (bpf_core_field_exists(ino->i_mtime_sec))
		return (__u64)ino->i_mtime_sec * 1000000000ULL + ino->i_mtime_nsec;
	struct inode___pre611 *a = (void *)ino;
	if (bpf_core_field_exists(a->__i_mtime))
		return (__u64)BPF_CORE_READ(a, __i_mtime.tv_sec) * 1000000000ULL + BPF_CORE_READ(a, __i_mtime.tv_nsec);
	struct inode___pre67 *b = (void *)ino;
	return (__u64)BPF_CORE_READ(b, i_mtime.tv_sec) * 1000000000ULL + BPF_CORE_READ(b, i_mtime.tv_nsec);
}

/* The kernfs id of the task's cgroup in the memory controller's hierarchy, 0 without memcg. */
static __always_inline __u64 memcg_id_of(struct task_struct *task)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= 12)
		return 0;
	struct cgroup_subsys_state *css = task->cgroups->subsys[id];
	return css ? css->cgroup->kn->id : 0;
}

/* execve success: sched_process_exec fires once the new image is committed, so argv and the
 * exe file are the new ones, and it fires even when a multi-threaded caller's tid changed.
 * It cannot see failed execs: see the exits below. Everything is read by direct loads through
 * the BTF-typed task (one helper call per copy, none per pointer hop): it runs on every exec. */
SEC("tracepoint/sched/sched_process_exec")
int vigil_execve_success(struct trace_event_raw_sched_process_exec *ctx)
{
	if (!is_enabled(VE_EXECVE))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!gate_task(VE_EXECVE, task))
		return 0;
	struct vigil_execve *ev = record_begin_t(VE_EXECVE, sizeof(*ev), task);
	if (!ev)
		return 0;
	struct mm_struct *mm = task->mm;
	ev->res = 0;
	unsigned long as = mm->arg_start, ae = mm->arg_end;
	__u32 len = ae > as ? ae - as : 0;
	if (len > MAX_ARGV)
		len = MAX_ARGV;
	put_bytes(ev, &ev->argv, (void *)as, len, 1);
	/* The environment is copied, not searched: a byte-by-byte scan for LD_PRELOAD= costs
	 * microseconds in BPF, a copy a fraction of one. */
	unsigned long es = mm->env_start, ee = mm->env_end;
	len = ee > es ? ee - es : 0;
	if (len > MAX_ARGV)
		len = MAX_ARGV;
	put_bytes(ev, &ev->env, (void *)es, len, 1);
	unsigned short loc = ctx->__data_loc_filename & 0xFFFF;
	put_str(ev, &ev->filename, (void *)ctx + loc, MAX_PATH, 0);
	put_file_path_fast(ev, &ev->exe_path, mm->exe_file);
	put_task_cwd(ev, &ev->run_path, task);
	struct tty_struct *tty = task->signal->tty;
	if (tty)
		put_str(ev, &ev->tty, tty->name, 64, 0);
	else
		ev->tty.off = ev->tty.len = 0;

	/* fds 0 and 1: a socket gives its two ends (stdin's first), a pipe only its inode
	 * (user space prints pipe:[ino]), anything else its path. */
	struct sock *sk = NULL;
	struct fdtable *fdt = task->files->fdt;
	unsigned int nfd = fdt->max_fds;
	struct file **fds = fdt->fd;
	/* the fd array is untyped memory to the verifier: re-type the loaded pointers */
	struct file *f = nfd > 0 ? as_file(fds[0]) : NULL;
	umode_t mode = f ? f->f_inode->i_mode : 0;
	ev->stdin_type = (mode & S_IFMT) >> 12;
	ev->stdin_ino = f ? f->f_inode->i_ino : 0;
	ev->stdin_path.off = ev->stdin_path.len = 0;
	if ((mode & S_IFMT) == S_IFSOCK)
		sk = net_file_sock(f);
	else if (f && (mode & S_IFMT) != S_IFIFO)
		put_file_path_fast(ev, &ev->stdin_path, f);
	f = nfd > 1 ? as_file(fds[1]) : NULL;
	mode = f ? f->f_inode->i_mode : 0;
	ev->stdout_type = (mode & S_IFMT) >> 12;
	ev->stdout_ino = f ? f->f_inode->i_ino : 0;
	ev->stdout_path.off = ev->stdout_path.len = 0;
	if ((mode & S_IFMT) == S_IFSOCK) {
		if (!sk)
			sk = net_file_sock(f);
	} else if (f && (mode & S_IFMT) != S_IFIFO)
		put_file_path_fast(ev, &ev->stdout_path, f);
	net_inet_end(sk, false, &ev->local);
	net_inet_end(sk, true, &ev->peer);
	ev->memcg_id = memcg_id_of(task);
	struct inode *exe = mm->exe_file->f_inode;
	ev->exe_size = exe->i_size;
	ev->exe_mtime_ns = inode_mtime_ns(exe);
	record_submit(ev);
	return 0;
}

/* execve failure: the exit of execve/execveat with ret < 0 (the old image is still there).
 * Only the exit runs: the path argument is still in the caller's registers (process-regs.h). */
static __always_inline int execve_failed(struct trace_event_raw_sys_exit *ctx, int at)
{
	if (ctx->ret >= 0 || !should_trace(VE_EXECVE))
		return 0;
	struct sys_args in;
	sys_args_of_current(&in);
	struct vigil_execve *ev = record_begin(VE_EXECVE, sizeof(*ev));
	if (!ev)
		return 0;
	__builtin_memset((void *)ev + sizeof(struct vigil_hdr), 0, sizeof(*ev) - sizeof(struct vigil_hdr));
	ev->res = ctx->ret;
	const char *path = (const char *)in.a[at ? 1 : 0];
	put_str(ev, &ev->filename, path, MAX_PATH, 1);
	put_cwd_fast(ev, &ev->run_path);
	record_submit(ev);
	return 0;
}

SYS_EXIT(execve, vigil_execve_exit) { return execve_failed(ctx, 0); }
SYS_EXIT(execveat, vigil_execveat_exit) { return execve_failed(ctx, 1); }

/* fork/vfork/clone/clone3: the parent's exit carries the child's pid (the child's own return,
 * 0, is skipped). Thread creation is clone with CLONE_THREAD (user space tells them apart by
 * flags). Failures are reported too (res < 0). */
static __always_inline int fork_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int kind)
{
	if (ctx->ret == 0 || !should_trace(type))
		return 0;
	struct sys_args in;
	sys_args_of_current(&in);
	struct vigil_fork *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	if (kind == 0)
		ev->flags = 17; /* SIGCHLD */
	else if (kind == 1)
		ev->flags = 0x4000 | 0x100 | 17; /* CLONE_VFORK | CLONE_VM | SIGCHLD */
	else if (kind == 2)
		ev->flags = in.a[0];
	else {
		__u64 flags = 0; /* struct clone_args starts with the flags */
		bpf_probe_read_user(&flags, sizeof(flags), (void *)in.a[0]);
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
 * signal makes neither call (sched_process_exit would see it; not an Elkeid event). exit of a
 * thread ends the process when it is the only live one (signal->live is decremented later, in
 * do_exit); two last threads exiting at the same instant both see 2 and neither is marked. */
static __always_inline int exit_enter(struct trace_event_raw_sys_enter *ctx, __u32 type)
{
	if (!should_trace(type))
		return 0;
	struct vigil_exit *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->code = (int)ctx->args[0];
	ev->last_thread = type == VE_EXIT_GROUP || bpf_get_current_task_btf()->signal->live.counter == 1;
	ev->pad = 0;
	record_submit(ev);
	return 0;
}
SYS_ENTER(exit, vigil_exit_enter) { return exit_enter(ctx, VE_EXIT); }
SYS_ENTER(exit_group, vigil_exit_group_enter) { return exit_enter(ctx, VE_EXIT_GROUP); }

/* setsid: the new session id (or the error) is the result. */
SYS_EXIT(setsid, vigil_setsid_exit)
{
	if (!should_trace(VE_SETSID))
		return 0;
	struct vigil_res *ev = record_begin(VE_SETSID, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	record_submit(ev);
	return 0;
}

/* prctl(PR_SET_NAME): renaming a thread is a classic way to hide; every other option is
 * dropped by the first test. The new name is read back from the caller's buffer. */
SYS_EXIT(prctl, vigil_prctl_exit)
{
	struct sys_args in;
	sys_args_of_current(&in);
	if (in.a[0] != PR_SET_NAME || !should_trace(VE_PRCTL))
		return 0;
	struct vigil_prctl *ev = record_begin(VE_PRCTL, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->option = in.a[0];
	put_str(ev, &ev->new_name, (void *)in.a[1], 16, 1);
	record_submit(ev);
	return 0;
}

/* kill / tkill / tgkill: signals to other processes and threads. */
static __always_inline int kill_exit(struct trace_event_raw_sys_exit *ctx, __u32 type, int tg)
{
	if (!should_trace(type))
		return 0;
	struct sys_args in;
	sys_args_of_current(&in);
	struct vigil_kill *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->target_pid = tg ? in.a[1] : in.a[0];
	ev->sig = tg ? in.a[2] : in.a[1];
	record_submit(ev);
	return 0;
}
SYS_EXIT(kill, vigil_kill_exit) { return kill_exit(ctx, VE_KILL, 0); }
SYS_EXIT(tkill, vigil_tkill_exit) { return kill_exit(ctx, VE_TKILL, 0); }
SYS_EXIT(tgkill, vigil_tgkill_exit) { return kill_exit(ctx, VE_TKILL, 1); }

/* ptrace: every request (Elkeid reports only POKETEXT/POKEDATA; filter on ptrace_request). */
SYS_EXIT(ptrace, vigil_ptrace_exit)
{
	if (!should_trace(VE_PTRACE))
		return 0;
	struct sys_args in;
	sys_args_of_current(&in);
	struct vigil_ptrace *ev = record_begin(VE_PTRACE, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->request = in.a[0];
	ev->target_pid = in.a[1];
	ev->addr = in.a[2];
	ev->data = in.a[3];
	ev->pad = 0;
	record_submit(ev);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
