// What the agent knows about live processes (parent, comm, exe, argv, start time), keyed by
// tgid: fed by exec/fork/exit events, filled from /proc once on a miss. Bounded (second-chance
// LRU); exited processes linger a few seconds so their late events still resolve.
import { closeSync, openSync, readFileSync, readSync, readlinkSync } from "node:fs";
import type { ContainerInfo } from "./container.ts";
import type { ExeIdentity } from "./exe-hash.ts";

export interface ProcInfo {
  tgid: number;
  ppid: number;
  comm: string;
  exe: string;
  /** argv joined by spaces, at most ARGV_MAX characters. */
  argv: string;
  /** When the process started, in ms since the Unix epoch. */
  startTime: number;
  /** Set on a cache hit, cleared when eviction passes the entry over (second chance). */
  used: boolean;
  /** "tgid.comm", this process's link in pid_tree strings (made once). */
  link?: string;
  // Memos kept by the Enricher (index.ts): an exec starts without them, a fork with its
  // parent's (same image, same cgroups).
  /** The exe resolved for header inode/device exeIno/exeDev, and its hash. */
  exeIno?: number;
  exeDev?: number;
  resolvedExe?: string;
  exeHash?: string;
  pidTree?: string;
  /** The container found for header cgroup id cgroupId. */
  cgroupId?: bigint;
  container?: ContainerInfo;
  /** What the exec event said of the image (exec events only): its kernel identity, which
   * keys the exe hash, and the memory-controller cgroup, which keys the container on v1. */
  image?: ExecImage;
}

export interface ExecImage {
  exe: ExeIdentity;
  memcgId: bigint;
}

export interface ProcessCacheOptions {
  /** Where procfs is mounted; tests may point at a fake tree. */
  procRoot?: string;
  /** Most processes kept (default 65536). */
  maxEntries?: number;
  /** How long an exited process stays resolvable, at least (default 5000 ms). */
  lingerMs?: number;
  /** Clock in ms (default Date.now); tests inject their own. */
  now?: () => number;
}

export interface ProcessCacheStats {
  /** Misses answered from /proc. */
  procReads: number;
  /** Misses for processes that were already gone. */
  procGone: number;
  /** Live entries dropped because the cache was full. */
  evictions: number;
}

export const ARGV_MAX = 4096;
export const PID_TREE_DEPTH = 12;
/** USER_HZ: the unit of /proc/<pid>/stat start times (100 on every Linux ABI Vigil runs on). */
const USER_HZ = 100;
/** Field index of starttime in /proc/<pid>/stat, counted after the ")" closing comm. */
const STAT_STARTTIME = 19;

export class ProcessCache {
  readonly stats: ProcessCacheStats = { procReads: 0, procGone: 0, evictions: 0 };
  private readonly map = new Map<number, ProcInfo>();
  /** tgid → sweep generation in which it exited (or, for `missing`, was found gone). */
  private readonly exited = new Map<number, number>();
  private readonly missing = new Map<number, number>();
  private generation = 0;
  private lastSweep: number;
  private bootMs = -1;
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly lingerMs: number;
  private readonly now: () => number;
  private readonly argvBuf = Buffer.allocUnsafe(ARGV_MAX);

