/* Memory and miscellaneous process events: mmap, mprotect(PROT_EXEC), pipe, memfd_create,
 * nanosleep, mount, kernel module load. Syscall tracepoints, except module loading on kernels
 * without module support (no init_module tracepoints): there the raw syscall hooks
 * (tp_btf/sys_enter, sys_exit) filtered by number see the attempt. */
#include "lib/file-path.h"
#include "lib/process-regs.h"

#define PROT_EXEC 4
#define MAP_ANONYMOUS 0x20
enum { NR_init_module = 175, NR_finit_module = 313, NR_pipe = 22, NR_clock_nanosleep = 230 };

/* ---- mmap 9 (off by default) ---- */
SYS_EXIT(mmap, vigil_mmap_exit)
{
	struct inflight in;
	if (!exit_args(VE_MMAP, ctx, &in))
		return 0;
	struct vigil_mmap *ev = record_begin(VE_MMAP, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->addr = in.args[0];
	ev->len = in.args[1];
	ev->prot = in.args[2];
	ev->flags = in.args[3];
	ev->fd = in.args[4];
	/* the kernel ignores fd for MAP_ANONYMOUS: so does the path */
	fpath_file(ev, &ev->file, in.args[3] & MAP_ANONYMOUS ? NULL : file_of_fd(in.args[4]));
	record_submit(ev);
	return 0;
}

/* ---- mprotect 10: only requests that make memory executable (Elkeid's filter) ---- */
struct vma_ctx {
	struct file *file;
};
static long vma_file(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	((struct vma_ctx *)data)->file = vma->vm_file;
	return 0;
}

SYS_EXIT(mprotect, vigil_mprotect_exit)
{
	struct inflight in;
	/* PROT_EXEC before the gate: the rate limit counts only calls that would be reported */
	regs_args(VE_MPROTECT, ctx, &in);
	if (!(in.args[2] & PROT_EXEC) || !should_trace(VE_MPROTECT))
		return 0;
	struct vigil_mprotect *ev = record_begin(VE_MPROTECT, sizeof(*ev));
	if (!ev)
		return 0;
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	ev->res = ctx->ret;
	ev->addr = in.args[0];
	ev->len = in.args[1];
	ev->prot = in.args[2];
	ev->owner_pid = 0;
	if (bpf_core_field_exists(mm->owner))
		ev->owner_pid = mm->owner->tgid;
	fpath_file(ev, &ev->owner_file, mm->exe_file);
	struct vma_ctx vc = { .file = NULL };
	bpf_find_vma(bpf_get_current_task_btf(), in.args[0], vma_file, &vc, 0);
	fpath_file(ev, &ev->vm_file, vc.file ? as_file(vc.file) : NULL);
	record_submit(ev);
	return 0;
}

/* ---- pipe 22 ---- */
static __always_inline int pipe_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct inflight in;
	if (!exit_args(VE_PIPE, ctx, &in))
		return 0;
	struct vigil_pipe *ev = record_begin(VE_PIPE, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	int fds[2] = { -1, -1 };
	if (ctx->ret == 0)
		bpf_probe_read_user(fds, sizeof(fds), (void *)in.args[0]);
	ev->fd0 = fds[0];
	ev->fd1 = fds[1];
	ev->flags = in.nr == NR_pipe ? 0 : in.args[1];
	ev->pad = 0;
	record_submit(ev);
	return 0;
}
SYS_EXIT(pipe, vigil_pipe_exit) { return pipe_exit(ctx); }
SYS_EXIT(pipe2, vigil_pipe2_exit) { return pipe_exit(ctx); }

/* ---- memfd_create 356: anonymous executable files are a favourite of fileless malware ---- */
SYS_EXIT(memfd_create, vigil_memfd_create_exit)
{
	struct inflight in;
	if (!exit_args(VE_MEMFD_CREATE, ctx, &in))
		return 0;
	struct vigil_memfd *ev = record_begin(VE_MEMFD_CREATE, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->flags = in.args[1];
	put_str(ev, &ev->fd_name, (void *)in.args[0], 256, 1);
	record_submit(ev);
	return 0;
}

/* ---- nanosleep 35 (off by default: sleep loops are everywhere) ---- */
static __always_inline int nanosleep_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct inflight in;
	if (!exit_args(VE_NANOSLEEP, ctx, &in))
		return 0;
	struct vigil_nanosleep *ev = record_begin(VE_NANOSLEEP, sizeof(*ev));
	if (!ev)
		return 0;
	struct { __s64 sec, nsec; } ts = {};
	bpf_probe_read_user(&ts, sizeof(ts), (void *)(in.nr == NR_clock_nanosleep ? in.args[2] : in.args[0]));
	ev->res = ctx->ret;
	ev->sec = ts.sec;
	ev->nsec = ts.nsec;
	record_submit(ev);
	return 0;
}
SYS_EXIT(nanosleep, vigil_nanosleep_exit) { return nanosleep_exit(ctx); }
SYS_EXIT(clock_nanosleep, vigil_clock_nanosleep_exit) { return nanosleep_exit(ctx); }

/* ---- mount 165 ---- */
SYS_EXIT(mount, vigil_mount_exit)
{
	struct inflight in;
	if (!exit_args(VE_MOUNT, ctx, &in))
		return 0;
	struct vigil_mount *ev = record_begin(VE_MOUNT, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->flags = in.args[3];
	ev->pad = 0;
	put_str(ev, &ev->dev, (void *)in.args[0], 256, 1);
	fpath_user_at(ev, &ev->file_path, bpf_get_current_task_btf(), AT_FDCWD, (const char *)in.args[1], NULL, NULL);
	put_str(ev, &ev->fstype, (void *)in.args[2], 64, 1);
	record_submit(ev);
	return 0;
}

/* ---- kernel module load 603 ----
 * With CONFIG_MODULES the syscalls have their own tracepoints (first pair); without, only the
 * raw syscall hooks see the attempt (second pair, filtered by number before anything else).
 * The loader attaches the first variant whose tracepoint exists. */
static __always_inline void module_emit(long ret, __u32 nr, __u64 a0)
{
	struct vigil_module *ev = record_begin(VE_MODULE_LOAD, sizeof(*ev));
	if (!ev)
		return;
	ev->res = ret;
	ev->nr = nr;
	ev->fd = nr == NR_finit_module ? (int)a0 : -1;
	if (nr == NR_finit_module)
		fpath_file(ev, &ev->ko_file, file_of_fd(a0));
	else
		ev->ko_file.off = ev->ko_file.len = 0;
	put_cwd_fast(ev, &ev->run_path);
	record_submit(ev);
}

STASH_ENTER(init_module, 3, VE_MODULE_LOAD, vigil_init_module_enter)
STASH_ENTER(finit_module, 3, VE_MODULE_LOAD, vigil_finit_module_enter)
static __always_inline int module_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct inflight in;
	if (take_args(VE_MODULE_LOAD, &in))
		module_emit(ctx->ret, in.nr, in.args[0]);
	return 0;
}
SYS_EXIT(init_module, vigil_init_module_exit) { return module_exit(ctx); }
SYS_EXIT(finit_module, vigil_finit_module_exit) { return module_exit(ctx); }

/* Without module tracepoints only the raw syscall hook sees the attempt, and it runs on every
 * syscall of the host: one exit-only program (arguments from the saved registers, which
 * init_module/finit_module leave untouched) that rejects other syscalls first costs about half
 * of an enter+exit pair. */
SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_module_raw_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	if (nr != NR_init_module && nr != NR_finit_module)
		return 0;
	if (!should_trace(VE_MODULE_LOAD))
		return 0;
	module_emit(ret, nr, regs->di);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
