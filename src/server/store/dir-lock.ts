// One writer per store directory: a LOCK file holding the owner's pid, taken with O_EXCL. A
// lock left by a dead process (SIGKILL, crash) is taken over; a live owner is refused.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "LOCK";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Take the lock or throw naming the owner; returns a release function. */
export function lockDir(dir: string): () => void {
  const p = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(p, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(p);
        } catch {}
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(p, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new Error(`event store ${dir} is in use by process ${pid} (${p})`);
      unlinkSync(p); // stale: its owner is gone
    }
  }
  throw new Error(`cannot take the lock ${p}`);
}
