/* Network family: socket addresses. A user sockaddr (sockaddr_in, sockaddr_in6, sockaddr_un)
 * → struct vigil_sockaddr plus the AF_UNIX path in the record's tail, and fd → struct file →
 * struct socket → struct sock → its local or remote end. Kernel hops are direct BTF loads
 * through bpf_rdonly_cast pointers (fault-safe, no helper call per hop). Users: the network
 * family, and the process family's execve (the ends of a socket on stdin/stdout). */
#ifndef VIGIL_NET_SOCK_H
#define VIGIL_NET_SOCK_H

#include "common.h"

/* A typed, read-only view of a kernel pointer (bpf_rdonly_cast: lib/common.h). */
#define net_as(type, p) ((type *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(type)))

#define NET_AF_UNIX 1
#define NET_AF_INET 2
#define NET_AF_INET6 10
#define NET_UNIX_PATH 108 /* sizeof(sun_path) */
#define NET_S_IFMT 00170000
#define NET_S_IFSOCK 0140000

/* An address the caller passed, read at syscall entry (what the kernel acted on, not what the
 * buffer holds by the exit), kept per thread for the exit's record. */
struct net_addr {
	struct vigil_sockaddr sa;
	__u32 path_len; /* AF_UNIX: bytes of sun_path kept in path */
	__u32 pad;
	__u8 path[NET_UNIX_PATH + 4];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct net_addr);
} net_addr_stash SEC(".maps") __weak;

