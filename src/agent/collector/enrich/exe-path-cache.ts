// Executable (exe_dev, exe_ino) from the event header → its path: filled from exec events and,
// on a miss, from /proc/<tgid>/exe (checked against the inode), so most events cost no syscall.
// The header side is bpf/lib/common.h (exe_ino = i_ino truncated to 32 bits, exe_dev = s_dev).
import { readlinkSync, statSync } from "node:fs";

export interface ExePathCacheOptions {
  procRoot?: string;
  /** Most (dev, ino) pairs kept (default 16384). */
  maxEntries?: number;
}

/** A stat() st_dev (user-space dev_t encoding) in the kernel's s_dev encoding (major << 20 | minor). */
export function kernelDev(statDev: number | bigint): number {
  const d = BigInt(statDev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return ((major << 20) | minor) >>> 0;
}

export class ExePathCache {
  /** dev → ino → path: two integer-keyed lookups, nothing allocated per event. */
  private readonly byDev = new Map<number, Map<number, string>>();
  private count = 0;
  private readonly procRoot: string;
  private readonly maxEntries: number;

  constructor(opts: ExePathCacheOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.maxEntries = opts.maxEntries ?? 16384;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`exe path cache: maxEntries must be a positive integer, got ${opts.maxEntries}`);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Record that (dev, ino) is path (from an exec event, which carries both). */
  set(dev: number, ino: number, path: string): void {
    if (!ino || !path) return;
    let inos = this.byDev.get(dev);
    if (!inos) this.byDev.set(dev, (inos = new Map()));
    if (!inos.has(ino)) {
      if (this.count >= this.maxEntries) this.evictOne();
      this.count++;
    }
    inos.set(ino, path);
  }

  /** The cached path only, or "". */
  peek(dev: number, ino: number): string {
    return this.byDev.get(dev)?.get(ino) ?? "";
  }

  /**
   * The path of (dev, ino); on a miss, when tgid is given, read /proc/<tgid>/exe once and keep
   * it if that file still has this inode (the process may have exec'd since). "" if unknown.
   */
  get(dev: number, ino: number, tgid?: number): string {
    const hit = this.byDev.get(dev)?.get(ino);
    if (hit !== undefined) return hit;
    if (!ino || tgid === undefined || !(tgid > 0)) return "";
    const link = `${this.procRoot}/${tgid}/exe`;
    try {
      const path = readlinkSync(link);
      // stat follows the magic link to the very file mapped, even when it was deleted. Only
      // the inode is compared: on overlayfs st_dev is the lower layer's, s_dev the overlay's.
      const st = statSync(link, { bigint: true });
      if (Number(st.ino & 0xffffffffn) !== ino >>> 0) return "";
      this.set(dev, ino, path);
      return path;
    } catch {
      return ""; // gone, a kernel thread, or not ours to read
    }
  }

  /** Drop the oldest path of the oldest device (Map order): FIFO is enough for this set. */
  private evictOne(): void {
    for (const [dev, inos] of this.byDev) {
      for (const ino of inos.keys()) {
        inos.delete(ino);
        this.count--;
        break;
      }
      if (inos.size === 0) this.byDev.delete(dev);
      return;
    }
  }
}
