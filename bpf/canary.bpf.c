/* The canary: fires only on lseek(-1, seq, VIGIL_CANARY_WHENCE), a call that fails with EBADF
 * and that nothing else makes. It proves kernel → ring → decoder → output in one test and is
 * the agent's own health check, so unlike every other program it does not skip the agent; the
 * exe allow list and rate limit apply as everywhere (which lets tests exercise them). */
#include "lib/common.h"

SEC("tracepoint/syscalls/sys_enter_lseek")
int vigil_canary(struct trace_event_raw_sys_enter *ctx)
{
	if ((int)ctx->args[0] != -1 || ctx->args[2] != VIGIL_CANARY_WHENCE)
		return 0;
	if (!is_enabled(VE_CANARY))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!pass_exe_filters(VE_CANARY, task))
		return 0;
	struct vigil_canary *ev = record_begin_t(VE_CANARY, sizeof(*ev), task);
	if (!ev)
		return 0;
	ev->seq = ctx->args[1];
	record_submit(ev);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
