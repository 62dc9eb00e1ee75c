// Best-effort execve context read from /proc/<pid>: tty, stdin/stdout (and the socket peer
// when one of them is an inet socket), LD_PRELOAD and SSH_CONNECTION. Never throws; a process
// that is gone yields empty strings.
import { readFileSync, readlinkSync } from "node:fs";
import { endianness } from "node:os";

/** An inet socket as Elkeid reports it: sa_family "2" (AF_INET) or "10" (AF_INET6); s = local, d = peer. */
export interface SocketPeer {
  sa_family: string;
  sip: string;
  sport: string;
  dip: string;
  dport: string;
}

export interface ExecExtras extends SocketPeer {
  /** The controlling terminal as the kernel names it (tty->name: "pts3", "tty1", "ttyS0"), or "". */
  tty: string;
  /** readlink of fd 0 and 1 ("/dev/pts/3", "pipe:[123]", "socket:[456]"), or "". */
  stdin: string;
  stdout: string;
  ld_preload: string;
  /** SSH_CONNECTION: "client_ip client_port server_ip server_port". */
  ssh: string;
}

const NO_PEER: SocketPeer = Object.freeze({ sa_family: "", sip: "", sport: "", dip: "", dport: "" });
const AF_INET = 2;
const AF_INET6 = 10;
const LITTLE_ENDIAN = endianness() === "LE";

/** The tty name of a /proc/<pid>/stat tty_nr (a dev_t), the way the kernel names it; "" if none. */
export function ttyName(ttyNr: number): string {
  if (!(ttyNr > 0)) return "";
  const major = (ttyNr >>> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts${(major - 136) * 256 + minor}`; // UNIX98 slaves
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`; // consoles, 8250 serial
  if (major === 5 && minor === 1) return "console";
  if (major === 204 && minor >= 64) return `ttyAMA${minor - 64}`; // ARM PL011
  if (major === 229) return `hvc${minor}`; // hypervisor consoles
  return "";
}

/** A /proc/net address "0100007F:1F90" (host-order 32-bit words, hex port) → [ip, port]. */
export function procNetAddress(hex: string): [string, string] | undefined {
  const colon = hex.indexOf(":");
  const ipHex = hex.slice(0, colon);
  const port = parseInt(hex.slice(colon + 1), 16);
  if (colon < 0 || !Number.isInteger(port) || !/^(?:[0-9A-Fa-f]{8}){1,4}$/.test(ipHex)) return undefined;
  const b = new Uint8Array(ipHex.length / 2);
  for (let w = 0; w < ipHex.length / 8; w++) {
    const word = parseInt(ipHex.slice(w * 8, w * 8 + 8), 16);
    for (let i = 0; i < 4; i++) b[w * 4 + i] = LITTLE_ENDIAN ? (word >>> (8 * i)) & 0xff : (word >>> (24 - 8 * i)) & 0xff;
  }
  if (b.length === 4) return [`${b[0]}.${b[1]}.${b[2]}.${b[3]}`, String(port)];
  if (b.length === 16) return [ipv6String(b), String(port)];
  return undefined;
}

/**
 * IPv6 in RFC 5952 form (longest zero run compressed, ::ffff:a.b.c.d kept). Must agree with
 * ipString() in ../decode.ts, which formats the kernel's addresses for the same fields.
 */
function ipv6String(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[i] << 8) | b[i + 1]).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(":");
  return `${parts.slice(0, best).join(":")}::${parts.slice(best + bestLen).join(":")}`;
}

/** The socket with this inode in /proc/net/{tcp,udp}[6] text, or undefined. */
export function findSocketInTable(text: string, inode: string, family: number): SocketPeer | undefined {
  // Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
  for (let at = text.indexOf(` ${inode} `); at >= 0; at = text.indexOf(` ${inode} `, at + 1)) {
    const start = text.lastIndexOf("\n", at) + 1;
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const f = text.slice(start, end).trim().split(/\s+/);
    if (f[9] !== inode) continue; // the number was in another column
    const local = procNetAddress(f[1] ?? "");
    const remote = procNetAddress(f[2] ?? "");
    if (!local || !remote) return undefined;
    return { sa_family: String(family), sip: local[0], sport: local[1], dip: remote[0], dport: remote[1] };
  }
  return undefined;
}

const TABLES: ReadonlyArray<[string, number]> = [["tcp", AF_INET], ["tcp6", AF_INET6], ["udp", AF_INET], ["udp6", AF_INET6]];

/** The inet socket with this inode in pid's network namespace, or undefined (unix sockets too). */
export function findSocket(pid: number, inode: string, procRoot = "/proc"): SocketPeer | undefined {
  for (const [table, family] of TABLES) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/${pid}/net/${table}`, "latin1");
    } catch {
      continue; // IPv6 disabled, or the process is gone
    }
    const s = findSocketInTable(text, inode, family);
    if (s) return s;
  }
  return undefined;
}

/** The value of name in NUL-separated environ text, or "". */
export function envValue(environ: string, name: string): string {
  const key = `${name}=`;
  if (environ.startsWith(key)) return environ.slice(key.length, endOf(environ, key.length));
  const at = environ.indexOf(`\0${key}`);
  if (at < 0) return "";
  return environ.slice(at + 1 + key.length, endOf(environ, at + 1 + key.length));
}

function endOf(environ: string, from: number): number {
  const nul = environ.indexOf("\0", from);
  return nul < 0 ? environ.length : nul;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** Read the execve extras of process pid (best effort: "" for whatever cannot be read). */
export function execExtras(pid: number, opts: { procRoot?: string } = {}): ExecExtras {
  const root = opts.procRoot ?? "/proc";
  const dir = `${root}/${pid}`;
  if (!(pid > 0) || !Number.isInteger(pid)) return { tty: "", stdin: "", stdout: "", ld_preload: "", ssh: "", ...NO_PEER };
  const stat = readText(`${dir}/stat`);
  const close = stat.lastIndexOf(")");
  // After ") ": state ppid pgrp session tty_nr …
  const ttyNr = close < 0 ? 0 : Number(stat.slice(close + 2).split(" ")[4]);
  const stdin = readLink(`${dir}/fd/0`);
  const stdout = readLink(`${dir}/fd/1`);
  let peer: SocketPeer | undefined;
  for (const link of [stdin, stdout]) {
    const m = SOCKET_LINK.exec(link);
    if (m && (peer = findSocket(pid, m[1], root))) break;
  }
  const env = readText(`${dir}/environ`);
  return {
    tty: ttyName(ttyNr),
    stdin,
    stdout,
    ld_preload: envValue(env, "LD_PRELOAD"),
    ssh: envValue(env, "SSH_CONNECTION"),
    ...(peer ?? NO_PEER),
  };
}
