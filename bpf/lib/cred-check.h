/* The 611 checkpoint (privilege escalation): judge a thread's credentials against its
 * state (lib/cred-state.h) and report root the kernel never granted through a watched path.
 * The user family (bpf/cred.bpf.c) calls it at fork, exec, set*id and exit; the file family's
 * open exits call it too (bpf/file.bpf.c), so an open costs one program, not two. */
#ifndef VIGIL_CRED_CHECK_H
#define VIGIL_CRED_CHECK_H

#include "cred-state.h"

/* Where a 611 was seen (struct vigil_priv_esc.where; names in events/user.ts). */
enum { SEEN_SYS_EXIT = 0, SEEN_EXECVE = 1, SEEN_SETID = 2, SEEN_FORK = 3, SEEN_OPEN = 4, SEEN_EXIT = 5 };

static __always_inline void read_creds(const struct cred *c, struct vigil_creds *out)
{
	out->id[0] = c->uid.val;
	out->id[1] = c->euid.val;
	out->id[2] = c->suid.val;
	out->id[3] = c->fsuid.val;
	out->id[4] = c->gid.val;
	out->id[5] = c->egid.val;
	out->id[6] = c->sgid.val;
	out->id[7] = c->fsgid.val;
}

/* 611 for thread t, whose state s does not account for the root it holds. */
static __always_inline void report_escalation(struct task_struct *t, struct cred_state *s, long nr,
					      __u8 where, bool compat)
{
	if (!should_trace(VE_PRIV_ESC))
		return;
	struct vigil_priv_esc *ev = record_begin(VE_PRIV_ESC, sizeof(*ev));
	if (!ev)
		return;
	struct task_struct *parent = t->real_parent;
	ev->p_pid = parent->tgid;
	ev->nr = nr;
	read_creds(parent->cred, &ev->p_cred);
	read_creds(t->cred, &ev->c_cred);
	ev->old_uid = s->uid;
	ev->old_euid = s->euid;
	ev->where = where;
	ev->compat = compat;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	record_submit(ev);
}

/* A 611 checkpoint: judge t's credentials against its state, then accept what it holds (a
 * drop is learned, and an escalation is reported once). A thread without state starts one
 * here (it existed before the agent), unless `fresh` is false (an exiting thread). */
static __always_inline void check_escalation_at(struct task_struct *t, long nr, __u8 where, bool fresh)
{
	if (!is_enabled(VE_PRIV_ESC))
		return;
	struct uid_pair now;
	uids_of(t, &now);
	struct cred_state *s = fresh ? judged_state(t, &now) : bpf_task_storage_get(&cred_state, t, 0, 0);
	if (!s || !s->known)
		return;
	if (raised_to_root(s->uid, s->euid, &now))
		report_escalation(t, s, nr, where, false);
	learn(s, &now);
}

static __always_inline void check_escalation(struct task_struct *t, long nr, __u8 where)
{
	check_escalation_at(t, nr, where, true);
}

#endif
