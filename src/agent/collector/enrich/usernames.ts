// uid → user name from /etc/passwd, reloaded when the file changes (checked at most once a second).
import { readFileSync, statSync } from "node:fs";

export interface UserNamesOptions {
  /** The passwd file (default /etc/passwd). */
  path?: string;
  /** Least time between two checks of the file (default 1000 ms). */
  recheckMs?: number;
  /** Clock in ms (default Date.now); tests inject their own. */
  now?: () => number;
}

/** uid → name from passwd text; the first line for a uid wins (as getpwuid does). */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#" || line[0] === "+" || line[0] === "-") continue; // NIS markers
    const f = line.split(":");
    const name = f[0];
    const uid = f[2];
    if (!name || uid === undefined || !/^\d{1,10}$/.test(uid)) continue;
    const n = Number(uid);
    if (n <= 0xffffffff && !names.has(n)) names.set(n, name);
  }
  return names;
}

export class UserNames {
  private names = new Map<number, string>();
  /** mtime, size and inode of the file last loaded ("" before the first load). */
  private version = "";
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly path: string;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(opts: UserNamesOptions = {}) {
    this.path = opts.path ?? "/etc/passwd";
    this.recheckMs = opts.recheckMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The name of uid, or "" when unknown. */
  name(uid: number): string {
    const now = this.now();
    if (now - this.checkedAt >= this.recheckMs) {
      this.checkedAt = now;
      this.reload();
    }
    return this.names.get(uid) ?? "";
  }

  private reload(): void {
    try {
      const st = statSync(this.path);
      const version = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (version === this.version) return;
      this.names = parsePasswd(readFileSync(this.path, "utf8"));
      this.version = version;
    } catch {
      // Missing or unreadable: keep the last good table (or none); retry at the next check.
    }
  }
}
