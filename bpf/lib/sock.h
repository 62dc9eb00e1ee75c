/* Sockets: a user sockaddr → struct vigil_sockaddr, and the two ends of a struct sock. */
#ifndef VIGIL_SOCK_H
#define VIGIL_SOCK_H

#include "path.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFIFO 0010000

static __always_inline __u16 swap16(__u16 v)
{
	return (v >> 8) | (v << 8);
}

/* Read a user sockaddr (sockaddr_in / sockaddr_in6 / sockaddr_un prefix). */
static __always_inline void read_user_sockaddr(struct vigil_sockaddr *out, const void *uaddr)
{
	__builtin_memset(out, 0, sizeof(*out));
	if (!uaddr)
		return;
	__u16 fam = 0;
	bpf_probe_read_user(&fam, sizeof(fam), uaddr);
	out->family = fam;
	if (fam == AF_INET) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		out->port = swap16(sin.sin_port);
		__builtin_memcpy(out->addr, &sin.sin_addr, 4);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		out->port = swap16(sin6.sin6_port);
		__builtin_memcpy(out->addr, &sin6.sin6_addr, 16);
	} else if (fam == AF_UNIX) {
		bpf_probe_read_user(out->addr, sizeof(out->addr), uaddr + 2);
	}
}

static __always_inline struct sock *file_sock(struct file *f)
{
	if (!f)
		return NULL;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(sock, sk);
}

/* The local and remote ends of an inet socket. */
static __always_inline void sock_ends(struct sock *sk, struct vigil_sockaddr *local, struct vigil_sockaddr *remote)
{
	__builtin_memset(local, 0, sizeof(*local));
	__builtin_memset(remote, 0, sizeof(*remote));
	if (!sk)
		return;
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	local->family = remote->family = fam;
	local->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	remote->port = swap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (fam == AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 b = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(local->addr, &a, 4);
		__builtin_memcpy(remote->addr, &b, 4);
	} else if (fam == AF_INET6) {
		BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

#endif
