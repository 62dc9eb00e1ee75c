// The enricher: adds to each event what user space knows (exe, argv, username, exe hash,
// pid_tree, container id, pod name) from caches fed by the process events themselves, so a
// cached process costs no syscall. The decoder (../decode.ts) calls common() per event and
// onExec/onFork/onExit from the process family (../events/process.ts).
import { PID_TREE_DEPTH, ProcessCache } from "./process-cache.ts";
import { ExePathCache } from "./exe-path-cache.ts";
import { UserNames } from "./usernames.ts";
import { ExeHasher, UNKNOWN_HASH } from "./exe-hash.ts";
import { Containers, NO_CONTAINER } from "./container.ts";
import { execExtras } from "./exec-extras.ts";
import type { ContainerInfo } from "./container.ts";
import type { ExecExtras } from "./exec-extras.ts";

/** The header fields enrichment needs (bpf/events.h, struct vigil_hdr). */
export interface EventIdentity {
  pid: number;
  tgid: number;
  ppid: number;
  uid: number;
  exeIno: number;
  exeDev: number;
  cgroupId: bigint;
  comm: string;
}

export interface Enrichment {
  exe: string;
  argv: string;
  username: string;
  exe_hash: string;
  pid_tree: string;
  container_id: string;
  pod_name: string;
}

export interface EnricherOptions {
  procRoot?: string;
  /** The passwd file for user names (default /etc/passwd). */
  passwd?: string;
  /** Hash executables (sha256 of the first 32 MiB, cached): on by default. */
  hashes?: boolean;
  /** Most processes remembered (default 65536). */
  maxProcesses?: number;
  /** How long an exited process stays resolvable (default 5000 ms). */
  lingerMs?: number;
  /** cgroup v2 mount point (default: from mountinfo). */
  cgroupRoot?: string;
  /** cgroup v1 memory hierarchy mount point (default: from mountinfo). */
  memcgRoot?: string;
  /** Clock in ms (default Date.now); tests inject their own. */
  now?: () => number;
}

export interface EnricherStats {
  procReads: number;
  procGone: number;
  evictions: number;
  hashed: number;
  hashFailures: number;
}

export class Enricher {
  readonly procs: ProcessCache;
  readonly exePaths: ExePathCache;
  private readonly users: UserNames;
  private readonly hasher = new ExeHasher();
  private readonly containers: Containers;
  private readonly procRoot: string;
  private readonly hashes: boolean;

