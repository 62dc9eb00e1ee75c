/* Network family: connect, accept, bind, sendto/recvfrom (+msg/mmsg), getpeername, socketpair,
 * and DNS answers. Syscall tracepoints, plus tp_btf/sock_recv_length for DNS (kprobes such as
 * Elkeid's on udp_recvmsg do not exist here). connect, accept, getpeername and socketpair are
 * exit-only (their arguments from the saved registers, lib/process-regs.h), and so is bind
 * (the caller's address read at exit); send* read the address a caller passes at entry,
 * recv* keep their buffers' addresses for the exit, and a socket's own ends come from its
 * struct sock at exit. */
#include "lib/net-msg.h"
#include "lib/process-regs.h"

#define IPPROTO_UDP 17
#define DNS_PORT 53
#define MDNS_PORT 5353
#define DNS_HEADER 12
#define DNS_QUESTION_MAX 260 /* a name (≤ 255 bytes in wire form) + type + class */

/* ---- connect 42 ----
 * sys_enter/exit_connect: every family. When an inet connect took its address (res 0 or
 * EINPROGRESS) the remote end is the socket's own peer, read with the local end at exit:
 * the address the kernel acted on, and no user-memory read (a bpf_probe_read_user costs
 * ~100 ns here). Any other outcome, and AF_UNIX (the path as the caller wrote it, not the
 * listener's bound name), reads the caller's sockaddr at exit. No entry program: the entry
 * once copied the address (~550 ns), then only kept the arguments (~250-500 ns), which the
 * exit now takes from the saved registers. Cannot see implicit connections (sendto on an
 * unconnected UDP socket: sendto 44). */
#define NET_EINPROGRESS 115
#define NR_connect 42
#define NR_accept 43
#define NR_getpeername 52
#define NR_accept4 288

/* ---- accept 43 ----
 * sys_exit_accept/accept4: the new socket's local end and its peer, both from the new socket
 * (the address the kernel writes to the caller's buffer is this peer; reading it back from
 * user memory cost two bpf_probe_read_user calls, ~100 ns each here, for the same bytes).
 * A failed accept reports the listening socket's local end.
 *
 * ---- getpeername 52 ----
 * sys_exit_getpeername: the address the kernel returned (at the length it returned; nothing
 * on failure) and the socket's local end.
 *
 * connect, accept, accept4 and getpeername fill one record (struct vigil_conn) from one
 * program attached to the four exits (the event from ctx->id): a server's accepts and a
 * client's connects keep one image warm instead of two cold ones (bpf/file.bpf.c's path
 * programs measured the same effect). */
SYS_EXIT(connect, vigil_conn_exit)
{
	__u32 nr = ctx->id;
	__u32 type = nr == NR_connect ? VE_CONNECT
		   : nr == NR_accept || nr == NR_accept4 ? VE_ACCEPT
		   : nr == NR_getpeername ? VE_GETPEERNAME : 0;
	struct inflight in;
	if (!type || !is_enabled(type))
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!exit_args_t(type, ctx, &in, task))
		return 0;
	struct vigil_conn *ev = record_begin_t(type, sizeof(*ev), task);
	if (!ev)
		return 0;
	long ret = ctx->ret;
	ev->res = ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	bool accepted = type == VE_ACCEPT && ret >= 0;
	struct sock *sk = net_task_fd_sock(task, accepted ? ret : (long)in.args[0]);
	net_sock_end(ev, sk, false, &ev->local, &ev->local_path);
	__u16 fam = ev->local.family;
	/* the remote end: the socket's own peer, the caller's sockaddr, or none */
	bool peer = accepted;
	const void *uaddr = NULL;
	long ulen = 0;
	if (type == VE_CONNECT) {
		peer = (ret == 0 || ret == -NET_EINPROGRESS) && (fam == NET_AF_INET || fam == NET_AF_INET6);
		uaddr = (const void *)in.args[1];
		ulen = (int)in.args[2];
	} else if (type == VE_GETPEERNAME && ret == 0 && in.args[2]) {
		int n = 0;
		bpf_probe_read_user(&n, sizeof(n), (void *)in.args[2]);
		uaddr = (const void *)in.args[1];
		ulen = n;
	}
	if (peer) {
		net_sock_end(ev, sk, true, &ev->remote, &ev->remote_path);
	} else if (ulen > 0) {
		net_put_user_addr(ev, &ev->remote, &ev->remote_path, uaddr, ulen);
	} else {
		__builtin_memset(&ev->remote, 0, sizeof(ev->remote));
		ev->remote.family = type == VE_CONNECT ? 0 : fam;
		ev->remote_path.off = ev->remote_path.len = 0;
	}
	record_submit(ev);
	return 0;
}

