/* Event structs of the network family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/network.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once

/* connect 42, accept 43, getpeername 52. */
struct vigil_conn {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__u32 pad;
	struct vigil_sockaddr remote;
	struct vigil_sockaddr local;
};

/* bind 49. */
struct vigil_bind {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__u32 pad;
	struct vigil_sockaddr local;
};

/* sendto 44 (sendto, sendmsg, sendmmsg), recvfrom 45 (recvfrom, recvmsg, recvmmsg). */
struct vigil_msg {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 len;
	__s32 fd;
	__u32 pad;
	struct vigil_sockaddr remote;
	struct vigil_sockaddr local;
};

/* socketpair 53. */
struct vigil_socketpair {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 domain;
	__s32 type;
	__s32 fd0;
	__s32 fd1;
};

/* DNS 601: a DNS response received on a UDP socket from port 53. query holds the raw question
 * section (labels); user space turns it into the dotted name and the query type. */
struct vigil_dns {
	struct vigil_hdr hdr;
	__s64 res;
	struct vigil_sockaddr remote;
	struct vigil_sockaddr local;
	__u16 opcode;
	__u16 rcode;
	__u16 flags;
	__u16 pad;
	struct vigil_str query;
	__u32 pad2;
};
