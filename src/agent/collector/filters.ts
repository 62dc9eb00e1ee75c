// User-space allow lists that the kernel cannot apply cheaply: path prefixes for file events
// and argv prefixes for exec events. (Exe allow list and rate limits run in the kernel.)
import type { EventSpec } from "./events/types.ts";

const PATH_FIELDS = ["file", "file_path", "old_name", "new_name", "ko_file"] as const;

export class UserFilter {
  constructor(private readonly opts: { paths: string[]; argv: string[] }) {}

  get active(): boolean {
    return this.opts.paths.length > 0 || this.opts.argv.length > 0;
  }

  drop(spec: EventSpec, f: Record<string, string>): boolean {
    if (this.opts.paths.length && spec.family === "file") {
      for (const k of PATH_FIELDS) {
        const v = f[k];
        if (v && this.opts.paths.some((p) => v.startsWith(p))) return true;
      }
    }
    if (this.opts.argv.length && spec.dt === 59) {
      const a = f.argv ?? "";
      if (this.opts.argv.some((p) => a.startsWith(p))) return true;
    }
    return false;
  }
}