/* ---- bind 49 ----
 * sys_exit_bind: the requested address, read from the caller's buffer at exit (port 0 stays
 * 0: the port the kernel picks is visible at the next connect/accept/getsockname, not here).
 * No entry program: it copied the address into a second task-storage slot, and on a thread's
 * first bind both slots were allocated there (68 us per bind in the bench, which binds once
 * per process). Like connect's failure path, a buffer rewritten by another thread between the
 * call and its exit is read as rewritten. */
SYS_EXIT(bind, vigil_bind_exit)
{
	struct inflight in;
	if (!exit_args(VE_BIND, ctx, &in))
		return 0;
	struct vigil_bind *ev = record_begin(VE_BIND, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->fd = in.args[0];
	ev->pad = 0;
	ev->pad2 = 0;
	net_put_user_addr(ev, &ev->local, &ev->local_path, (void *)in.args[1], (int)in.args[2]);
	record_submit(ev);
	return 0;
}

/* ---- socketpair 53 ----
 * sys_exit_socketpair: domain, type and the two fds the kernel wrote (-1 on failure). */
SYS_EXIT(socketpair, vigil_socketpair_exit)
{
	struct inflight in;
	if (!exit_args(VE_SOCKETPAIR, ctx, &in))
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

/* ---- sendto 44 (off by default) ----
 * sys_enter/exit_sendto, sendmsg, sendmmsg: the explicit destination and the byte count are
 * read at entry (for sendmmsg: the first message's), the connected peer and the local end
 * from the socket at exit. write()/writev() on a socket are not seen (file family). */
static __always_inline void send_enter(struct trace_event_raw_sys_enter *ctx, int nargs, enum net_call call)
{
	if (!should_trace(VE_SENDTO))
		return;
	__u64 a1 = ctx->args[1], a2 = ctx->args[2];
	__u64 a4 = call == NET_CALL_PLAIN ? ctx->args[4] : 0, a5 = call == NET_CALL_PLAIN ? ctx->args[5] : 0;
	barrier_var(a1);
	barrier_var(a2);
	struct net_msg m;
	net_read_msg(&m, call, a1, a2, a4, a5, false);
	stash_args_aux(VE_SENDTO, ctx, nargs, m.len);
	net_stash_addr(m.namelen > 0 ? m.name : NULL, m.namelen);
}
SYS_ENTER(sendto, vigil_sendto_enter) { send_enter(ctx, 6, NET_CALL_PLAIN); return 0; }
SYS_ENTER(sendmsg, vigil_sendmsg_enter) { send_enter(ctx, 3, NET_CALL_MSG); return 0; }
SYS_ENTER(sendmmsg, vigil_sendmmsg_enter) { send_enter(ctx, 4, NET_CALL_MMSG); return 0; }

static __always_inline int send_exit(struct trace_event_raw_sys_exit *ctx, enum net_call call)
{
	struct inflight in;
	if (!take_args(VE_SENDTO, &in))
		return 0;
	struct vigil_msg *ev = record_begin(VE_SENDTO, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ctx->ret;
	ev->len = in.aux;
	ev->fd = in.args[0];
	ev->vlen = call == NET_CALL_MMSG ? in.args[2] : 1;
	struct sock *sk = net_fd_sock(in.args[0]);
	net_sock_end(ev, sk, false, &ev->local, &ev->local_path);
	net_put_stashed(ev, &ev->remote, &ev->remote_path);
	if (!ev->remote.family) /* no explicit destination: the connected peer */
		net_sock_end(ev, sk, true, &ev->remote, &ev->remote_path);
	record_submit(ev);
	return 0;
}
SYS_EXIT(sendto, vigil_sendto_exit) { return send_exit(ctx, NET_CALL_PLAIN); }
SYS_EXIT(sendmsg, vigil_sendmsg_exit) { return send_exit(ctx, NET_CALL_MSG); }
SYS_EXIT(sendmmsg, vigil_sendmmsg_exit) { return send_exit(ctx, NET_CALL_MMSG); }

/* ---- DNS 601 ----
 * Elkeid reads DNS answers in a kprobe on udp_recvmsg; here the same bytes are in the caller's
 * buffer once the receive has copied them: at the exit of recvfrom/recvmsg/recvmmsg (below), and
 * for read()/readv() on a connected socket at tp_btf/sock_recv_length (vigil_dns_recv). Both
 * run in the receiving process's context and see the answer (rcode is only in answers). Kept:
 * UDP answers (QR set) from port 53 or 5353, as Elkeid; the raw question goes to user space,
 * which decodes the name. Not seen: DNS over TCP, messages of a recvmmsg after the first,
 * io_uring receives. */
static __always_inline bool dns_port(__u16 port)
{
	return port == DNS_PORT || port == MDNS_PORT;
}

/* Report buf (n bytes received by a call that returned res on fd) if it is a DNS answer. */
static __always_inline void dns_emit(long res, int fd, struct vigil_sockaddr *remote, struct sock *sk,
				     void *buf, __u64 n)
{
	if (n < DNS_HEADER + 5) /* header, root name, type, class */
		return;
	__u8 h[4] = {};
	if (bpf_probe_read_user(h, sizeof(h), buf) || !(h[2] & 0x80)) /* QR: answers only */
		return;
	struct vigil_dns *ev = record_begin(VE_DNS, sizeof(*ev));
	if (!ev)
		return;
	ev->res = res;
	ev->remote = *remote;
	net_inet_end(sk, false, &ev->local);
	ev->flags = (h[2] << 8) | h[3];
	ev->opcode = (h[2] >> 3) & 0xf;
	ev->rcode = h[3] & 0xf;
	ev->pad = 0;
	ev->fd = fd;
	n -= DNS_HEADER;
	if (n > DNS_QUESTION_MAX)
		n = DNS_QUESTION_MAX;
	put_bytes(ev, &ev->query, buf + DNS_HEADER, n, 1);
	record_submit(ev);
}

/* From a recv* exit: the sender (explicit, or the connected peer) must be port 53/5353. */
static __always_inline void dns_report(struct trace_event_raw_sys_exit *ctx, struct inflight *in,
				       struct net_msg *m, struct sock *sk, bool explicit, enum net_call call)
{
	struct vigil_sockaddr remote;
	if (explicit)
		net_user_sa(&remote, m->name, m->namelen);
	else
		net_inet_end(sk, true, &remote);
	if (!dns_port(remote.port))
		return;
	__u64 n = call == NET_CALL_MMSG ? m->msg_len : ctx->ret;
	if (n > m->buflen)
		n = m->buflen;
	dns_emit(ctx->ret, in->args[0], &remote, sk, m->buf, n);
}

#define NR_read 0
#define NR_readv 19
#define NR_recvfrom 45
#define NR_recvmsg 47
#define NR_recvmmsg 299

/* What a recv* stash is for (inflight.aux): the recvfrom event (set at entry), and/or a DNS
 * answer (set by vigil_dns_recv once the socket qualified). */
#define RECV_FOR_EVENT 1
#define RECV_FOR_DNS 2

/* tp_btf/sock_recv_length: every socket receive (sock_recvmsg), in the reader's context after
 * the copy, with the socket and the byte count; only UDP sockets unconnected or connected to
 * port 53/5353 go further, so other traffic costs a few loads here (no syscall-entry program
 * runs for DNS). read()/readv() answers are reported here, their buffer taken from the
 * syscall's registers (Go's resolver reads its connected socket); for recvfrom/recvmsg/recvmmsg
 * the arguments are kept for the exit, where the sender's address has reached user memory. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(vigil_dns_recv, struct sock *sk, int ret, int flags)
{
	if (ret < DNS_HEADER + 5 || sk->sk_protocol != IPPROTO_UDP)
		return 0;
	__u16 dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	if (dport && !dns_port(dport))
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr = regs->orig_ax;
	bool read = nr == NR_read || nr == NR_readv;
	if (!(read && dport) && nr != NR_recvfrom && nr != NR_recvmsg && nr != NR_recvmmsg)
		return 0;
	if (!should_trace(VE_DNS))
		return 0;
	if (!read) {
		struct inflight *in = inflight_slot(true);
		if (!in)
			return 0;
		if (in->type == VE_RECVFROM) { /* already kept at entry for the recvfrom event */
			in->aux |= RECV_FOR_DNS;
			return 0;
		}
		in->type = VE_RECVFROM;
		in->nr = nr;
		in->aux = RECV_FOR_DNS;
		in->args[0] = regs->di;
		in->args[1] = regs->si;
		in->args[2] = regs->dx;
		in->args[3] = regs->r10;
		in->args[4] = regs->r8;
		in->args[5] = regs->r9;
		return 0;
	}
	void *buf = (void *)regs->si;
	__u64 len = regs->dx;
	if (nr == NR_readv) {
		struct iovec iov = {};
		bpf_probe_read_user(&iov, sizeof(iov), buf);
		buf = iov.iov_base;
		len = iov.iov_len;
	}
	struct vigil_sockaddr remote;
	net_inet_end(sk, true, &remote);
	dns_emit(ret, regs->di, &remote, sk, buf, (__u64)ret < len ? (__u64)ret : len);
	return 0;
}