  constructor(opts: ProcessCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.maxEntries = opts.maxEntries ?? 65536;
    this.lingerMs = opts.lingerMs ?? 5000;
    this.now = opts.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`process cache: maxEntries must be a positive integer, got ${opts.maxEntries}`);
    }
    if (!(this.lingerMs >= 0)) throw new RangeError(`process cache: lingerMs must be >= 0, got ${opts.lingerMs}`);
    this.lastSweep = this.now();
  }

  get size(): number {
    return this.map.size;
  }

  /** A successful execve: the process's new image. Replaces what was known about tgid. */
  onExec(tgid: number, ppid: number, exe: string, argv: string, comm: string): void {
    const old = this.map.get(tgid);
    const same = old !== undefined && !this.exited.has(tgid);
    this.put(tgid, {
      tgid, ppid, comm, exe,
      argv: argv.length > ARGV_MAX ? argv.slice(0, ARGV_MAX) : argv,
      startTime: same ? old.startTime : this.now(),
      used: false,
    });
    this.sweep();
  }

  /** A new process (fork, vfork, clone without CLONE_THREAD): it runs its parent's image. */
  onFork(parentTgid: number, childTgid: number, comm: string): void {
    const known = this.map.get(childTgid);
    // The child can run (even exec) before its parent's fork event is decoded: an entry made
    // within the linger period and not exited is the child itself, newer than the fork.
    if (known && !this.exited.has(childTgid) && this.now() - known.startTime < this.lingerMs) {
      known.ppid = parentTgid;
      return;
    }
    const p = this.get(parentTgid);
    this.put(childTgid, {
      tgid: childTgid, ppid: parentTgid, comm: p?.comm ?? comm, exe: p?.exe ?? "", argv: p?.argv ?? "",
      startTime: this.now(), used: false,
    });
    this.sweep();
  }

  /** The process is exiting: keep it resolvable for at least lingerMs, then drop it. */
  onExit(tgid: number): void {
    if (this.map.has(tgid)) this.exited.set(tgid, this.generation);
    this.sweep();
  }

  /** The cached entry, else one read of /proc (undefined when the process is gone). */
  get(tgid: number): ProcInfo | undefined {
    const hit = this.map.get(tgid);
    if (hit) {
      hit.used = true;
      return hit;
    }
    if (!(tgid > 0) || !Number.isInteger(tgid) || this.missing.has(tgid)) return undefined;
    const info = this.readProc(tgid);
    if (info) {
      this.stats.procReads++;
      this.put(tgid, info);
    } else {
      this.stats.procGone++;
      if (this.missing.size >= this.maxEntries) this.missing.clear();
      this.missing.set(tgid, this.generation);
    }
    this.sweep();
    return info;
  }

  /** The cached entry only: never reads /proc. */
  peek(tgid: number): ProcInfo | undefined {
    return this.map.get(tgid);
  }

  /** Elkeid's pid_tree, "pid.comm<ppid.comm<…<1.systemd", at most maxDepth links. */
  pidTree(tgid: number, maxDepth = PID_TREE_DEPTH): string {
    let out = "";
    let cur = tgid;
    for (let i = 0; i < maxDepth && cur > 0; i++) {
      const p = this.get(cur);
      if (!p) break;
      const link = (p.link ??= `${cur}.${p.comm}`);
      out = i === 0 ? link : out + "<" + link;
      if (cur === 1 || p.ppid === cur) break;
      cur = p.ppid;
    }
    return out;
  }

  /** Read one process from /proc: undefined if it is gone or its stat is unreadable. */
  readProc(tgid: number): ProcInfo | undefined {
    const dir = `${this.procRoot}/${tgid}`;
    let stat: string;
    try {
      stat = readFileSync(`${dir}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // "pid (comm) state ppid …": comm may itself hold spaces and parentheses.
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (open < 0 || close < open) return undefined;
    const rest = stat.slice(close + 2).split(" ");
    const ppid = Number(rest[1]);
    if (!Number.isInteger(ppid)) return undefined;
    const comm = stat.slice(open + 1, close);
    let exe = "";
    try {
      exe = readlinkSync(`${dir}/exe`);
    } catch {} // kernel threads have none; other processes' may be denied
    const ticks = Number(rest[STAT_STARTTIME]);
    const startTime = Number.isFinite(ticks) ? this.bootTimeMs() + (ticks * 1000) / USER_HZ : this.now();
    return { tgid, ppid, comm, exe, argv: this.readArgv(dir), startTime: Math.round(startTime), used: false };
  }

  private readArgv(dir: string): string {
    let fd: number;
    try {
      fd = openSync(`${dir}/cmdline`, "r");
    } catch {
      return "";
    }
    try {
      const n = readSync(fd, this.argvBuf, 0, ARGV_MAX, 0);
      let end = n;
      while (end > 0 && this.argvBuf[end - 1] === 0) end--;
      for (let i = 0; i < end; i++) if (this.argvBuf[i] === 0) this.argvBuf[i] = 0x20;
      const s = this.argvBuf.toString("utf8", 0, end);
      return s.length > ARGV_MAX ? s.slice(0, ARGV_MAX) : s;
    } catch {
      return "";
    } finally {
      closeSync(fd);
    }
  }

  /** Boot time in ms since the epoch, from /proc/uptime (else /proc/stat btime), read once. */
  private bootTimeMs(): number {
    if (this.bootMs >= 0) return this.bootMs;
    try {
      const up = Number(readFileSync(`${this.procRoot}/uptime`, "latin1").split(" ")[0]);
      if (Number.isFinite(up)) return (this.bootMs = Date.now() - up * 1000);
    } catch {}
    try {
      const m = /^btime (\d+)$/m.exec(readFileSync(`${this.procRoot}/stat`, "latin1"));
      if (m) return (this.bootMs = Number(m[1]) * 1000);
    } catch {}
    return (this.bootMs = 0);
  }

  private put(tgid: number, info: ProcInfo): void {
    if (this.map.size >= this.maxEntries && !this.map.has(tgid)) this.evictOne();
    this.map.delete(tgid); // re-insert at the young end
    this.map.set(tgid, info);
    this.exited.delete(tgid);
    this.missing.delete(tgid);
  }

  /** Drop the oldest entry not used since eviction last passed it (Map order = age). */
  private evictOne(): void {
    for (const [tgid, info] of this.map) {
      this.map.delete(tgid);
      if (info.used && !this.exited.has(tgid)) {
        info.used = false;
        this.map.set(tgid, info); // second chance: back to the young end
        continue;
      }
      if (!this.exited.delete(tgid)) this.stats.evictions++;
      return;
    }
  }

  /**
   * One pass per linger period: drop what exited (or was found gone) in an earlier
   * generation, then open a new one. An entry thus stays between one and two periods.
   */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.lingerMs) return;
    this.lastSweep = now;
    for (const [tgid, gen] of this.exited) {
      if (gen < this.generation) {
        this.map.delete(tgid);
        this.exited.delete(tgid);
      }
    }
    for (const [tgid, gen] of this.missing) if (gen < this.generation) this.missing.delete(tgid);
    this.generation++;
  }
}
