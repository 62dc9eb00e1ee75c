// Executable path → sha256 (hex) of its first 32 MiB, cached by (dev, ino, size, mtime).
// Never throws: anything that cannot be hashed gets UNKNOWN_HASH.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";

/**
 * "-3" is Elkeid's value for "could not be determined" (its driver plugin returns it for an
 * exe it cannot open or read, an unknown uid, an unreadable environ). Vigil uses it for a path
 * that is empty, missing, not a regular file, unreadable, or fails mid-read. Not cached, so a
 * file that becomes readable is hashed on a later call. (Elkeid hashes xxhash64 of 32 KiB;
 * Vigil's values are sha256 of up to 32 MiB, so the two never compare equal.)
 */
export const UNKNOWN_HASH = "-3";
export const HASH_LIMIT_BYTES = 32 << 20;
const CHUNK = 1 << 20;
const FAILED: Hashed = Object.freeze({ hex: UNKNOWN_HASH });

export interface ExeHasherOptions {
  /** Most files remembered (default 4096). */
  maxEntries?: number;
  /** Bytes hashed from the start of each file (default HASH_LIMIT_BYTES). */
  limitBytes?: number;
}

export interface ExeHasherStats {
  hashed: number;
  cached: number;
  failed: number;
}

/** An executable as the kernel saw it at exec (bpf/events/process.h: hdr exe_dev/exe_ino,
 * exe_size, exe_mtime_ns): dev is s_dev, ino the inode number's low 32 bits. */
export interface ExeIdentity {
  dev: number;
  ino: number;
  size: bigint;
  mtimeNs: bigint;
}

interface Hashed {
  hex: string;
  /** What was actually read (fstat of the opened file), when it was. */
  ino?: bigint;
  size?: bigint;
  mtimeNs?: bigint;
}

export class ExeHasher {
  readonly stats: ExeHasherStats = { hashed: 0, cached: 0, failed: 0 };
  private readonly cache = new Map<string, Hashed>();
  /** Kernel identity → hash, by inode number first (no key string to build per exec): an
   * exec of a known binary costs no stat(). */
  private readonly known = new Map<number, Array<{ id: ExeIdentity; hex: string }>>();
  private knownCount = 0;
  private readonly maxEntries: number;
  private readonly limit: number;
  private buf: Buffer | undefined;

  constructor(opts: ExeHasherOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4096;
    this.limit = opts.limitBytes ?? HASH_LIMIT_BYTES;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`exe hasher: maxEntries must be a positive integer, got ${opts.maxEntries}`);
    }
    if (!Number.isInteger(this.limit) || this.limit < 0) {
      throw new RangeError(`exe hasher: limitBytes must be a non-negative integer, got ${opts.limitBytes}`);
    }
  }

  /** sha256 hex of the first limitBytes of path, or UNKNOWN_HASH. One stat() when cached. */
  hash(path: string): string {
    return this.lookup(path).hex;
  }

  /**
   * The hash of the executable an exec event named: by its kernel identity without any
   * syscall when that identity was hashed before, else as hash(path). The identity is
   * remembered only when the file read had the same inode, size and mtime, so a binary
   * replaced between the exec and the read is never filed under the old identity.
   */
  hashKnown(path: string, id: ExeIdentity): string {
    const same = this.known.get(id.ino);
    if (same) {
      for (const k of same) {
        if (k.id.dev === id.dev && k.id.size === id.size && k.id.mtimeNs === id.mtimeNs) {
          this.stats.cached++;
          return k.hex;
        }
      }
    }
    const h = this.lookup(path);
    if (h.hex !== UNKNOWN_HASH && h.ino !== undefined && Number(h.ino & 0xffffffffn) === id.ino >>> 0 &&
        h.size === id.size && h.mtimeNs === id.mtimeNs) {
      if (this.knownCount >= this.maxEntries) {
        this.known.clear(); // rare (maxEntries distinct images): start over
        this.knownCount = 0;
      }
      const entry = { id: { ...id }, hex: h.hex };
      const list = this.known.get(id.ino);
      if (list) list.push(entry);
      else this.known.set(id.ino, [entry]);
      this.knownCount++;
    }
    return h.hex;
  }

  private lookup(path: string): Hashed {
    try {
      if (!path) return this.fail();
      const st = statSync(path, { bigint: true, throwIfNoEntry: false });
      if (!st || !st.isFile()) return this.fail();
      const hit = this.cache.get(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`);
      if (hit !== undefined) {
        this.stats.cached++;
        return hit;
      }
      return this.hashFile(path);
    } catch {
      return this.fail(); // e.g. a path holding a NUL byte
    }
  }

  private hashFile(path: string): Hashed {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO swapped in after the stat must not hang the event loop.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return this.fail();
    }
    try {
      const st = fstatSync(fd, { bigint: true }); // key by what was actually opened
      if (!st.isFile()) return this.fail();
      const buf = (this.buf ??= Buffer.allocUnsafe(CHUNK));
      const h = new Bun.CryptoHasher("sha256");
      let total = 0;
      while (total < this.limit) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, this.limit - total), total);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
        total += n;
      }
      const hashed: Hashed = { hex: h.digest("hex"), ino: st.ino, size: st.size, mtimeNs: st.mtimeNs };
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`, hashed);
      this.stats.hashed++;
      return hashed;
    } catch {
      return this.fail(); // EIO, EISDIR, … mid-read
    } finally {
      closeSync(fd);
    }
  }

  private fail(): Hashed {
    this.stats.failed++;
    return FAILED;
  }
}
