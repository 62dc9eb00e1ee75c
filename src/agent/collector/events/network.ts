// Event specifications of the network family. Mirror of bpf/events/net.h (offsets are checked
// against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec, Derive } from "./types.ts";
import { exits, fld, hid, RES, sockFields, progs, rawStr, sharedExits } from "./common.ts";

/** bpf/net.bpf.c's one program for the struct vigil_conn events. */
const conn_ = (...sc: string[]) => sharedExits("vigil_conn_exit", ...sc);

const AF_UNIX = "1";
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** sun_path bytes → "/path", or "@name" for an abstract name (leading NUL), as ss prints them. */
export function unixName(b: Uint8Array): string {
  if (b.length === 0) return "";
  if (b[0] === 0) return "@" + latin1.decode(b.subarray(1)).replace(/\0+$/, "").replaceAll("\0", "@");
  const n = b.indexOf(0);
  return utf8.decode(n < 0 ? b : b.subarray(0, n));
}

/** AF_UNIX ends: the paths (struct vigil_str members at remoteOff / localOff) become dip / sip. */
function unixPaths(remoteOff: number | undefined, localOff: number): Derive {
  return (rec, f) => {
    if (f.sa_family === AF_UNIX) {
      if (remoteOff !== undefined) f.dip = unixName(rawStr(rec, remoteOff));
      f.sip = unixName(rawStr(rec, localOff));
    }
  };
}

// struct vigil_conn: res 152, fd 160, remote 168, local 192, remote_path 216, local_path 220
const conn = [
  RES, fld("fd", 160, "i32"), ...sockFields(168, "remote", 192, "local"),
  hid("remote_path", 216, "str"), hid("local_path", 220, "str"),
];
// struct vigil_msg: res 152, len 160, fd 168, vlen 172, remote 176, local 200, paths 224/228
const msg = [
  RES, fld("len", 160, "u64"), fld("fd", 168, "i32"), fld("vlen", 172, "u32"),
  ...sockFields(176, "remote", 200, "local"),
  hid("remote_path", 224, "str"), hid("local_path", 228, "str"),
];

/** The question section of a DNS message → dotted name and query type (bounded, never throws). */
export function parseDnsQuestion(b: Uint8Array): { name: string; qtype: number } {
  const labels: string[] = [];
  let i = 0;
  while (i < b.length && labels.length < 128) {
    const n = b[i];
    if (n === 0) {
      i++;
      break;
    }
    if (n > 63 || i + 1 + n > b.length) return { name: labels.join("."), qtype: 0 }; // compressed or cut
    labels.push(latin1.decode(b.subarray(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  const qtype = i + 2 <= b.length ? (b[i] << 8) | b[i + 1] : 0;
  return { name: labels.join("."), qtype };
}

export const networkEvents: EventSpec[] = [
  {
    name: "connect", dt: 42, family: "network", struct: "vigil_conn", size: 224, defaultOn: true,
    programs: conn_("connect"), fields: conn, derive: unixPaths(216, 220),
    summary: "connect (dip/dport as requested, sip/sport the socket's local end; AF_UNIX path in dip)",
  },
  {
    name: "accept", dt: 43, family: "network", struct: "vigil_conn", size: 224, defaultOn: true,
    programs: conn_("accept", "accept4"), fields: conn, derive: unixPaths(216, 220),
    summary: "accept, accept4 (res = the new fd; dip/dport the peer, sip/sport the local end)",
  },
  {
    name: "bind", dt: 49, family: "network", struct: "vigil_bind", size: 200, defaultOn: true,
    programs: exits("bind"),
    fields: [
      RES, fld("fd", 160, "i32"),
      fld("sa_family", 168, "sa_family", "local"), fld("sip", 168, "sa_ip", "local"), fld("sport", 168, "sa_port", "local"),
      fld("local_path", 192, "str"),
    ],
    derive: unixPaths(undefined, 192),
    summary: "bind (sip/sport as requested; AF_UNIX path in sip)",
  },
  {
    name: "sendto", dt: 44, family: "network", struct: "vigil_msg", size: 232, defaultOn: false,
    programs: progs("sendto", "sendmsg", "sendmmsg"), fields: msg, derive: unixPaths(224, 228),
    summary: "sendto, sendmsg, sendmmsg (high volume; dip/dport explicit or connected peer)",
  },
  {
    name: "recvfrom", dt: 45, family: "network", struct: "vigil_msg", size: 232, defaultOn: false,
    programs: progs("recvfrom", "recvmsg", "recvmmsg"), fields: msg, derive: unixPaths(224, 228),
    summary: "recvfrom, recvmsg, recvmmsg (high volume; dip/dport the sender or connected peer)",
  },
  {
    name: "getpeername", dt: 52, family: "network", struct: "vigil_conn", size: 224, defaultOn: true,
    programs: conn_("getpeername"), fields: conn, derive: unixPaths(216, 220),
    summary: "getpeername (dip/dport the address returned)",
  },
  {
    name: "socketpair", dt: 53, family: "network", struct: "vigil_socketpair", size: 176, defaultOn: true,
    programs: exits("socketpair"),
    fields: [RES, fld("domain", 160, "i32"), fld("type", 164, "i32"), fld("fd0", 168, "i32"), fld("fd1", 172, "i32")],
    summary: "socketpair",
  },
  {
    name: "dns", dt: 601, family: "network", struct: "vigil_dns", size: 224, defaultOn: true,
    // the recv* exits (arguments kept by the tp_btf program, not by the entries) and read/readv
    programs: ["vigil_dns_recv", "vigil_recvfrom_exit", "vigil_recvmsg_exit", "vigil_recvmmsg_exit"],
    fields: [
      RES, ...sockFields(160, "remote", 184, "local"),
      fld("opcode", 208, "u16"), fld("rcode", 210, "u16"), fld("flags", 212, "u16"), fld("query", 216, "str"),
      fld("fd", 220, "i32"),
    ],
    derive(rec, f) {
      const q = parseDnsQuestion(rawStr(rec, 216));
      f.query = q.name;
      f.qtype = String(q.qtype);
      f.qr = String(Number(f.flags) >> 15); // Elkeid's field; only answers (1) are reported
    },
    summary: "DNS answers received over UDP from port 53/5353 (recvfrom/recvmsg/recvmmsg, read/readv): query, qtype, opcode, rcode",
  },
];
