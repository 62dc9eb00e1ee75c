/* Per-thread credential state of the user family (bpf/cred.bpf.c): what each thread last
 * obtained through a path the agent watches (fork, exec, set*uid), the ids it had when it
 * entered execve (for 604), and the cheap reads both need. Credentials are per thread in the
 * kernel (a raw setuid syscall changes only the caller), so the state is task storage:
 * found through the task itself, freed with it, no hashing and no capacity to run out of.
 * test/collector/user.test.ts (forgeState) writes struct cred_state from user space. */
#ifndef VIGIL_CRED_STATE_H
#define VIGIL_CRED_STATE_H

#include "common.h"

/* arch/x86/include/asm/thread_info.h: thread_info.status while a 32-bit (int 0x80, i386)
 * syscall runs. syscalls tracepoints never fire for those (ARCH_TRACE_IGNORE_COMPAT_SYSCALLS);
 * raw sys_enter/sys_exit do. */
#define VIGIL_TS_COMPAT 0x0002

struct cred_state {
	__u32 uid;       /* the last uid/euid obtained legitimately (judged by 611) */
	__u32 euid;
	__u32 exec_uid;  /* uid/euid at execve entry, for 604 at sched_process_exec */
	__u32 exec_euid;
	__u32 exec_nr;   /* 59 or 322 while an exec is in flight, else 0 */
	__u32 known;     /* uid/euid hold a judged value (storage is created zeroed) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cred_state);
} cred_state SEC(".maps");

/* uid and euid: the pair every decision here is about. */
struct uid_pair {
	__u32 uid;
	__u32 euid;
};

/* The task's subjective credentials (task->cred), which every access check uses. At a
 * syscall boundary they equal the objective ones: the kernel reverts any override_creds()
 * before it returns. */
static __always_inline void uids_of(struct task_struct *t, struct uid_pair *p)
{
	const struct cred *c = t->cred;
	p->uid = c->uid.val;
	p->euid = c->euid.val;
}

static __always_inline void gids_of(struct task_struct *t, struct uid_pair *p)
{
	const struct cred *c = t->cred;
	p->uid = c->gid.val;
	p->euid = c->egid.val;
}

/* uid or euid went from non-zero to 0. */
static __always_inline bool raised_to_root(__u32 old_uid, __u32 old_euid, const struct uid_pair *now)
{
	return (now->uid == 0 && old_uid != 0) || (now->euid == 0 && old_euid != 0);
}

static __always_inline bool in_compat_syscall(struct task_struct *t)
{
	return t->thread_info.status & VIGIL_TS_COMPAT;
}

/* The thread's state for judging, or NULL when the thread had none: then it starts now,
 * holding `now` (a thread that existed before the agent is judged from its first sighting). */
static __always_inline struct cred_state *judged_state(struct task_struct *t, const struct uid_pair *now)
{
	struct cred_state *s = bpf_task_storage_get(&cred_state, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return NULL;
	if (s->known)
		return s;
	s->uid = now->uid;
	s->euid = now->euid;
	s->known = 1;
	return NULL;
}

/* Record what the thread legitimately holds now. */
static __always_inline void learn(struct cred_state *s, const struct uid_pair *now)
{
	s->uid = now->uid;
	s->euid = now->euid;
	s->known = 1;
}

/* Syscalls that legitimately change uid/euid, by ABI: set*uid and exec. A raise to root at
 * the exit of one of these is the kernel granting what it was asked (the entry programs have
 * judged the state before the call). x32 numbers are the native ones with bit 30 set. */
static __always_inline bool changes_uids(long nr, bool compat)
{
	if (compat) /* i386: setuid, setreuid, setresuid (16-bit and 32-bit), execve, execveat */
		return nr == 23 || nr == 70 || nr == 164 || nr == 213 || nr == 203 || nr == 208 ||
		       nr == 11 || nr == 358;
	nr &= ~0x40000000L;
	return nr == 105 || nr == 113 || nr == 117 || nr == 59 || nr == 322;
}

#endif
