// Executable → sha256 (hex) of its first 32 MiB, cached by (dev, ino, size, mtime).
// Unreadable files get "-3", the value Elkeid uses for "could not hash".
import { openSync, readSync, closeSync, fstatSync } from "node:fs";

export const UNHASHABLE = "-3";
const LIMIT = 32 << 20;

export class ExeHasher {
  private readonly cache = new Map<string, string>();
  constructor(private readonly maxEntries = 4096) {}

  hash(path: string): string {
    if (!path) return UNHASHABLE;
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      return UNHASHABLE;
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      const hit = this.cache.get(key);
      if (hit) return hit;
      const h = new Bun.CryptoHasher("sha256");
      const buf = Buffer.allocUnsafe(1 << 20);
      let total = 0;
      while (total < LIMIT) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        total += n;
      }
      const hex = h.digest("hex");
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, hex);
      return hex;
    } catch {
      return UNHASHABLE;
    } finally {
      closeSync(fd);
    }
  }
}
