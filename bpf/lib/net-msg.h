/* Network family: the arguments of send/recv calls in one shape. sendto/recvfrom pass the
 * buffer and the address directly; sendmsg/recvmsg pass a struct user_msghdr; sendmmsg/
 * recvmmsg an array of struct mmsghdr (a user_msghdr plus the kernel-written msg_len), of
 * which only the first message is read. */
#ifndef VIGIL_NET_MSG_H
#define VIGIL_NET_MSG_H

#include "net-sock.h"

#define NET_MAX_IOV 8 /* iovecs summed for len */

enum net_call { NET_CALL_PLAIN, NET_CALL_MSG, NET_CALL_MMSG };

struct net_msg {
	void *name;     /* explicit peer address (NULL: none) */
	long namelen;   /* its length: as passed (send) or as the kernel returned it (recv) */
	void *buf;      /* first data buffer */
	__u64 buflen;   /* its length */
	__u64 len;      /* bytes asked for: len argument, or the first ≤ NET_MAX_IOV iovecs */
	__u32 vlen;     /* messages passed (mmsg), else 1 */
	__u32 msg_len;  /* mmsg: bytes moved in the first message (kernel-written at exit) */
};

/* Read a call's message arguments a1, a2, a4, a5 (syscall arguments 1, 2, 4, 5; plain values,
 * not a pointer into the tracepoint context, which the verifier only lets programs read at
 * constant offsets). addrlen_is_ptr: recvfrom's addrlen argument points to the length (written
 * back by the kernel), sendto's is the length itself. */
static __always_inline void net_read_msg(struct net_msg *m, enum net_call call, __u64 a1, __u64 a2,
					 __u64 a4, __u64 a5, bool addrlen_is_ptr)
{
	__builtin_memset(m, 0, sizeof(*m));
	m->vlen = 1;
	if (call == NET_CALL_PLAIN) {
		m->buf = (void *)a1;
		m->buflen = m->len = a2;
		m->name = (void *)a4;
		if (!m->name)
			return;
		if (!addrlen_is_ptr) {
			m->namelen = (int)a5;
		} else {
			int l = 0;
			if (a5)
				bpf_probe_read_user(&l, sizeof(l), (void *)a5);
			m->namelen = l;
		}
		return;
	}
	struct mmsghdr h = {};
	if (bpf_probe_read_user(&h, call == NET_CALL_MMSG ? sizeof(struct mmsghdr) : sizeof(struct user_msghdr),
				(void *)a1))
		return;
	if (call == NET_CALL_MMSG) {
		m->vlen = a2;
		m->msg_len = h.msg_len;
	}
	m->name = h.msg_hdr.msg_name;
	m->namelen = h.msg_hdr.msg_namelen;
	__u64 n = h.msg_hdr.msg_iovlen;
	if (!h.msg_hdr.msg_iov || n == 0)
		return;
	if (n > NET_MAX_IOV)
		n = NET_MAX_IOV;
	struct iovec iov[NET_MAX_IOV] = {};
	__u32 size = n * sizeof(struct iovec);
	barrier_var(size); /* keep the bound where the verifier sees it */
	if (size > sizeof(iov))
		size = sizeof(iov);
	if (bpf_probe_read_user(iov, size, h.msg_hdr.msg_iov))
		return;
	m->buf = iov[0].iov_base;
	m->buflen = iov[0].iov_len;
	for (int i = 0; i < NET_MAX_IOV; i++)
		if (i < n)
			m->len += iov[i].iov_len;
}

#endif
