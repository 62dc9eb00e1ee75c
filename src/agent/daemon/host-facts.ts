// Host and agent-process facts for the heartbeat, read from /proc and /sys (Elkeid's field
// names, DESIGN.md "Heartbeat"). Static facts are read once; usage figures are rates between
// two samples (ProcessSampler).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { arch as osArch, cpus, release } from "node:os";
import { join } from "node:path";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function osRelease(text = read("/etc/os-release")): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) r[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return r;
}

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ia32: "i386" };

/** Facts that do not change while the agent runs. */
export function staticFacts(): Record<string, string> {
  const os = osRelease();
  const stat = read("/proc/stat");
  const btime = /^btime (\d+)/m.exec(stat)?.[1] ?? "";
  return {
    kernel_version: release(),
    arch: ARCH[osArch()] ?? osArch(),
    platform: os.ID ?? "linux",
    platform_family: (os.ID_LIKE ?? os.ID ?? "").split(" ")[0],
    platform_version: os.VERSION_ID ?? "",
    host_serial: read("/sys/class/dmi/id/product_serial").trim(),
    host_id: read("/sys/class/dmi/id/product_uuid").trim(),
    host_model: read("/sys/class/dmi/id/product_name").trim(),
    host_vendor: read("/sys/class/dmi/id/sys_vendor").trim(),
    cpu_name: /^model name\s*:\s*(.+)$/m.exec(read("/proc/cpuinfo"))?.[1]?.trim() ?? cpus()[0]?.model ?? "",
    boot_time: btime,
    nproc: String(cpus().length),
  };
}

/** Name servers from /etc/resolv.conf, comma-joined. */
export function dnsServers(text = read("/etc/resolv.conf")): string {
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]).join(",");
}

/** The default route's gateway from /proc/net/route (little-endian hex). */
export function defaultGateway(text = read("/proc/net/route")): string {
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 2 && f[1] === "00000000" && f[2] !== "00000000") {
      const n = parseInt(f[2], 16);
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join(".");
    }
  }
  return "";
}

export function memInfo(text = read("/proc/meminfo")): { total: number; available: number } {
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { total: kb("MemTotal"), available: kb("MemAvailable") };
}

/** load_1/5/15, running_procs and total_procs from /proc/loadavg. */
export function loadAvg(text = read("/proc/loadavg")): Record<string, string> {
  const [l1, l5, l15, procs] = text.trim().split(/\s+/);
  const [running, total] = (procs ?? "0/0").split("/");
  return { load_1: l1 ?? "0", load_5: l5 ?? "0", load_15: l15 ?? "0", running_procs: running, total_procs: total };
}

/** Total and idle jiffies of all CPUs (first line of /proc/stat). */
export function cpuTimes(text = read("/proc/stat")): { total: number; idle: number } {
  const f = (/^cpu\s+(.+)$/m.exec(text)?.[1] ?? "").trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
  return { total, idle: (f[3] || 0) + (f[4] || 0) };
}

/** This process: utime+stime jiffies, rss bytes, start time (jiffies after boot). */
export function selfStat(text = read("/proc/self/stat")): { cpu: number; rss: number; startTicks: number } {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields after "(comm)": state=0 ... utime=11 stime=12 starttime=19 rss=21 (pages)
  return { cpu: Number(rest[11]) + Number(rest[12]), rss: Number(rest[21]) * 4096, startTicks: Number(rest[19]) };
}

export function selfIo(text = read("/proc/self/io")): { read: number; write: number } {
  const v = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { read: v("read_bytes"), write: v("write_bytes") };
}

export function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

/** Bytes used by the files under dir (not following links; a bounded walk). */
export function diskUsage(dir: string, limit = 10_000): number {
  let n = 0, seen = 0;
  const walk = (d: string) => {
    let names: string[];
    try { names = readdirSync(d); } catch { return; }
    for (const name of names) {
      if (++seen > limit) return;
      const p = join(d, name);
      try {
        const s = statSync(p, { throwIfNoEntry: false });
        if (!s) continue;
        if (s.isDirectory()) walk(p);
        else n += s.blocks * 512;
      } catch {}
    }
  };
  walk(dir);
  return n;
}

const CLK_TCK = 100; // USER_HZ on every Linux architecture Vigil builds for

/** Rates between successive samples: agent CPU %, I/O speeds, host CPU usage. */
export class ProcessSampler {
  private last = { at: performance.now(), self: selfStat(), io: selfIo(), cpu: cpuTimes() };

  sample(): Record<string, string> {
    const now = { at: performance.now(), self: selfStat(), io: selfIo(), cpu: cpuTimes() };
    const secs = Math.max(0.001, (now.at - this.last.at) / 1000);
    const cpuSecs = (now.self.cpu - this.last.self.cpu) / CLK_TCK;
    const hostTotal = now.cpu.total - this.last.cpu.total;
    const hostIdle = now.cpu.idle - this.last.cpu.idle;
    const mem = memInfo();
    const btime = Number(/^btime (\d+)/m.exec(read("/proc/stat"))?.[1] ?? 0);
    const r = {
      cpu: (cpuSecs / secs / cpus().length).toFixed(6),
      rss: String(now.self.rss),
      read_speed: ((now.io.read - this.last.io.read) / secs).toFixed(2),
      write_speed: ((now.io.write - this.last.io.write) / secs).toFixed(2),
      pid: String(process.pid),
      nfd: String(openFds()),
      start_time: String(btime + Math.floor(now.self.startTicks / CLK_TCK)),
      total_mem: String(mem.total),
      cpu_usage: hostTotal > 0 ? ((hostTotal - hostIdle) / hostTotal).toFixed(6) : "0",
      mem_usage: mem.total > 0 ? ((mem.total - mem.available) / mem.total).toFixed(6) : "0",
      ...loadAvg(),
      dns: dnsServers(),
      gateway: defaultGateway(),
    };
    this.last = now;
    return r;
  }
}