  constructor(opts: EnricherOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.hashes = opts.hashes !== false;
    const max = opts.maxProcesses;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
      throw new RangeError(`enricher: maxProcesses must be a positive integer, got ${max}`);
    }
    this.procs = new ProcessCache({ procRoot: this.procRoot, maxEntries: opts.maxProcesses, lingerMs: opts.lingerMs, now: opts.now });
    this.exePaths = new ExePathCache({ procRoot: this.procRoot });
    this.users = new UserNames({ path: opts.passwd, now: opts.now });
    this.containers = new Containers({ procRoot: this.procRoot, cgroupRoot: opts.cgroupRoot, memcgRoot: opts.memcgRoot });
  }

  /**
   * A successful execve. With the event's exe inode and device, the path is remembered too;
   * with the image's size, mtime and memory cgroup (the exec record has them), its hash and
   * container are found without a syscall when that binary or that cgroup was seen before.
   */
  onExec(tgid: number, ppid: number, exe: string, argv: string, comm: string, exeDev?: number, exeIno?: number,
    image?: { size: bigint; mtimeNs: bigint; memcgId: bigint }): void {
    this.procs.onExec(tgid, ppid, exe, argv, comm);
    if (exeIno && exeDev !== undefined) {
      this.exePaths.set(exeDev, exeIno, exe);
      const p = image && this.procs.peek(tgid);
      if (p) p.image = { exe: { dev: exeDev, ino: exeIno, size: image.size, mtimeNs: image.mtimeNs }, memcgId: image.memcgId };
    }
  }

  onFork(parentTgid: number, childTgid: number, comm: string): void {
    this.procs.onFork(parentTgid, childTgid, comm);
    // A fresh child runs its parent's image in its parent's cgroups: it starts with the
    // parent's resolved exe, hash and container instead of a stat and a /proc read of its own
    // (~35 us per fork). The header's inode and cgroup id still rule: if they differ at the
    // child's first event, it is resolved anew.
    const parent = this.procs.peek(parentTgid);
    const child = this.procs.peek(childTgid);
    if (parent && child && child.resolvedExe === undefined && child.exe === parent.exe && child.ppid === parentTgid) {
      child.exeIno = parent.exeIno;
      child.exeDev = parent.exeDev;
      child.resolvedExe = parent.resolvedExe;
      child.exeHash = parent.exeHash;
      child.cgroupId = parent.cgroupId;
      child.container = parent.container;
    }
  }

  onExit(tgid: number): void {
    this.procs.onExit(tgid);
  }

  /**
   * The enrichment of one event. Everything is memoised on the process's cache entry (exe per
   * header inode, its hash, pid_tree, container per cgroup id), so a known process costs a
   * few property reads and no syscall.
   */
  common(id: EventIdentity): Enrichment {
    const p = this.procs.get(id.tgid);
    let exe: string;
    let pidTree: string;
    let hash = "";
    let c: ContainerInfo;
    if (p) {
      if (p.resolvedExe === undefined || p.exeIno !== id.exeIno || p.exeDev !== id.exeDev) {
        p.exeIno = id.exeIno;
        p.exeDev = id.exeDev;
        // The header's inode names this event's executable even when an exec event was missed.
        p.resolvedExe = (id.exeIno ? this.exePaths.get(id.exeDev, id.exeIno, id.tgid) : "") || p.exe;
        p.exeHash = undefined;
      }
      exe = p.resolvedExe;
      pidTree = p.pidTree ??= this.procs.pidTree(id.tgid);
      // The exec's identity of the image applies while the header still names that inode.
      const img = p.image;
      const same = img !== undefined && img.exe.ino === id.exeIno && img.exe.dev === id.exeDev;
      if (this.hashes) hash = p.exeHash ??= same ? this.hasher.hashKnown(exe, img.exe) : this.hasher.hash(exe);
      if (p.container === undefined || p.cgroupId !== id.cgroupId) {
        p.cgroupId = id.cgroupId;
        p.container = this.containers.lookup(id.tgid, id.cgroupId, img?.memcgId);
      }
      c = p.container;
    } else {
      // Gone before we looked: what the header says, then its ancestors. Nothing is memoised.
      exe = id.exeIno ? this.exePaths.get(id.exeDev, id.exeIno) : "";
      const up = id.ppid > 0 && id.ppid !== id.tgid ? this.procs.pidTree(id.ppid, PID_TREE_DEPTH - 1) : "";
      pidTree = up ? `${id.tgid}.${id.comm}<${up}` : `${id.tgid}.${id.comm}`;
      if (this.hashes) hash = exe ? this.hasher.hash(exe) : UNKNOWN_HASH;
      c = id.cgroupId ? this.containers.lookup(id.tgid, id.cgroupId) : NO_CONTAINER;
    }
    return {
      exe,
      argv: p?.argv ?? "",
      username: this.users.name(id.uid),
      exe_hash: hash,
      pid_tree: pidTree,
      container_id: c.id,
      pod_name: c.pod,
    };
  }

  /** tty, stdin/stdout and their socket peer, LD_PRELOAD, SSH_CONNECTION of an execve (best effort). */
  execExtras(pid: number): ExecExtras {
    return execExtras(pid, { procRoot: this.procRoot });
  }

  stats(): EnricherStats {
    const s = this.procs.stats;
    return {
      procReads: s.procReads,
      procGone: s.procGone,
      evictions: s.evictions,
      hashed: this.hasher.stats.hashed,
      hashFailures: this.hasher.stats.failed,
    };
  }
}

export type { ProcInfo } from "./process-cache.ts";
export type { ContainerInfo } from "./container.ts";
export type { ExecExtras, SocketPeer } from "./exec-extras.ts";
