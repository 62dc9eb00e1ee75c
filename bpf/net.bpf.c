/* Network family: connect, accept, bind, sendto/recvfrom (+msg/mmsg), getpeername, socketpair,
 * and DNS responses. Syscall tracepoints: the address the caller passed is read at entry or
 * exit from user memory, the socket's own ends from its struct sock at exit. */
#include "lib/sock.h"

#define IPPROTO_UDP 17
#define DNS_PORT 53
#define DNS_QUESTION_MAX 255

enum {
	NR_sendto = 44, NR_recvfrom = 45, NR_sendmsg = 46, NR_recvmsg = 47,
	NR_sendmmsg = 307, NR_recvmmsg = 299, NR_accept4 = 288,
};

static __always_inline struct sock *fd_sock(int fd)
{
	return file_sock(fd_file(fd));
}

/* ---- connect 42, getpeername 52 ---- */

/* The caller's address argument is the remote end: read at exit, where getpeername has
 * filled it (and where connect's is still as passed); the local end is the socket's own. */
static __always_inline int addr_arg_exit(struct trace_event_raw_sys_exit *ctx, __u32 type)
{
	struct inflight in;
	if (!take_args(type, &in))
		return 0;
	struct vigil_conn *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	struct vigil_sockaddr unused;
	sock_ends(fd_sock(in.args[0]), &ev->local, &unused);
	/* a failed getpeername leaves its buffer unwritten */
	read_user_sockaddr(&ev->remote, type == VE_GETPEERNAME && ctx->ret != 0 ? NULL : (void *)in.args[1]);
	record_submit(ev);
	return 0;
}

STASH_ENTER(connect, 3, VE_CONNECT, vigil_connect_enter)
SYS_EXIT(connect, vigil_connect_exit) { return addr_arg_exit(ctx, VE_CONNECT); }
STASH_ENTER(getpeername, 3, VE_GETPEERNAME, vigil_getpeername_enter)
SYS_EXIT(getpeername, vigil_getpeername_exit) { return addr_arg_exit(ctx, VE_GETPEERNAME); }

/* ---- accept 43: the new socket's two ends ---- */

STASH_ENTER(accept, 3, VE_ACCEPT, vigil_accept_enter)
STASH_ENTER(accept4, 4, VE_ACCEPT, vigil_accept4_enter)
static __always_inline int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct inflight in;
	if (!take_args(VE_ACCEPT, &in))
		return 0;
	struct vigil_conn *ev = record_begin(VE_ACCEPT, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	sock_ends(ctx->ret >= 0 ? fd_sock(ctx->ret) : fd_sock(in.args[0]), &ev->local, &ev->remote);
	record_submit(ev);
	return 0;
}
SYS_EXIT(accept, vigil_accept_exit) { return accept_exit(ctx); }
SYS_EXIT(accept4, vigil_accept4_exit) { return accept_exit(ctx); }

/* ---- bind 49 ---- */

