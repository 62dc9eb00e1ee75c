// ExeHasher: sha256 of real files (first 32 MiB), cache keyed by (dev, ino, size, mtime),
// and "-3" for whatever cannot be hashed, without throwing or blocking.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync, closeSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { ExeHasher, HASH_LIMIT_BYTES, UNKNOWN_HASH } from "./exe-hash.ts";
import { kernelDev } from "./exe-path-cache.ts";
import { asNobody, canDropToNobody, isRoot, sleepBin, tempDir } from "./test-support.ts";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("ExeHasher", () => {
  test("a real executable: sha256 of its bytes", () => {
    const h = new ExeHasher();
    expect(h.hash(sleepBin)).toBe(sha256(readFileSync(sleepBin)));
    expect(h.hash("/bin/sleep")).toBe(sha256(readFileSync(sleepBin))); // through a symlink too
    expect(h.stats).toMatchObject({ hashed: 1, cached: 1 });
  });

  test("cached by (dev, ino, size, mtime): same key → cached value, new mtime → rehashed", () => {
    using d = tempDir();
    const f = join(d.path, "bin");
    writeFileSync(f, "hello");
    utimesSync(f, 1000, 1000);
    const h = new ExeHasher();
    const hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    expect(h.hash(f)).toBe(hello);
    writeFileSync(f, "jello"); // same size...
    utimesSync(f, 1000, 1000); // ...and same mtime: the key says unchanged
    expect(h.hash(f)).toBe(hello);
    utimesSync(f, 2000, 2000);
    expect(h.hash(f)).toBe(sha256(Buffer.from("jello")));
    writeFileSync(f, "hello!"); // size changes
    utimesSync(f, 2000, 2000);
    expect(h.hash(f)).toBe(sha256(Buffer.from("hello!")));
  });

  test("only the first 32 MiB are hashed", () => {
    using d = tempDir();
    const f = join(d.path, "big");
    const fd = openSync(f, "w");
    writeSync(fd, Buffer.from("tail"), 0, 4, HASH_LIMIT_BYTES + 100); // sparse: zeros, then "tail"
    closeSync(fd);
    expect(new ExeHasher().hash(f)).toBe(sha256(new Uint8Array(HASH_LIMIT_BYTES)));
    expect(new ExeHasher({ limitBytes: 0 }).hash(f)).toBe(sha256(new Uint8Array(0)));
  });

  test("bad input gives -3, never an exception, never a hang", () => {
    using d = tempDir();
    const h = new ExeHasher();
    expect(UNKNOWN_HASH).toBe("-3");
    expect(h.hash("")).toBe("-3");
    expect(h.hash(join(d.path, "missing"))).toBe("-3");
    expect(h.hash(d.path)).toBe("-3"); // a directory
    expect(h.hash("/dev/null")).toBe("-3"); // a device
    expect(h.hash("bad\0path")).toBe("-3");
    // /proc/self/mem is a regular file that even root cannot read at offset 0 (EIO).
    expect(h.hash("/proc/self/mem")).toBe("-3");
    const fifo = join(d.path, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    expect(h.hash(fifo)).toBe("-3"); // would block a plain open
    expect(h.stats.failed).toBe(7);
  });

  test.skipIf(isRoot && !canDropToNobody)("a file without read permission gives -3 (checked as nobody when root)", () => {
    using d = tempDir();
    chmodSync(d.path, 0o755);
    const f = join(d.path, "secret");
    writeFileSync(f, "x");
    chmodSync(f, 0);
    if (!isRoot) expect(new ExeHasher().hash(f)).toBe("-3");
    else {
      const mod = JSON.stringify(join(import.meta.dir, "exe-hash.ts"));
      expect(asNobody(`import { ExeHasher } from ${mod}; console.log(new ExeHasher().hash(${JSON.stringify(f)}))`)).toBe("-3");
      expect(asNobody(`import { ExeHasher } from ${mod}; console.log(new ExeHasher().hash(${JSON.stringify(sleepBin)}))`)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test("failures are not cached: a file that appears is hashed", () => {
    using d = tempDir();
    const f = join(d.path, "later");
    const h = new ExeHasher();
    expect(h.hash(f)).toBe("-3");
    writeFileSync(f, "hello");
    expect(h.hash(f)).toBe("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  });

  test("hashKnown: an identity the kernel gave is answered without touching the file again", () => {
    using d = tempDir();
    const f = join(d.path, "bin");
    writeFileSync(f, "hello");
    const st = statSync(f, { bigint: true });
    const id = { dev: kernelDev(st.dev), ino: Number(st.ino & 0xffffffffn), size: st.size, mtimeNs: st.mtimeNs };
    const h = new ExeHasher();
    const hello = sha256(Buffer.from("hello"));
    expect(h.hashKnown(f, id)).toBe(hello);
    unlinkSync(f); // a later exec of the same image: no stat, no open
    expect(h.hashKnown(f, id)).toBe(hello);
    expect(h.stats).toMatchObject({ hashed: 1, cached: 1 });
    // Another identity for that path reads the path again (which is gone now).
    expect(h.hashKnown(f, { ...id, mtimeNs: id.mtimeNs + 1n })).toBe("-3");
  });

  test("hashKnown never files a file under an identity it does not have (replaced after the exec)", () => {
    using d = tempDir();
    const f = join(d.path, "bin");
    writeFileSync(f, "old!");
    const st = statSync(f, { bigint: true });
    const id = { dev: kernelDev(st.dev), ino: Number(st.ino & 0xffffffffn), size: st.size, mtimeNs: st.mtimeNs };
    // The exec'd image was replaced (new inode) before user space read the path.
    renameSync(f, join(d.path, "gone"));
    writeFileSync(f, "new!");
    utimesSync(f, 5, 5);
    const h = new ExeHasher();
    expect(h.hashKnown(f, id)).toBe(sha256(Buffer.from("new!"))); // what the path holds now...
    rmSync(f);
    expect(h.hashKnown(f, id)).toBe("-3"); // ...was not remembered as the old image's hash
    // A size or mtime that disagrees with the file read is not remembered either.
    writeFileSync(f, "abc");
    const s2 = statSync(f, { bigint: true });
    const id2 = { dev: kernelDev(s2.dev), ino: Number(s2.ino & 0xffffffffn), size: s2.size + 1n, mtimeNs: s2.mtimeNs };
    expect(h.hashKnown(f, id2)).toBe(sha256(Buffer.from("abc")));
    rmSync(f);
    expect(h.hashKnown(f, id2)).toBe("-3");
  });

  test("bounded, and bad options fail at construction", () => {
    using d = tempDir();
    const h = new ExeHasher({ maxEntries: 2 });
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(d.path, `f${i}`), `content ${i}`);
      h.hash(join(d.path, `f${i}`));
    }
    h.hash(join(d.path, "f0")); // evicted: hashed again
    expect(h.stats.hashed).toBe(6);
    expect(() => new ExeHasher({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new ExeHasher({ limitBytes: -1 })).toThrow(/limitBytes/);
  });
});
