// Event specifications of the network family. Mirror of bpf/events/net.h (offsets are checked
// against the object's BTF by test/collector/btf-layout.test.ts).
import type { EventSpec } from "./types.ts";
import { fld, RES, sockFields, progs } from "./common.ts";

const conn = [RES, fld("fd", 160, "i32"), ...sockFields(168, "remote", 192, "local")];
const msg = [RES, fld("len", 160, "u64"), fld("fd", 168, "i32"), ...sockFields(176, "remote", 200, "local")];

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
    labels.push(new TextDecoder().decode(b.subarray(i + 1, i + 1 + n)));
    i += 1 + n;
  }
  const qtype = i + 2 <= b.length ? (b[i] << 8) | b[i + 1] : 0;
  return { name: labels.join("."), qtype };
}

export const networkEvents: EventSpec[] = [
  {
    name: "connect", dt: 42, family: "network", struct: "vigil_conn", size: 216, defaultOn: true,
    programs: progs("connect"), fields: conn,
    summary: "connect (dip/dport as requested, sip/sport the socket's local end)",
  },
  {
    name: "accept", dt: 43, family: "network", struct: "vigil_conn", size: 216, defaultOn: true,
    programs: progs("accept", "accept4"), fields: conn,
    summary: "accept, accept4 (res = the new fd)",
  },
  {
    name: "bind", dt: 49, family: "network", struct: "vigil_bind", size: 192, defaultOn: true,
    programs: progs("bind"),
    fields: [RES, fld("fd", 160, "i32"), fld("sa_family", 168, "sa_family", "local"), fld("sip", 168, "sa_ip", "local"), fld("sport", 168, "sa_port", "local")],
    summary: "bind",
  },
  {
    name: "sendto", dt: 44, family: "network", struct: "vigil_msg", size: 224, defaultOn: false,
    programs: progs("sendto", "sendmsg", "sendmmsg"), fields: msg,
    summary: "sendto, sendmsg, sendmmsg (high volume)",
  },
  {
    name: "recvfrom", dt: 45, family: "network", struct: "vigil_msg", size: 224, defaultOn: false,
    programs: progs("recvfrom", "recvmsg", "recvmmsg"), fields: msg,
    summary: "recvfrom, recvmsg, recvmmsg (high volume)",
  },
  {
    name: "getpeername", dt: 52, family: "network", struct: "vigil_conn", size: 216, defaultOn: true,
    programs: progs("getpeername"), fields: conn,
    summary: "getpeername",
  },
  {
    name: "socketpair", dt: 53, family: "network", struct: "vigil_socketpair", size: 176, defaultOn: true,
    programs: progs("socketpair"),
    fields: [RES, fld("domain", 160, "i32"), fld("type", 164, "i32"), fld("fd0", 168, "i32"), fld("fd1", 172, "i32")],
    summary: "socketpair",
  },
  {
    name: "dns", dt: 601, family: "network", struct: "vigil_dns", size: 224, defaultOn: true,
    programs: progs("recvfrom", "recvmsg", "recvmmsg"),
    fields: [
      RES, ...sockFields(160, "remote", 184, "local"),
      fld("opcode", 208, "u16"), fld("rcode", 210, "u16"), fld("flags", 212, "u16"), fld("query", 216, "str"),
    ],
    derive(rec, f) {
      const off = rec.getUint16(216, true);
      const len = rec.getUint16(218, true);
      const q = off + len <= rec.byteLength ? parseDnsQuestion(new Uint8Array(rec.buffer, rec.byteOffset + off, len)) : { name: "", qtype: 0 };
      f.query = q.name;
      f.qtype = String(q.qtype);
    },
    summary: "DNS answers received from port 53 over UDP: query, qtype, opcode, rcode",
  },
];