STASH_ENTER(bind, 3, VE_BIND, vigil_bind_enter)
SYS_EXIT(bind, vigil_bind_exit)
{
	struct inflight in;
	if (!take_args(VE_BIND, &in))
		return 0;
	struct vigil_bind *ev = record_begin(VE_BIND, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	read_user_sockaddr(&ev->local, (void *)in.args[1]);
	record_submit(ev);
	return 0;
}

/* ---- socketpair 53 ---- */

STASH_ENTER(socketpair, 4, VE_SOCKETPAIR, vigil_socketpair_enter)
SYS_EXIT(socketpair, vigil_socketpair_exit)
{
	struct inflight in;
	if (!take_args(VE_SOCKETPAIR, &in))
		return 0;
	struct vigil_socketpair *ev = record_begin(VE_SOCKETPAIR, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->domain = in.args[0];
	ev->type = in.args[1];
	int fds[2] = { -1, -1 };
	if (ctx->ret == 0)
		bpf_probe_read_user(fds, sizeof(fds), (void *)in.args[3]);
	ev->fd0 = fds[0];
	ev->fd1 = fds[1];
	record_submit(ev);
	return 0;
}

/* ---- sendto 44 / recvfrom 45 (off by default) and DNS 601 ---- */

/* The explicit peer of a send/recv: sendto/recvfrom's addr, or the msghdr's msg_name. */
static __always_inline void *msg_peer(struct inflight *in)
{
	if (in->nr == NR_sendto || in->nr == NR_recvfrom)
		return (void *)in->args[4];
	struct user_msghdr *m = (struct user_msghdr *)in->args[1];
	void *name = NULL;
	bpf_probe_read_user(&name, sizeof(name), &m->msg_name);
	return name;
}

/* The first data buffer of a send/recv. */
static __always_inline void *msg_buf(struct inflight *in)
{
	if (in->nr == NR_sendto || in->nr == NR_recvfrom)
		return (void *)in->args[1];
	struct user_msghdr *m = (struct user_msghdr *)in->args[1];
	struct iovec *iov = NULL;
	void *base = NULL;
	bpf_probe_read_user(&iov, sizeof(iov), &m->msg_iov);
	if (iov)
		bpf_probe_read_user(&base, sizeof(base), &iov->iov_base);
	return base;
}

static __always_inline int msg_exit(struct trace_event_raw_sys_exit *ctx, __u32 type)
{
	struct inflight in;
	if (!take_args(type, &in))
		return 0;
	struct sock *sk = fd_sock(in.args[0]);
	struct vigil_sockaddr local, remote;
	sock_ends(sk, &local, &remote);
	void *peer = ctx->ret >= 0 ? msg_peer(&in) : NULL;
	if (peer)
		read_user_sockaddr(&remote, peer);

	if (type == VE_RECVFROM && is_enabled(VE_DNS) && ctx->ret >= 12 && remote.port == DNS_PORT &&
	    sk && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_UDP && in.nr != NR_recvmmsg) {
		void *buf = msg_buf(&in);
		__u8 h[4] = {};
		bpf_probe_read_user(h, sizeof(h), buf);
		struct vigil_dns *ev = record_begin(VE_DNS, sizeof(*ev));
		if (ev) {
			ev->res = ctx->ret;
			ev->remote = remote;
			ev->local = local;
			ev->flags = (h[2] << 8) | h[3];
			ev->opcode = (h[2] >> 3) & 0xf;
			ev->rcode = h[3] & 0xf;
			ev->pad = 0;
			ev->pad2 = 0;
			long n = ctx->ret - 12;
			if (n > DNS_QUESTION_MAX)
				n = DNS_QUESTION_MAX;
			put_bytes(ev, &ev->query, buf + 12, n, 1);
			record_submit(ev);
		}
	}
	if (!is_enabled(type))
		return 0;
	struct vigil_msg *ev = record_begin(type, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	ev->len = (in.nr == NR_sendto || in.nr == NR_recvfrom) ? in.args[2] : 0;
	ev->remote = remote;
	ev->local = local;
	record_submit(ev);
	return 0;
}

STASH_ENTER(sendto, 6, VE_SENDTO, vigil_sendto_enter)
STASH_ENTER(sendmsg, 3, VE_SENDTO, vigil_sendmsg_enter)
STASH_ENTER(sendmmsg, 4, VE_SENDTO, vigil_sendmmsg_enter)
SYS_EXIT(sendto, vigil_sendto_exit) { return msg_exit(ctx, VE_SENDTO); }
SYS_EXIT(sendmsg, vigil_sendmsg_exit) { return msg_exit(ctx, VE_SENDTO); }
SYS_EXIT(sendmmsg, vigil_sendmmsg_exit) { return msg_exit(ctx, VE_SENDTO); }

/* Receives feed both recvfrom (off by default) and DNS (on): when only DNS is wanted, only
 * UDP sockets are kept at entry, so TCP traffic costs one fd lookup. */
static __always_inline int recv_enter(struct trace_event_raw_sys_enter *ctx, int nargs)
{
	if (!should_trace_any(VE_RECVFROM, VE_DNS))
		return 0;
	if (!is_enabled(VE_RECVFROM)) {
		struct sock *sk = fd_sock(ctx->args[0]);
		if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
			return 0;
	}
	stash_args(VE_RECVFROM, ctx, nargs);
	return 0;
}
SYS_ENTER(recvfrom, vigil_recvfrom_enter) { return recv_enter(ctx, 6); }
SYS_ENTER(recvmsg, vigil_recvmsg_enter) { return recv_enter(ctx, 3); }
SYS_ENTER(recvmmsg, vigil_recvmmsg_enter) { return recv_enter(ctx, 5); }
SYS_EXIT(recvfrom, vigil_recvfrom_exit) { return msg_exit(ctx, VE_RECVFROM); }
SYS_EXIT(recvmsg, vigil_recvmsg_exit) { return msg_exit(ctx, VE_RECVFROM); }
SYS_EXIT(recvmmsg, vigil_recvmmsg_exit) { return msg_exit(ctx, VE_RECVFROM); }

char LICENSE[] SEC("license") = "GPL";
