/* A syscall's arguments at its sys_exit, without an entry program: the calling thread's saved
 * user registers (x86-64: di, si, dx, r10, r8, r9) still hold them there. trace_sys_exit runs
 * before ptrace's syscall-exit stop and before signal delivery, the only things that rewrite
 * them, and the syscalls read this way (execve*, fork/clone*, kill/tkill/tgkill, prctl, ptrace,
 * the file family's path and fd calls, mmap/mprotect/pipe/memfd_create/nanosleep/mount,
 * connect/accept/bind/getpeername/socketpair) do not modify their own registers. Compat
 * (32-bit) syscalls never reach the syscalls: tracepoints. Saves the entry program and the
 * per-thread stash (task storage: ~0.3-1.3 us on a thread's first use) on every call, which is
 * most of the cost of these events. */
#ifndef VIGIL_PROCESS_REGS_H
#define VIGIL_PROCESS_REGS_H

#include "common.h"

struct sys_args {
	__u64 a[6];
};

/* The current thread's (task's) syscall arguments; call only from sys_exit programs. */
static __always_inline void sys_args_of(struct task_struct *task, struct sys_args *out)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	out->a[0] = regs->di;
	out->a[1] = regs->si;
	out->a[2] = regs->dx;
	out->a[3] = regs->r10;
	out->a[4] = regs->r8;
	out->a[5] = regs->r9;
}

static __always_inline void sys_args_of_current(struct sys_args *out)
{
	sys_args_of(bpf_get_current_task_btf(), out);
}

/* An exit-only syscall event: the gate, then the arguments from the saved registers in the
 * shape take_args gives (nr from the tracepoint). Replaces an entry program that only stashed
 * the arguments: one program run, one dispatch and a task-storage round trip less per call. */
static __always_inline void regs_args_t(__u32 type, struct trace_event_raw_sys_exit *ctx, struct inflight *out,
					 struct task_struct *task)
{
	struct sys_args a;
	sys_args_of(task, &a);
	out->args[0] = a.a[0];
	out->args[1] = a.a[1];
	out->args[2] = a.a[2];
	out->args[3] = a.a[3];
	out->args[4] = a.a[4];
	out->args[5] = a.a[5];
	out->type = type;
	out->nr = ctx->id;
	out->aux = 0;
}

static __always_inline void regs_args(__u32 type, struct trace_event_raw_sys_exit *ctx, struct inflight *out)
{
	regs_args_t(type, ctx, out, bpf_get_current_task_btf());
}

/* exit_args after the caller's own is_enabled(type): the rest of the gate, then the arguments. */
static __always_inline bool exit_args_t(__u32 type, struct trace_event_raw_sys_exit *ctx, struct inflight *out,
					struct task_struct *task)
{
	if (!gate_task(type, task))
		return false;
	regs_args_t(type, ctx, out, task);
	return true;
}

static __always_inline bool exit_args(__u32 type, struct trace_event_raw_sys_exit *ctx, struct inflight *out)
{
	if (!is_enabled(type))
		return false;
	return exit_args_t(type, ctx, out, bpf_get_current_task_btf());
}

#endif
