// uid → user name from /etc/passwd, reloaded when the file changes (checked at most once a second).
import { readFileSync, statSync } from "node:fs";

export class UserNames {
  private names = new Map<number, string>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(private readonly path = "/etc/passwd") {}

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 1000 && this.mtimeMs >= 0) return;
    this.checkedAt = now;
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.mtimeMs) return;
    this.mtimeMs = mtime;
    const next = new Map<number, string>();
    try {
      for (const line of readFileSync(this.path, "utf8").split("\n")) {
        const [name, , uid] = line.split(":");
        if (name && uid !== undefined && /^\d+$/.test(uid) && !next.has(Number(uid))) next.set(Number(uid), name);
      }
    } catch {
      return;
    }
    this.names = next;
  }

  /** The name of uid, or "" when unknown. */
  name(uid: number): string {
    this.refresh();
    return this.names.get(uid) ?? "";
  }
}
