/* Event structs of the network family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/network.ts). Every struct starts with struct vigil_hdr hdr.
 * AF_UNIX addresses: sockaddr.family is 1 and the sun_path bytes are in the *_path string
 * (the sockaddr's addr keeps only their first 16 bytes); user space puts them in dip/sip. */
#pragma once

/* connect 42, accept 43, getpeername 52. remote = the peer (dip/dport), local = the
 * socket's own end (sip/sport). */
struct vigil_conn {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__u32 pad;
	struct vigil_sockaddr remote;
	struct vigil_sockaddr local;
	struct vigil_str remote_path;
	struct vigil_str local_path;
};

/* bind 49. */
struct vigil_bind {
	struct vigil_hdr hdr;
	__s64 res;
	__s32 fd;
	__u32 pad;
	struct vigil_sockaddr local;
	struct vigil_str local_path;
	__u32 pad2;
};

/* sendto 44 (sendto, sendmsg, sendmmsg), recvfrom 45 (recvfrom, recvmsg, recvmmsg). len is
 * the bytes asked for (the first message's, for the mmsg calls); vlen the messages passed. */
struct vigil_msg {
	struct vigil_hdr hdr;
	__s64 res;
	__u64 len;
	__s32 fd;
	__u32 vlen;
	struct vigil_sockaddr remote;
	struct vigil_sockaddr local;
	struct vigil_str remote_path;
	struct vigil_str local_path;
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

/* DNS 601: a DNS response (QR set) received on a UDP socket from port 53 (or 5353, as
 * Elkeid). query holds the raw question section (labels, type, class); user space turns it
 * into the dotted name and the query type. */
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
	__s32 fd;
};