static __always_inline struct net_addr *net_addr_slot(bool create)
{
	return bpf_task_storage_get(&net_addr_stash, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Family, port and IP of a user sockaddr of ulen bytes (the length the caller gave or the
 * kernel returned). Lengths the kernel would refuse (shorter than the family's struct) leave
 * only the family. Returns the family. */
static __always_inline __u16 net_user_sa(struct vigil_sockaddr *sa, const void *uaddr, long ulen)
{
	__builtin_memset(sa, 0, sizeof(*sa));
	if (!uaddr || ulen < 2)
		return 0;
	/* sa_family, port and the IPv4 address (or sin6_flowinfo) in one read */
	struct { __u16 family; __u16 port; __u32 v4; } head = {};
	if (bpf_probe_read_user(&head, ulen >= 8 ? 8 : 2, uaddr))
		return 0;
	sa->family = head.family;
	if (head.family == NET_AF_INET && ulen >= 16) {
		sa->port = __builtin_bswap16(head.port);
		__builtin_memcpy(sa->addr, &head.v4, 4);
	} else if (head.family == NET_AF_INET6 && ulen >= 24) {
		sa->port = __builtin_bswap16(head.port);
		bpf_probe_read_user(sa->addr, 16, uaddr + 8);
	}
	return head.family;
}

/* The sun_path bytes of an AF_UNIX user sockaddr of ulen bytes (abstract names start with a
 * NUL; user space turns them into "@name"). */
static __always_inline long net_unix_path_len(long ulen)
{
	long n = ulen - 2;
	if (n <= 0)
		return 0;
	return n > NET_UNIX_PATH ? NET_UNIX_PATH : n;
}

static __always_inline void net_put_user_path(void *rec, struct vigil_str *s, const void *uaddr, long ulen)
{
	s->off = 0;
	s->len = 0;
	long n = net_unix_path_len(ulen);
	if (n > 0)
		put_bytes(rec, s, uaddr + 2, n, 1);
}

/* At entry: keep the address argument (uaddr, ulen) for the exit. */
static __always_inline void net_stash_addr(const void *uaddr, long ulen)
{
	struct net_addr *st = net_addr_slot(true);
	if (!st)
		return;
	st->path_len = 0;
	if (net_user_sa(&st->sa, uaddr, ulen) != NET_AF_UNIX)
		return;
	long n = net_unix_path_len(ulen);
	if (n > 0 && !bpf_probe_read_user(st->path, n & 127, uaddr + 2))
		st->path_len = n;
}

/* At exit: the address kept at entry into the record (an AF_UNIX path into its tail). */
static __always_inline void net_put_stashed(void *rec, struct vigil_sockaddr *sa, struct vigil_str *path)
{
	struct net_addr *st = net_addr_slot(false);
	path->off = 0;
	path->len = 0;
	if (!st) {
		__builtin_memset(sa, 0, sizeof(*sa));
		return;
	}
	*sa = st->sa;
	if (st->sa.family == NET_AF_UNIX && st->path_len)
		put_bytes(rec, path, st->path, st->path_len & 127, 0);
}

/* The struct sock of a socket file (the caller checked that f's inode is a socket). */
static __always_inline struct sock *net_file_sock(struct file *f)
{
	return net_as(struct socket, f->private_data)->sk;
}

/* fd of task (the current one) → its struct sock, or NULL when the fd is not a socket. */
static __always_inline struct sock *net_task_fd_sock(struct task_struct *task, long fd)
{
	void *fp = task_fd_file(task, fd);
	if (!fp)
		return NULL;
	struct file *f = net_as(struct file, fp);
	if ((f->f_inode->i_mode & NET_S_IFMT) != NET_S_IFSOCK)
		return NULL;
	return net_file_sock(f);
}

static __always_inline struct sock *net_fd_sock(long fd)
{
	return net_task_fd_sock(bpf_get_current_task_btf(), fd);
}

/* The bound path of an AF_UNIX socket (struct unix_address: len counts sun_family too). */
static __always_inline void net_put_unix_addr(void *rec, struct vigil_str *s, struct sock *sk)
{
	s->off = 0;
	s->len = 0;
	if (!sk)
		return;
	struct unix_address *a = net_as(struct unix_sock, sk)->addr;
	if (!a)
		return;
	long n = net_unix_path_len(a->len);
	if (n > 0)
		put_bytes(rec, s, (void *)a->name[0].sun_path, n, 0);
}

/* One inet end of a socket into *sa (remote = the connected peer, else the local end);
 * other families leave only sa->family. Returns the family. */
static __always_inline __u16 net_inet_end(struct sock *sk, bool remote, struct vigil_sockaddr *sa)
{
	__builtin_memset(sa, 0, sizeof(*sa));
	if (!sk)
		return 0;
	struct sock_common *c = &sk->__sk_common;
	__u16 fam = c->skc_family;
	sa->family = fam;
	if (fam == NET_AF_INET) {
		sa->port = remote ? __builtin_bswap16(c->skc_dport) : c->skc_num;
		__u32 ip = remote ? c->skc_daddr : c->skc_rcv_saddr;
		__builtin_memcpy(sa->addr, &ip, 4);
	} else if (fam == NET_AF_INET6) {
		sa->port = remote ? __builtin_bswap16(c->skc_dport) : c->skc_num;
		struct in6_addr *ip = remote ? &c->skc_v6_daddr : &c->skc_v6_rcv_saddr;
		__u32 *d = (__u32 *)sa->addr;
		d[0] = ip->in6_u.u6_addr32[0];
		d[1] = ip->in6_u.u6_addr32[1];
		d[2] = ip->in6_u.u6_addr32[2];
		d[3] = ip->in6_u.u6_addr32[3];
	}
	return fam;
}

/* One end of a socket of any family: AF_UNIX ends give their path (remote: the peer's). */
static __always_inline void net_sock_end(void *rec, struct sock *sk, bool remote,
					 struct vigil_sockaddr *sa, struct vigil_str *path)
{
	path->off = 0;
	path->len = 0;
	if (net_inet_end(sk, remote, sa) == NET_AF_UNIX)
		net_put_unix_addr(rec, path, remote ? net_as(struct unix_sock, sk)->peer : sk);
}

/* An address the kernel wrote to (or read from) user memory, straight into the record. */
static __always_inline void net_put_user_addr(void *rec, struct vigil_sockaddr *sa, struct vigil_str *path,
					      const void *uaddr, long ulen)
{
	path->off = 0;
	path->len = 0;
	if (net_user_sa(sa, uaddr, ulen) == NET_AF_UNIX)
		net_put_user_path(rec, path, uaddr, ulen);
}

#endif
