// ExePathCache: (dev, ino) → path from exec events and from the real /proc/<pid>/exe.
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { ExePathCache, kernelDev } from "./exe-path-cache.ts";
import { sleepBin, spawnSleeper } from "./test-support.ts";

/** What the BPF header would carry for this file. */
function headerIds(path: string): { dev: number; ino: number } {
  const st = statSync(path, { bigint: true });
  return { dev: kernelDev(st.dev), ino: Number(st.ino & 0xffffffffn) };
}

describe("ExePathCache", () => {
  test("kernelDev turns user-space dev_t into major << 20 | minor", () => {
    expect(kernelDev(0x0801)).toBe((8 << 20) | 1); // sda1
    expect(kernelDev(0x10300)).toBe((259 << 20) | 0); // nvme0n1: major 259
    expect(kernelDev(0x110301n)).toBe((259 << 20) | 0x101); // minor 257 spills into bits 20+
    expect(kernelDev(0)).toBe(0);
  });

  test("filled from an exec event, then a hit without any /proc read", () => {
    const c = new ExePathCache({ procRoot: "/nonexistent" });
    c.set(42, 7, "/usr/bin/x");
    expect(c.get(42, 7, 12345)).toBe("/usr/bin/x");
    expect(c.get(42, 8, 12345)).toBe(""); // unknown, and /proc has nothing
    expect(c.get(43, 7)).toBe("");
    expect(c.size).toBe(1);
  });

  test("a miss is answered from the real /proc/<pid>/exe and kept", async () => {
    await using child = await spawnSleeper(["sleep", "30"]);
    const { dev, ino } = headerIds(sleepBin);
    const c = new ExePathCache();
    expect(c.get(dev, ino, child.pid)).toBe(sleepBin);
    expect(c.peek(dev, ino)).toBe(sleepBin);
    // Kept: resolves later without the process.
    await child[Symbol.asyncDispose]();
    expect(c.get(dev, ino, child.pid)).toBe(sleepBin);
  });

  test("a process now running another inode is not taken for this one", async () => {
    await using child = await spawnSleeper(["sleep", "30"]);
    const c = new ExePathCache();
    const { dev, ino } = headerIds(sleepBin);
    expect(c.get(dev, (ino + 1) >>> 0, child.pid)).toBe("");
    expect(c.size).toBe(0);
  });

  test("bad input: a pid that does not exist, no pid, inode 0", () => {
    const c = new ExePathCache();
    expect(c.get(1, 2, 2 ** 30)).toBe("");
    expect(c.get(1, 2, -5)).toBe("");
    expect(c.get(1, 2)).toBe("");
    c.set(1, 0, "/ignored");
    expect(c.get(1, 0, process.pid)).toBe("");
    expect(c.size).toBe(0);
  });

  test("bounded", () => {
    const c = new ExePathCache({ maxEntries: 4 });
    for (let i = 1; i <= 10; i++) c.set(i % 3, i, `/bin/${i}`);
    expect(c.size).toBe(4);
    expect(c.peek(10 % 3, 10)).toBe("/bin/10");
    expect(() => new ExePathCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