/* ---- recvfrom 45 (off by default) and DNS 601 ----
 * sys_enter/exit_recvfrom, recvmsg, recvmmsg: the sender as the kernel returned it (or the
 * connected peer), the byte count asked for, the local end. The exits also serve DNS (with
 * arguments kept by vigil_dns_recv); read()/write() on sockets are not seen here. */
static __always_inline void recv_enter(struct trace_event_raw_sys_enter *ctx, int nargs)
{
	if (should_trace(VE_RECVFROM))
		stash_args_aux(VE_RECVFROM, ctx, nargs, RECV_FOR_EVENT);
}
SYS_ENTER(recvfrom, vigil_recvfrom_enter) { recv_enter(ctx, 6); return 0; }
SYS_ENTER(recvmsg, vigil_recvmsg_enter) { recv_enter(ctx, 3); return 0; }
SYS_ENTER(recvmmsg, vigil_recvmmsg_enter) { recv_enter(ctx, 5); return 0; }

static __always_inline int recv_exit(struct trace_event_raw_sys_exit *ctx, enum net_call call)
{
	struct inflight in;
	if (!take_args(VE_RECVFROM, &in))
		return 0;
	long ret = ctx->ret;
	struct sock *sk = net_fd_sock(in.args[0]);
	struct net_msg m;
	net_read_msg(&m, call, in.args[1], in.args[2], in.args[4], in.args[5], true);
	/* the sender's address, when the kernel wrote one (it returns length 0 for TCP) */
	bool explicit = ret >= 0 && m.name && m.namelen > 0;
	if ((in.aux & RECV_FOR_DNS) && ret > 0 && sk && is_enabled(VE_DNS))
		dns_report(ctx, &in, &m, sk, explicit, call);
	if (!(in.aux & RECV_FOR_EVENT) || !is_enabled(VE_RECVFROM))
		return 0;
	struct vigil_msg *ev = record_begin(VE_RECVFROM, sizeof(*ev));
	if (!ev)
		return 0;
	ev->res = ret;
	ev->len = m.len;
	ev->fd = in.args[0];
	ev->vlen = m.vlen;
	net_sock_end(ev, sk, false, &ev->local, &ev->local_path);
	if (explicit)
		net_put_user_addr(ev, &ev->remote, &ev->remote_path, m.name, m.namelen);
	else
		net_sock_end(ev, sk, true, &ev->remote, &ev->remote_path);
	record_submit(ev);
	return 0;
}
SYS_EXIT(recvfrom, vigil_recvfrom_exit) { return recv_exit(ctx, NET_CALL_PLAIN); }
SYS_EXIT(recvmsg, vigil_recvmsg_exit) { return recv_exit(ctx, NET_CALL_MSG); }
SYS_EXIT(recvmmsg, vigil_recvmmsg_exit) { return recv_exit(ctx, NET_CALL_MMSG); }

char LICENSE[] SEC("license") = "GPL";
