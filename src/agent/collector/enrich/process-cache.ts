// What the agent knows about live processes (exe, argv, parent, comm), fed by exec/fork/exit
// events and filled from /proc on a miss. Bounded; exited processes linger a few seconds so
// their late events still resolve.
import { readFileSync, readlinkSync } from "node:fs";

export interface ProcInfo {
  tgid: number;
  ppid: number;
  comm: string;
  exe: string;
  argv: string;
  /** Filled lazily by the enricher (cached per process). */
  pidTree?: string;
  exeHash?: string;
}

const ARGV_MAX = 4096;

export class ProcessCache {
  private readonly map = new Map<number, ProcInfo>();
  /** tgid → the sweep generation in which it exited. */
  private readonly exited = new Map<number, number>();
  private generation = 0;
  private lastSweep = Date.now();

  constructor(private readonly opts: { procRoot?: string; maxEntries?: number; lingerMs?: number } = {}) {}

  private get procRoot(): string {
    return this.opts.procRoot ?? "/proc";
  }

  get size(): number {
    return this.map.size;
  }

  private put(info: ProcInfo): void {
    const max = this.opts.maxEntries ?? 65536;
    if (this.map.size >= max && !this.map.has(info.tgid)) {
      // Evict the oldest insertion (Map keeps insertion order).
      const first = this.map.keys().next().value;
      if (first !== undefined) this.map.delete(first);
    }
    this.map.delete(info.tgid);
    this.map.set(info.tgid, info);
    this.exited.delete(info.tgid);
  }

  onExec(tgid: number, ppid: number, exe: string, argv: string, comm: string): void {
    this.put({ tgid, ppid, comm, exe, argv: argv.slice(0, ARGV_MAX) });
  }

  onFork(parent: number, child: number, comm: string): void {
    const p = this.get(parent);
    this.put({ tgid: child, ppid: parent, comm: p?.comm ?? comm, exe: p?.exe ?? "", argv: p?.argv ?? "" });
  }

  onExit(tgid: number): void {
    if (this.map.has(tgid)) this.exited.set(tgid, this.generation);
    this.sweep();
  }

  /** Drop processes that exited at least one linger period ago (one pass per period). */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < (this.opts.lingerMs ?? 5000)) return;
    this.lastSweep = now;
    for (const [tgid, gen] of this.exited) {
      if (gen < this.generation) {
        this.map.delete(tgid);
        this.exited.delete(tgid);
      }
    }
    this.generation++;
  }

  /** The cached entry, else one read from /proc (undefined when the process is gone). */
  get(tgid: number): ProcInfo | undefined {
    const hit = this.map.get(tgid);
    if (hit) return hit;
    const info = this.readProc(tgid);
    if (info) this.put(info);
    return info;
  }

  peek(tgid: number): ProcInfo | undefined {
    return this.map.get(tgid);
  }

  readProc(tgid: number): ProcInfo | undefined {
    const dir = `${this.procRoot}/${tgid}`;
    let stat: string;
    try {
      stat = readFileSync(`${dir}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // pid (comm) state ppid ... — comm may contain spaces and parentheses.
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(open + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    let exe = "";
    try {
      exe = readlinkSync(`${dir}/exe`);
    } catch {}
    let argv = "";
    try {
      argv = readFileSync(`${dir}/cmdline`).toString("utf8", 0, ARGV_MAX).replace(/\0+$/, "").replaceAll("\0", " ");
    } catch {}
    return { tgid, ppid, comm, exe, argv };
  }

  /** Elkeid's pid_tree: "pid.comm<ppid.comm<…", newest first, at most maxDepth links. */
  pidTree(tgid: number, maxDepth = 12): string {
    const parts: string[] = [];
    let cur = tgid;
    for (let i = 0; i < maxDepth && cur > 0; i++) {
      const p = this.get(cur);
      if (!p) break;
      parts.push(`${cur}.${p.comm}`);
      if (p.ppid === cur) break;
      cur = p.ppid;
    }
    return parts.join("<");
  }
}
