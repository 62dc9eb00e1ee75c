// Component files under <dataDir>/components, named by their sha256 (content-addressed; written
// to a temporary name and renamed, so a reader never sees a partial file).
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ComponentFiles {
  readonly dir: string;
  /** store the bytes; returns their sha256 and the file's path */
  put(bytes: Uint8Array): { sha256: string; path: string };
  remove(path: string): void;
}

export function createComponentFiles(o: { dataDir: string }): ComponentFiles {
  const dir = join(o.dataDir, "components");
  return {
    dir,
    put(bytes) {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const path = join(dir, sha256);
      const tmp = join(dir, `.${sha256}.${randomBytes(4).toString("hex")}.tmp`);
      writeFileSync(tmp, bytes, { mode: 0o640 });
      renameSync(tmp, path);
      return { sha256, path };
    },
    remove(path) {
      try {
        unlinkSync(path);
      } catch {}
    },
  };
}
